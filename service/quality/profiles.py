"""Ranking profiles: what `related tune` learned from a site's curated links, and which is active.

    <data-dir>/profiles/
        CURRENT                   name of the active profile (absent: the defaults)
        20261126T101500123456Z.json  one learned profile, never modified once written

A profile holds a weight per signal and, for the popularity prior, how often editors linked
each article when it was learned (frozen: new links count at the next `related tune`). The next
build uses the active profile (a full build: the profile is part of the fingerprint), and the
manifest and `GET /index` name it. `related tune --reset` makes the defaults active again.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from embeddings.signals import RANKING_VERSION, Weights
from service.disk.atomic import atomic_write_text
from service.errors import ConfigError

DIRECTORY = "profiles"
POINTER = "CURRENT"


@dataclass(frozen=True)
class Profile:
    name: str
    weights: dict[str, float]
    popularity: dict[str, int] = field(default_factory=dict)
    """Article id -> how many curated lists linked it when the profile was learned."""
    learned: dict[str, Any] = field(default_factory=dict)
    """How it was learned: links, sources, folds, out-of-fold figures, time, ranking version."""

    def ranking_weights(self) -> Weights:
        return Weights(self.weights)

    def popularity_of(self, article_id: str) -> float:
        """The popularity prior of an article: log(1 + times linked)."""
        return math.log1p(self.popularity.get(article_id, 0))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def new_profile_name() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def save_profile(data_dir: Path, profile: Profile) -> Path:
    """Write `profile` and make it the active one (each step atomic)."""
    directory = data_dir / DIRECTORY
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{profile.name}.json"
    atomic_write_text(path, json.dumps(profile.to_json(), indent=2))
    atomic_write_text(directory / POINTER, profile.name + "\n")
    return path


def reset_profile(data_dir: Path) -> str | None:
    """Make the defaults active again; return the name of the profile that was active."""
    pointer = data_dir / DIRECTORY / POINTER
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    pointer.unlink()
    return name or None


def active_profile(data_dir: Path) -> Profile | None:
    """The profile builds use, or None for the defaults."""
    directory = data_dir / DIRECTORY
    try:
        name = (directory / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return load_profile(data_dir, name)


def load_profile(data_dir: Path, name: str) -> Profile:
    """The profile saved as `name` (refused when unreadable or of another ranking version)."""
    path = data_dir / DIRECTORY / f"{name}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        profile = Profile(**data)
        Weights(profile.weights)  # refuses signals this version doesn't know
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(
            f"The active ranking profile {path} can't be read ({exc}): run `related tune` "
            "again, or `related tune --reset` for the defaults"
        ) from None
    if profile.learned.get("ranking_version") != RANKING_VERSION:
        raise ConfigError(
            f"The active ranking profile {name} was learned for ranking version "
            f"{profile.learned.get('ranking_version')}, this one is {RANKING_VERSION}: run "
            "`related tune` again, or `related tune --reset` for the defaults"
        )
    return profile
