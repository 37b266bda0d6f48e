"""The sample corpus shipped with the package: 66 news articles and their curated links."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def sample_path(name: str) -> Path:
    """A file of the sample (articles.jsonl, related.jsonl)."""
    return Path(str(resources.files("service.sample") / name))
