"""Ingest: formats, validation that names line and field, one transaction per file, upserts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli import cli
from service.errors import InvalidArticles
from service.ingest.files import read_records
from service.ingest.load import ingest
from service.store import ArticleStore

GOOD = {"id": "a1", "title": "First", "body": "Text.", "published": "2024-05-01"}


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def problems_of(store: ArticleStore, path: Path) -> list[dict[str, object]]:
    with pytest.raises(InvalidArticles) as caught:
        ingest(store, read_records(path))
    return caught.value.details or []


@pytest.fixture
def store(tmp_path: Path) -> ArticleStore:
    return ArticleStore(tmp_path / "articles.sqlite3")


def test_jsonl_ingest_stores_fields_and_keeps_unknown_fields_as_metadata(
    store: ArticleStore, tmp_path: Path
) -> None:
    record = {
        **GOOD,
        "tags": ["x", "y"],
        "section": "News",
        "lang": "en",
        "author": "Ann",
        "image": "https://img.example/1.jpg",
    }
    report = ingest(store, read_records(write_jsonl(tmp_path / "a.jsonl", [json.dumps(record)])))
    assert (report.inserted, report.invalid) == (1, 0)
    stored = store.get("a1")
    assert stored is not None
    data = stored.article.to_json()
    assert (
        data["tags"] == ["x", "y"] and data["author"] == "Ann" and data["image"].endswith("1.jpg")
    )
    assert data["published"] == "2024-05-01"


def test_invalid_records_are_all_reported_by_line_and_field_and_nothing_is_stored(
    store: ArticleStore, tmp_path: Path
) -> None:
    path = write_jsonl(
        tmp_path / "bad.jsonl",
        [
            json.dumps(GOOD),
            '{"id": "a2", "title": "Broken", ',
            json.dumps({"title": "No id"}),
            json.dumps({"id": "a4"}),
            json.dumps({"id": 5, "title": "Numeric id"}),
            json.dumps({"id": "a6", "title": "Tags", "tags": "not-a-list"}),
            json.dumps({"id": "a7", "title": "Date", "published": "2024-13-45"}),
            json.dumps({**GOOD, "title": "Again"}),
        ],
    )
    found = {(p["where"], p["field"]) for p in problems_of(store, path)}
    assert found == {
        ("line 2", None),
        ("line 3", "id"),
        ("line 4", "title"),
        ("line 5", "id"),
        ("line 6", "tags"),
        ("line 7", "published"),
        ("line 8", "id"),
    }
    assert store.count() == 0


def test_error_reasons_say_why(store: ArticleStore, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "bad.jsonl",
        [
            json.dumps(GOOD),
            json.dumps({**GOOD, "title": "dup"}),
            json.dumps({"id": "b", "title": "t", "published": "yesterday"}),
        ],
    )
    reasons = {p["where"]: p["reason"] for p in problems_of(store, path)}
    assert "duplicate id 'a1' (first seen at line 1)" in str(reasons["line 2"])
    assert "ISO 8601" in str(reasons["line 3"]) and "yesterday" in str(reasons["line 3"])


def test_a_bad_file_leaves_earlier_data_untouched(store: ArticleStore, tmp_path: Path) -> None:
    ingest(store, read_records(write_jsonl(tmp_path / "ok.jsonl", [json.dumps(GOOD)])))
    revision = store.revision()
    bad = write_jsonl(tmp_path / "bad.jsonl", [json.dumps({**GOOD, "title": "Changed"}), "{"])
    problems_of(store, bad)
    stored = store.get("a1")
    assert stored is not None and stored.article.title == "First"
    assert store.revision() == revision


def test_skip_invalid_stores_the_valid_records_and_reports_the_rest(
    store: ArticleStore, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "mixed.jsonl", [json.dumps(GOOD), json.dumps({"id": "x"})])
    report = ingest(store, read_records(path), skip_invalid=True)
    assert (report.inserted, report.invalid) == (1, 1)
    assert str(report.problems[0]) == "line 2: field 'title': is required"


def test_upsert_by_id_counts_unchanged_and_updated(store: ArticleStore, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [json.dumps(GOOD)])
    assert ingest(store, read_records(path)).inserted == 1
    assert ingest(store, read_records(path)).unchanged == 1
    changed = write_jsonl(tmp_path / "b.jsonl", [json.dumps({**GOOD, "body": "New text."})])
    assert ingest(store, read_records(changed)).updated == 1
    assert store.count() == 1


def test_csv_with_header_splits_tags_and_ignores_empty_cells(
    store: ArticleStore, tmp_path: Path
) -> None:
    path = tmp_path / "a.csv"
    path.write_text(
        "id,title,body,tags,published,author\n"
        'c1,"Title, with comma","Body",news|local,2024-02-03T10:00:00Z,\n',
        encoding="utf-8",
    )
    ingest(store, read_records(path), csv_cells=True)
    stored = store.get("c1")
    assert stored is not None
    assert stored.article.tags == ("news", "local")
    assert stored.article.published == "2024-02-03T10:00:00+00:00"
    assert "author" not in stored.article.extra


def test_json_array_problems_name_the_index(store: ArticleStore, tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text(json.dumps([GOOD, {"id": "z", "title": ""}]), encoding="utf-8")
    assert [(p["where"], p["field"]) for p in problems_of(store, path)] == [("index 1", "title")]


def test_cli_ingest_reports_errors_on_stderr_and_exits_non_zero(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", [json.dumps(GOOD), json.dumps({"id": "b"})])
    result = CliRunner().invoke(
        cli, ["ingest", str(path), "--data-dir", str(tmp_path / "d"), "--quiet"]
    )
    assert result.exit_code == 2
    assert "1 of 2 records are invalid, nothing was stored" in result.output
    assert "line 2: field 'title': is required" in result.output
    assert "Traceback" not in result.output


def test_cli_ingest_json_summary(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "ok.jsonl", [json.dumps(GOOD)])
    result = CliRunner().invoke(
        cli, ["ingest", str(path), "--json", "--quiet", "--data-dir", str(tmp_path / "d")]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["inserted"] == 1 and summary["committed"] is True


def test_a_store_from_the_first_schema_is_migrated_in_place(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE articles (key INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
        " data TEXT NOT NULL, content_hash TEXT NOT NULL, published_ts REAL,"
        " revision INTEGER NOT NULL, updated_at REAL NOT NULL);"
    )
    conn.execute(
        "INSERT INTO articles (id, data, content_hash, revision, updated_at) VALUES (?, ?, ?, 1, 0)",
        ("old", json.dumps({"id": "old", "title": "Old", "body": "Kept body."}), "h"),
    )
    conn.commit()
    conn.close()
    store = ArticleStore(path)
    stored = store.get("old")
    assert stored is not None and stored.article.body == "Kept body."
    assert store.get_by_keys([stored.key])[stored.key].body == ""  # lists skip the body
