"""Choosing the list from the pool (`service.related.selection`): thresholds, near-duplicates,
diversity, recency."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient

from embeddings.hashing import HashingEncoder
from embeddings.rerank import may_be_copies, title_words
from service.build.builder import build
from service.config.settings import Settings
from service.related.selection import Titles, _select_arrays, select_in_order
from service.related.source import Source
from service.store import ArticleStore
from service.web.app import create_app
from tests.conftest import COPY, HEATWAVE, ingest_file
from tests.lists import ids, related


def test_thresholds_return_fewer_and_say_how_many_were_cut(client: FlaskClient) -> None:
    plain = related(client, k=10)
    best = plain["related"][0]["score"]
    body = related(client, k=10, min_relative=0.5)
    assert all(i["score"] >= best * 0.5 for i in body["related"])
    assert len(body["related"]) + body["cut"]["min_relative"] == 10
    high = related(client, k=10, min_score=best + 1)
    assert high["related"] == [] and high["cut"]["min_score"] == 10


def test_republished_copy_is_suppressed_as_a_near_duplicate(client: FlaskClient) -> None:
    body = related(client, k=5)
    assert COPY not in ids(body) and body["suppressed_duplicates"] >= 1
    assert COPY in ids(related(client, k=5, duplicate_threshold=1.01))


def test_diversity_spreads_the_list(client: FlaskClient, settings: Settings) -> None:
    from service.generations.generation import Generation, current_name

    generation = Generation.load(
        settings.generations_dir, current_name(settings.generations_dir) or ""
    )
    keys = ArticleStore(settings.db_path).keys_for

    def spread(body: dict[str, Any]) -> float:
        rows = [generation.position(k) for k in keys(ids(body)).values()]
        vectors = np.asarray(generation.parts.vectors)[rows]
        sims = vectors @ vectors.T
        return float(sims[np.triu_indices(len(rows), 1)].mean())

    plain, diverse = related(client, k=6), related(client, k=6, diversity=0.7)
    assert diverse["related"][0]["id"] == plain["related"][0]["id"]
    assert spread(diverse) < spread(plain)


def test_recency_prefers_articles_close_in_time(client: FlaskClient) -> None:
    def mean_gap(body: dict[str, Any]) -> float:
        days = [
            abs(np.datetime64(i["published"]) - np.datetime64("2026-03-02")).astype(int)
            for i in body["related"]
            if i["published"]
        ]
        return float(np.mean(days))

    none = related(client, k=8, recency="none")
    strong = related(client, k=8, recency="gaussian", half_life_days=20)
    assert mean_gap(strong) < mean_gap(none)


def test_stored_duplicate_pairs_and_the_exact_check_agree(client: FlaskClient) -> None:
    # 0.9 is above the build's floor (stored pairs); 0.45 is below it (sparse product per request)
    stored = related(client, k=10, duplicate_threshold=0.9)
    exact = related(client, k=10, duplicate_threshold=0.45)
    assert COPY not in ids(stored) and COPY not in ids(exact)
    assert exact["suppressed_duplicates"] >= stored["suppressed_duplicates"] >= 1


def test_no_filler_a_narrow_filter_gives_a_short_list_of_related_articles(
    client: FlaskClient,
) -> None:
    """The heatwave article under section=Health: only the health articles that stand above a
    typical article are shown, not the rest of the section."""
    body = related(client, k=5, section="Health")
    assert all(item["score"] > 0 for item in body["related"])
    assert len(body["related"]) < 5 and body["cut"].get("typical", 0) >= 1
    assert not any(item.get("filled") for item in body["related"])


@pytest.mark.parametrize("mode", ["section", "recent"])
def test_fill_completes_a_short_list_and_marks_the_filled_items(
    client: FlaskClient, mode: str
) -> None:
    best = related(client, k=5)["related"][0]["score"]
    plain = related(client, k=5, min_score=best - 1e-3)  # only the best one stays
    body = related(client, k=5, min_score=best - 1e-3, fill=mode)
    assert len(plain["related"]) == 1 and len(body["related"]) == 5
    assert ids(body)[0] == ids(plain)[0] and not body["related"][0].get("filled")
    filled = body["related"][1:]
    assert all(item["filled"] is True and item["score"] is None for item in filled)
    if mode == "section":
        assert {item["section"] for item in filled} == {"Climate"}  # the source's section
    dates = [item["published"] for item in filled]
    assert dates == sorted(dates, reverse=True)  # newest first
    assert HEATWAVE not in ids(body) and len(set(ids(body))) == 5


@pytest.mark.parametrize("threshold", [0.3, 0.6, 0.9, 1.01])
def test_the_walk_over_stored_pairs_chooses_as_the_array_selection(
    settings: Settings, hashing: HashingEncoder, threshold: float
) -> None:
    """`select_in_order` (no diversity, an indexed source) against `embeddings.rerank.select`
    over the same stored pairs: the same choice and the same count of near-duplicates."""
    recommender = create_app(settings, encoder=hashing).extensions["related"].recommender
    generation = recommender.generation()
    floor = generation.manifest.ranking.duplicate_floor
    options = recommender.options({"duplicate_threshold": str(max(threshold, floor))})
    with ArticleStore(settings.db_path) as store:
        stored = list(store.iter_articles())
    title_of = {item.key: item.article.title for item in stored}
    suppressed = 0
    for item in stored:
        source = Source(item.article, item.key, generation, hashing, recommender.store, 4000)
        listed = generation.neighbours(item.key) or []
        rows = generation.positions(np.asarray([key for key, _ in listed], dtype=np.int64))
        scores = [score for _, score in listed]
        order = list(range(len(rows)))
        titles = Titles(item.article.title, [title_of[key] for key, _ in listed])
        for wanted in (1, 5, len(rows)):
            threshold = options.duplicate_threshold
            walked = select_in_order(source, rows.tolist(), threshold, wanted, titles)
            arrays = _select_arrays(source, rows, scores, order, options, wanted, titles)
            assert walked == arrays
            suppressed += walked[1]
    assert threshold > 1 or suppressed > 0  # the republished copy, at least


def test_titles_say_which_near_twins_may_be_copies() -> None:
    def copies(a: str, b: str) -> bool:
        return may_be_copies(title_words(a), title_words(b))

    assert copies("Heatwave pushes demand to a record", "Heatwave pushes demand to a record")
    assert copies(
        "Heatwave pushes demand to a record", "HEATWAVE pushes demand to a record (updated)"
    )
    assert copies("More benchmarks", "Updated and improved: more benchmarks")
    assert not copies("array_pop", "array_shift")
    assert not copies("iso_8859-1", "iso_8859-15")  # words: iso_8859 and 1, iso_8859 and 15
    assert not copies("mysqli::$affected_rows", "mysqli_stmt::$affected_rows")
    assert not copies("Heatwave pushes demand to a record", "Record demand as the heatwave goes on")


TEMPLATE = (
    "Removes the {which} element of an array and returns it, shortening the array by one "
    "element. Parameters: the array, passed by reference. Return values: the removed value, or "
    "null when the array is empty. Changelog: the function resets the array pointer after use. "
    "Notes: the keys of a list are renumbered, while string keys are left untouched. "
)


def test_pages_from_one_template_are_shown_and_a_copy_is_skipped(
    settings_for: Callable[..., Settings], hashing: HashingEncoder
) -> None:
    """Reference pages written from one template share almost every word, as a copy does; the
    titles tell them apart, on the stored pairs and on the exact check alike."""
    settings = settings_for()
    pages = [
        {"id": "array-pop", "title": "array_pop", "body": TEMPLATE.format(which="last") * 3},
        {"id": "array-shift", "title": "array_shift", "body": TEMPLATE.format(which="first") * 3},
        {
            "id": "array-pop-copy",
            "title": "array_pop (updated)",
            "body": TEMPLATE.format(which="last") * 3,
        },
    ]
    settings.data_dir.mkdir(parents=True)
    extra = settings.data_dir.parent / "pages.jsonl"
    extra.write_text("".join(json.dumps(page) + "\n" for page in pages))
    ingest_file(settings)
    ingest_file(settings, extra)
    with ArticleStore(settings.db_path) as store:
        build(settings, store, hashing)
    client = create_app(settings, encoder=hashing).test_client()

    generation = client.application.extensions["related"].recommender.generation()
    with ArticleStore(settings.db_path) as store:
        keys = store.keys_for(["array-pop", "array-shift"])
    cols, sims = generation.text_duplicates(generation.position(keys["array-pop"]))
    twin = dict(zip(cols.tolist(), sims.tolist(), strict=True))
    assert twin[generation.position(keys["array-shift"])] >= 0.9  # as alike as a copy
    for threshold in (0.9, 0.45):  # the stored pairs; the sparse product per request
        body = related(client, "array-pop", k=5, duplicate_threshold=threshold)
        assert ids(body)[0] == "array-shift"
        assert "array-pop-copy" not in ids(body) and body["suppressed_duplicates"] >= 1
        listed = ids(related(client, "array-shift", k=5, duplicate_threshold=threshold))
        # The first of the two twins is shown; the other is its copy.
        assert ("array-pop" in listed) != ("array-pop-copy" in listed)
