"""Shared fixtures.

- `encoder`: the real packaged model, loaded once per test session.
- `counting_encoder`: the real model behind a wrapper that counts what it encodes (injected
  through the Encoder interface, the one seam where tests substitute anything).
- `sample_dir`: a data directory with the bundled sample ingested and built, shared read-only.
- `settings_for`: Settings for a fresh data directory under tmp_path.
- `start_server`: a real `related serve` process on a free loopback port.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from bench.common import start_server as start_related_server
from embeddings.encoder import SentenceTransformerEncoder
from service.builder import build
from service.cli import sample_path
from service.config import Settings, load_settings
from service.ingest import ingest
from service.readers import read_records
from service.store import ArticleStore

SAMPLE_ARTICLES = sample_path("articles.jsonl")
SAMPLE_RELATED = sample_path("related.jsonl")


class CountingEncoder:
    """Wraps an encoder and records every text it was asked to encode."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.texts: list[str] = []

    @property
    def identity(self) -> str:
        return str(self.inner.identity)

    @property
    def dimension(self) -> int:
        return int(self.inner.dimension)

    def encode(self, texts: Sequence[str], *, progress: Any = None) -> npt.NDArray[np.float32]:
        self.texts.extend(texts)
        result: npt.NDArray[np.float32] = self.inner.encode(texts, progress=progress)
        return result


def load_sample_articles() -> list[dict[str, Any]]:
    return [json.loads(line) for line in SAMPLE_ARTICLES.read_text().splitlines() if line.strip()]


def load_sample_related() -> dict[str, list[str]]:
    rows = [json.loads(line) for line in SAMPLE_RELATED.read_text().splitlines() if line.strip()]
    return {row["id"]: row["related"] for row in rows}


@pytest.fixture(scope="session")
def encoder() -> SentenceTransformerEncoder:
    model = SentenceTransformerEncoder()
    model.warm_up()
    return model


@pytest.fixture
def counting_encoder(encoder: SentenceTransformerEncoder) -> CountingEncoder:
    return CountingEncoder(encoder)


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    # Ignore the caller's RELATED_* variables: tests must not depend on the developer's shell.
    return load_settings(environ={}, data_dir=data_dir, preload_model=False, **overrides)


@pytest.fixture
def settings_for(tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        return make_settings(tmp_path / "data", **overrides)

    return make


def ingest_file(settings: Settings, path: Path = SAMPLE_ARTICLES) -> None:
    with ArticleStore(settings.db_path) as store:
        ingest(store, read_records(path))


@pytest.fixture(scope="session")
def sample_dir(
    tmp_path_factory: pytest.TempPathFactory, encoder: SentenceTransformerEncoder
) -> Path:
    """A built sample data directory. Tests that change data copy it first (`sample_copy`)."""
    settings = make_settings(tmp_path_factory.mktemp("sample") / "data")
    ingest_file(settings)
    # Closed before tests copy the directory: a connection closed by the garbage collector
    # would delete the WAL files in the middle of a copy.
    with ArticleStore(settings.db_path) as store:
        build(settings, store, encoder)
    return settings.data_dir


@pytest.fixture
def sample_copy(sample_dir: Path, tmp_path: Path) -> Settings:
    """A private, writable copy of the built sample data directory."""
    target = tmp_path / "data"
    shutil.copytree(sample_dir, target, ignore=shutil.ignore_patterns("build.lock"))
    return make_settings(target)


class Server:
    def __init__(self, process: subprocess.Popen[bytes], base: str, log: Path) -> None:
        self.process = process
        self.base = base
        self.log = log

    def url(self, path: str) -> str:
        return self.base + path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(data_dir: Path, *, workers: int = 2, env: dict[str, str] | None = None) -> Server:
        log = tmp_path / f"server-{len(servers)}.log"
        process, base = start_related_server(
            data_dir, workers=workers, preload_model=True, log=log, env=env
        )
        server = Server(process, base, log)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
