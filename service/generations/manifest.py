"""A generation's `manifest.json`: what was built, how, from what, and with which settings.

One typed record, written by the builder and read by everything that needs to know about a
generation (the recommender, incremental builds, `GET /index`). A manifest of another format is
refused before any field is read, with a message that says to rebuild.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from importlib import metadata
from typing import Any

from service.errors import IndexMismatch
from service.generations.checksums import FileDigest

GENERATION_FORMAT = 7
"""Bumped whenever a generation's files or manifest change; a server refuses other formats."""


@dataclass(frozen=True)
class Fit:
    """When the lexical models and statistics basis were fitted, on how many rows, and how many
    articles changed since (incremental builds keep them frozen until a refit)."""

    built_at: str
    rows: int
    changed_since: int = 0


@dataclass(frozen=True)
class Ranking:
    """How the lists were ranked, for people reading the manifest (the fingerprint decides)."""

    method: str
    version: int
    signals: list[str]
    weights: dict[str, float]
    candidates: int
    duplicate_floor: float
    vocabulary: dict[str, int]
    """Terms in each sparse signal's vocabulary."""
    chrome: int = 0
    """Lines and sentences found to be site chrome and left out of every text."""
    profile: str | None = None
    """The ranking profile (`related tune`) the lists were ranked with; None: the defaults."""


@dataclass(frozen=True)
class Manifest:
    format: int
    generation: str
    encoder: str
    """The encoder's identity (model and sequence length): vectors of another one don't mix."""
    model: str
    dimension: int
    count: int
    index_kind: str
    index_retired: int
    exact: bool
    neighbours: int
    store_revision: int
    """The store revision the build read: later writes are 'changed since the build'."""
    built_at: str
    mode: str
    """'full' or 'incremental'."""
    full_because: str | None
    lists_recomputed: int
    encoded: int
    reused: int
    fit: Fit
    fingerprint: dict[str, Any]
    """Everything that shapes the lists: a build whose fingerprint differs must be full."""
    ranking: Ranking
    settings: dict[str, Any]
    versions: dict[str, str] = field(default_factory=dict)
    files: dict[str, FileDigest] = field(default_factory=dict)
    """Size and sha256 of every other file of the generation, checked by replicas (empty in
    generations written before checksums were recorded)."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2)

    @classmethod
    def from_json(cls, data: Any, *, where: str) -> Manifest:
        """The manifest in `data`; IndexMismatch for another format, ValueError if damaged."""
        if not isinstance(data, dict):
            raise ValueError(f"{where}: the manifest is not a JSON object")
        if data.get("format") != GENERATION_FORMAT:
            raise IndexMismatch(
                f"Index generation {where} was written by another version of related-articles "
                f"(format {data.get('format')}, this one reads {GENERATION_FORMAT}): "
                "rebuild the index (`related build`)"
            )
        try:
            values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
            values["fit"] = Fit(**data["fit"])
            values["ranking"] = Ranking(**data["ranking"])
            values["files"] = {
                name: FileDigest(**digest) for name, digest in data.get("files", {}).items()
            }
            return cls(**values)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{where}: the manifest is incomplete ({exc})") from None


def library_versions() -> dict[str, str]:
    versions = {}
    for package in ("faiss-cpu", "numpy", "sentence-transformers", "torch", "transformers"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions
