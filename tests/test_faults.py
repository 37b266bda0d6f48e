"""Faults (`service.store.base`, `service.generations.generation`, `service.build.rebuild`): a full disk gets a
clear 507 and cleans up after itself, rebuild requests never fail each other, and the
write-ahead log shrinks back while the store stays open."""

from __future__ import annotations

import errno
import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

import service.generations.generation
from embeddings.hashing import HashingEncoder
from service.build.builder import build
from service.build.state import read_status
from service.config.settings import Settings
from service.errors import StorageFull
from service.generations.generation import TMP_PREFIX
from service.ingest.load import ingest
from service.store import ArticleStore
from service.store import base as store_base
from service.web.app import create_app
from tests.conftest import HEATWAVE, wait_until_idle


def fill_the_disk(client: FlaskClient) -> None:
    """Let the store's file grow no further: SQLite then fails as on a full disk."""
    store = client.application.extensions["related"].store
    conn = store._connection()  # the test client runs requests on this thread
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")


def test_a_write_on_a_full_disk_is_507_and_stores_nothing(
    settings: Settings, hashing: HashingEncoder
) -> None:
    client = create_app(settings, encoder=hashing).test_client()
    fill_the_disk(client)
    big = [{"id": f"n{i}", "title": "t", "body": "x" * 5000} for i in range(200)]
    response = client.post("/articles", json=big)
    body = response.get_json()
    assert response.status_code == 507 and body["code"] == "storage_full", body
    assert "disk" in body["error"] and "rollback" not in body["error"]
    assert client.get("/articles/n0").status_code == 404
    assert client.put(f"/articles/{HEATWAVE}", json={"title": "t" * 100_000}).status_code == 507


def test_a_build_that_runs_out_of_space_cleans_up_and_the_next_one_succeeds(
    sample_copy: Settings, hashing: HashingEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ArticleStore(sample_copy.db_path) as store:
        ingest(store, [("x", {"id": "fresh", "title": "A new article about the grid"})])
    real_write_parts = service.generations.generation.write_parts

    def write_until_full(directory: Path, parts: Any) -> None:
        real_write_parts(directory, parts)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(service.generations.generation, "write_parts", write_until_full)
    with ArticleStore(sample_copy.db_path) as store, pytest.raises(StorageFull):
        build(sample_copy, store, hashing)
    assert not list(sample_copy.generations_dir.glob(f"{TMP_PREFIX}*"))  # space freed at once
    status = read_status(sample_copy.data_dir)
    assert status is not None and status["state"] == "failed"
    assert status["code"] == "storage_full" and "No space left" in status["error"]

    monkeypatch.setattr(service.generations.generation, "write_parts", real_write_parts)
    with ArticleStore(sample_copy.db_path) as store:
        report = build(sample_copy, store, hashing)  # no person needed
    assert report.articles == 67
    assert read_status(sample_copy.data_dir)["state"] == "succeeded"  # type: ignore[index]


def test_a_disk_full_error_from_a_file_write_is_507(
    settings: Settings, hashing: HashingEncoder
) -> None:
    app = create_app(settings, encoder=hashing)

    @app.get("/probe-disk-full")
    def probe() -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    body = app.test_client().get("/probe-disk-full").get_json()
    assert body["status"] == 507 and body["code"] == "storage_full"
    assert StorageFull.status == 507


def test_quick_rebuild_requests_start_one_build_and_queue_the_rest(
    sample_copy: Settings, hashing: HashingEncoder
) -> None:
    client = create_app(sample_copy, encoder=hashing).test_client()
    client.put("/articles/fresh", json={"title": "A new article about the grid"})
    answers = [client.post("/index/rebuild").get_json()["state"] for _ in range(3)]
    # Visible at once: the previous build's 'succeeded' is never the answer to this request.
    state = client.get("/index").get_json()
    assert answers == ["started", "queued", "queued"]
    assert state["rebuild"]["state"] in ("starting", "running") and state["rebuild_running"]
    state = wait_until_idle(lambda: client.get("/index").get_json(), every=0.2)
    assert not state["rebuild_running"] and not state["rebuild_queued"], state
    assert state["rebuild"]["state"] == "succeeded", state
    assert state["articles"] == 67 and state["changed_since_build"] == 0
    log = (sample_copy.data_dir / "build.log").read_text()
    assert "Another build" not in log and "Error" not in log
    assert "encoding: " in log  # progress lines, not bars, in the log


def test_a_rebuild_of_an_empty_store_is_409(tmp_path: Path, hashing: HashingEncoder) -> None:
    from tests.conftest import make_settings

    client = create_app(make_settings(tmp_path / "empty"), encoder=hashing).test_client()
    body = client.post("/index/rebuild").get_json()
    assert body["status"] == 409 and body["code"] == "no_articles"
    assert client.get("/index").get_json()["rebuild"] is None


def test_the_write_ahead_log_is_truncated_after_a_large_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_base, "WAL_LIMIT", 256 * 1024)
    store = ArticleStore(tmp_path / "store.sqlite3")
    reader = ArticleStore(tmp_path / "store.sqlite3")  # another open connection, as a server has
    reader.count()
    big = [(str(i), {"id": f"a{i}", "title": "t", "body": "x" * 4000}) for i in range(1000)]
    ingest(store, big)
    wal = Path(f"{store.path}-wal")
    assert wal.stat().st_size <= 256 * 1024, wal.stat().st_size
    assert reader.count() == 1000


def test_rebuild_status_of_a_build_that_never_started_is_failed(
    sample_copy: Settings, hashing: HashingEncoder
) -> None:
    from service.build.state import record_requested, record_start_failure

    record_requested(sample_copy.data_dir)
    assert read_status(sample_copy.data_dir)["state"] == "starting"  # type: ignore[index]
    record_start_failure(sample_copy.data_dir, 1)
    status = read_status(sample_copy.data_dir)
    assert status is not None and status["state"] == "failed" and "build.log" in status["error"]
    json.dumps(status)
