"""Staged ingests (`service.store.staging`): a file is still all or nothing, but the store's
write lock is held only for the short publish, so other writers go on while a large file is
read; the outcome counts are the same whichever way the rows were staged."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.errors import InvalidArticles
from service.ingest.load import ingest
from service.store import ArticleStore
from service.store import staging as staging_module


def records(count: int, prefix: str = "a", title: str = "Title") -> list[tuple[str, Any]]:
    return [
        (f"line {i}", {"id": f"{prefix}{i}", "title": f"{title} {i}", "body": "text " * 20})
        for i in range(count)
    ]


def write_elsewhere(path: Path, article_id: str) -> None:
    """An insert from another connection that gives up at once if the write lock is taken."""
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO articles (id, data, content_hash, revision, updated_at)"
            ' VALUES (?, \'{"id": "x", "title": "x"}\', \'h\', 0, 0)',
            (article_id,),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()


@pytest.mark.parametrize("count", [50, staging_module.SPILL_ROWS + 500])
def test_other_writers_go_on_while_a_file_is_read(tmp_path: Path, count: int) -> None:
    store = ArticleStore(tmp_path / "store.sqlite3")
    written: list[str] = []

    def reading() -> Iterator[tuple[str, Any]]:
        for i, record in enumerate(records(count)):
            if i in (10, count - 1):  # mid-file: the ingest must not hold the write lock
                write_elsewhere(store.path, f"other-{i}")
                written.append(f"other-{i}")
            yield record

    report = ingest(store, reading())
    assert report.inserted == count and len(written) == 2
    assert store.count() == count + 2
    assert not list(tmp_path.glob(".staging-*"))  # the stage file is gone


@pytest.mark.parametrize("count", [50, staging_module.SPILL_ROWS + 500])
def test_a_staged_file_is_all_or_nothing(tmp_path: Path, count: int) -> None:
    store = ArticleStore(tmp_path / "store.sqlite3")
    bad = [*records(count), ("line last", {"id": "bad"})]
    with pytest.raises(InvalidArticles):
        ingest(store, bad)
    assert store.count() == 0 and store.revision() == 0
    assert not list(tmp_path.glob(".staging-*"))


def test_outcomes_are_counted_the_same_in_memory_and_spilled(tmp_path: Path) -> None:
    many = staging_module.SPILL_ROWS + 10
    for name in ("memory", "spilled"):
        store = ArticleStore(tmp_path / f"{name}.sqlite3")
        ingest(store, records(many))
        with store.write() as writer:
            writer.delete("a3")
        again = records(many)
        again[5] = ("line 5", {**again[5][1], "title": "Changed"})
        batch = again if name == "spilled" else again[:1000] + again[-1:]
        report = ingest(store, batch)
        expected_read = len(batch)
        assert report.read == expected_read
        assert report.inserted == 1  # a3, deleted, comes back
        assert report.updated == 1  # a5
        assert report.unchanged == expected_read - 2
        changed = store.get("a5")
        assert changed is not None and changed.article.title == "Changed"
        assert store.changes_since(report.revision - 1) == 2


def test_a_stage_left_by_a_dead_process_is_removed(tmp_path: Path) -> None:
    store = ArticleStore(tmp_path / "store.sqlite3")
    orphan = tmp_path / ".staging-999999999-deadbeef.sqlite3"
    orphan.write_bytes(b"")
    ingest(store, records(3))
    assert not orphan.exists()
