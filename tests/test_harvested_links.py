"""Harvested related links (`service.ingest.harvest`, `service.ingest.targets`): targets named
by URL, path, slug or title resolve to ids; one not stored yet waits and joins its list, in its
place, when an article it names arrives by any later ingest; a list set by hand replaces it."""

from __future__ import annotations

import json
from pathlib import Path

from service.ingest.files import read_records
from service.ingest.harvest import ingest_harvests
from service.ingest.load import ingest, ingest_one
from service.ingest.page import Harvest
from service.ingest.targets import LinkTargets
from service.store import ArticleStore


def record(article_id: str, title: str, url: str | None = None) -> dict[str, object]:
    found: dict[str, object] = {"id": article_id, "title": title, "body": f"About {title}."}
    return {**found, "url": url} if url else found


def curated(store: ArticleStore, article_id: str) -> list[str]:
    return [target for target, _ in store.curated(article_id)]


def test_targets_resolve_by_id_url_path_slug_and_title() -> None:
    targets = LinkTargets(
        [
            (
                "news/2024/flood-barrier",
                "https://www.site.example/news/2024/flood-barrier.html",
                "Flood barrier closes",
            ),
            ("sport/final", None, "The cup final"),
            ("city/final", None, "City final budget"),
        ]
    )
    assert targets.resolve("news/2024/flood-barrier") == "news/2024/flood-barrier"
    assert (
        targets.resolve("https://site.example/news/2024/flood-barrier/")
        == "news/2024/flood-barrier"
    )
    assert targets.resolve("/news/2024/flood-barrier.html") == "news/2024/flood-barrier"
    assert targets.resolve("flood-barrier") == "news/2024/flood-barrier"
    assert targets.resolve("final") is None  # two articles have that slug
    assert targets.resolve("  the CUP final ") == "sport/final"
    assert targets.resolve("https://site.example/nothing-here") is None


def test_pending_links_join_their_lists_in_order_when_their_targets_arrive_by_any_ingest(
    tmp_path: Path,
) -> None:
    with ArticleStore(tmp_path / "store.sqlite3") as store:
        page = Harvest(
            record("a/source", "The source story"),
            (
                "https://site.example/b/first",  # by URL: arrives through a file ingest
                "second-story",  # by slug: arrives through one upsert (the API's path)
                "The third story",  # by title: arrives through a later harvest
                "a/source",  # itself: never a link
            ),
            "https://site.example/a/source",
        )
        report = ingest_harvests(store, [page])
        assert (report.curated_links, report.unresolved) == (0, 3)
        assert curated(store, "a/source") == [] and store.pending_count() == 3

        third = Harvest(record("c/third", "The third story"), (), "c")
        later = ingest_harvests(store, [third])
        assert later.resolved_later == 1
        assert curated(store, "a/source") == ["c/third"]

        jsonl = tmp_path / "more.jsonl"
        jsonl.write_text(
            json.dumps(record("b/first", "First", "https://site.example/b/first")) + "\n"
        )
        ingest(store, read_records(jsonl))
        ingest_one(store, record("d/second-story", "Second"))
        assert curated(store, "a/source") == ["b/first", "d/second-story", "c/third"]
        assert store.pending_count() == 0


def test_a_list_set_by_hand_replaces_the_harvested_one_pending_links_included(
    tmp_path: Path,
) -> None:
    with ArticleStore(tmp_path / "store.sqlite3") as store:
        ingest_harvests(store, [Harvest(record("a", "Alpha story here"), ("b", "later"), "a")])
        ingest_harvests(store, [Harvest(record("b", "Beta story here"), (), "b")])
        assert curated(store, "a") == ["b"] and store.pending_count() == 1
        store.set_curated("a", [("b", 1.0)])
        assert store.pending_count() == 0
        ingest_harvests(store, [Harvest(record("later", "Later story here"), (), "later")])
        assert curated(store, "a") == ["b"]


def test_no_curated_leaves_the_lists_alone(tmp_path: Path) -> None:
    with ArticleStore(tmp_path / "store.sqlite3") as store:
        ingest_harvests(store, [Harvest(record("b", "Beta story here"), (), "b")])
        report = ingest_harvests(
            store, [Harvest(record("a", "Alpha story here"), ("b",), "a")], curated=False
        )
        assert report.curated_links == 0 and curated(store, "a") == []
