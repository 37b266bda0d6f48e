"""Answers an incremental build carries over (`service.related.answer_reuse`): after adds,
edits, deletes and an editorial change, every stored answer is, byte for byte, the answer the
ranked path gives, while the answers nothing touched were carried over instead of rendered."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from embeddings.hashing import HashingEncoder
from service.build.builder import BuildReport, build
from service.config.settings import Settings
from service.generations.answers import StoredAnswers
from service.generations.generation import Generation, current_name
from service.related.precomputed import EMBED_FIELDS, PrecomputedAnswers
from service.store import ArticleStore
from service.web.app import create_app
from tests.conftest import ingest_file

QUERIES = ("", "?fields=" + ",".join(EMBED_FIELDS))
"""The request of each stored variant, in order."""


def run_build(settings: Settings, hashing: HashingEncoder) -> BuildReport:
    with ArticleStore(settings.db_path) as store:
        return build(settings, store, hashing)


def change_some(settings: Settings, rng: random.Random, round_number: int) -> None:
    """Add an article, edit two, delete one."""
    with ArticleStore(settings.db_path) as store:
        articles = [s.article for s in store.iter_articles()]
        donors = rng.sample(articles, 4)
        with store.write() as writer:
            writer.upsert(replace(donors[0], id=f"added-{round_number}", title="Added again"))
            for donor in donors[1:3]:
                writer.upsert(replace(donor, body=donor.body + f" Update {round_number}."))
            writer.delete(donors[3].id)


def assert_stored_answers_are_the_ranked_ones(
    settings: Settings, hashing: HashingEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = current_name(settings.generations_dir)
    stored = StoredAnswers.load(settings.generations_dir / (name or ""))
    assert stored is not None
    with ArticleStore(settings.db_path) as store:
        ids = [s.article.id for s in store.iter_articles()]
    with monkeypatch.context() as patched:
        patched.setattr(PrecomputedAnswers, "body", lambda *args: None)  # rank every answer
        client = create_app(replace(settings, response_cache=0), encoder=hashing).test_client()
        for article_id in ids:
            for variant, query in enumerate(QUERIES):
                body = stored.get(article_id, variant)
                ranked = client.get(f"/articles/{article_id}/related{query}")
                assert ranked.status_code == 200
                if body is None:  # only an answer that doesn't come from the list
                    assert ranked.get_json()["source"] != "index", (article_id, query)
                else:
                    assert body == ranked.data, (article_id, query)


def test_answers_nothing_touched_are_carried_over_and_equal_the_ranked_ones(
    short_lists: Settings, hashing: HashingEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = short_lists
    unchanged = run_build(settings, hashing)
    assert unchanged.mode == "incremental"
    assert unchanged.answers_carried == unchanged.answers == unchanged.articles
    assert_stored_answers_are_the_ranked_ones(settings, hashing, monkeypatch)

    rng = random.Random(3)
    for round_number in range(2):
        change_some(settings, rng, round_number)
        report = run_build(settings, hashing)
        assert report.mode == "incremental" and report.answers == report.articles
        assert 0 < report.answers_carried < report.answers
        assert_stored_answers_are_the_ranked_ones(settings, hashing, monkeypatch)


def test_an_editorial_change_renders_every_answer_again(
    short_lists: Settings, hashing: HashingEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = short_lists
    with ArticleStore(settings.db_path) as store:
        first, second = (s.article.id for s in list(store.iter_articles())[:2])
        store.set_pins(first, [second])
    report = run_build(settings, hashing)
    assert report.answers == report.articles and report.answers_carried == 0
    assert_stored_answers_are_the_ranked_ones(settings, hashing, monkeypatch)
    # Then all but the answer showing a pin, which is not in the list, so not followed.
    assert run_build(settings, hashing).answers_carried == report.answers - 1
    with ArticleStore(settings.db_path) as store:
        pinned = next(s.article for s in store.iter_articles() if s.article.id == second)
        with store.write() as writer:
            writer.upsert(replace(pinned, extra={**pinned.extra, "image": "https://x.test/p.jpg"}))
    run_build(settings, hashing)
    assert_stored_answers_are_the_ranked_ones(settings, hashing, monkeypatch)


def test_a_full_build_renders_every_answer(short_lists: Settings, hashing: HashingEncoder) -> None:
    with ArticleStore(short_lists.db_path) as store:
        report = build(short_lists, store, hashing, full=True)
    assert report.mode == "full" and report.answers_carried == 0
    assert report.answers == report.articles


def test_an_article_written_after_the_answers_is_never_carried_over(
    short_lists: Settings, hashing: HashingEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A title is all that changes: the list (keys and scores) may stay, the answer may not."""
    settings = short_lists
    with ArticleStore(settings.db_path) as store:
        article = next(iter(store.iter_articles())).article
        with store.write() as writer:
            writer.upsert(replace(article, title=article.title + " (retitled)"))
    report = run_build(settings, hashing)
    assert report.answers_carried < report.answers
    assert_stored_answers_are_the_ranked_ones(settings, hashing, monkeypatch)


def test_a_listed_article_whose_display_fields_change_renders_the_lists_that_show_it(
    short_lists: Settings, hashing: HashingEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new image changes nothing the ranking reads, so the lists may come out the same; every
    answer that shows the article must still show its new image."""
    settings = short_lists
    with ArticleStore(settings.db_path) as store:
        article = next(iter(store.iter_articles())).article
        with store.write() as writer:
            moved = {**article.extra, "image": "https://example.org/new.jpg"}
            writer.upsert(replace(article, extra=moved))
    report = run_build(settings, hashing)
    assert report.answers_carried < report.answers
    assert_stored_answers_are_the_ranked_ones(settings, hashing, monkeypatch)


def test_an_answer_depends_on_its_list_as_far_as_its_last_item() -> None:
    from types import SimpleNamespace

    from service.related.answer_reuse import list_depth

    plain = SimpleNamespace(reorders=False, fill="none")

    def answer(*keys: int | None, k: int = 3, options: Any = plain) -> Any:
        items = [SimpleNamespace(key=key) for key in keys]
        return SimpleNamespace(items=items, k=k, options=options)

    listed = [10, 11, 12, 13, 14, -1]
    assert list_depth(answer(10, 12, 13), listed, False) == 4  # 11 skipped: read, not shown
    assert list_depth(answer(10, 11), listed, False) == 6  # short: the whole list was read
    assert list_depth(answer(99, 10, 11), listed, False) == 0  # an article from elsewhere
    assert list_depth(answer(None, 10, 11), listed, False) == 0
    assert list_depth(answer(10, 12, 13), listed, True) == 0  # pins: followed by id, not list
    reordering = SimpleNamespace(reorders=True, fill="none")
    assert list_depth(answer(10, 12, 13, options=reordering), listed, False) == 0
    filling = SimpleNamespace(reorders=False, fill="recent")
    assert list_depth(answer(10, 12, 13, options=filling), listed, False) == 0


def test_answers_that_read_part_of_a_longer_list_are_carried_over_only_while_it_holds(
    settings_for: Any, hashing: HashingEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lists of 20 under answers of 5: an answer depends on its list down to its last item."""
    settings: Settings = settings_for(
        neighbours=20, max_k=20, default_k=5, refit_fraction=1.0, max_drift=1.0
    )
    ingest_file(settings)
    run_build(settings, hashing)
    generation = Generation.load(
        settings.generations_dir, current_name(settings.generations_dir) or ""
    )
    answers = generation.answers
    assert answers is not None and 0 < int(np.median(answers.depths)) < 20
    rng = random.Random(5)
    for round_number in range(2):
        change_some(settings, rng, round_number)
        report = run_build(settings, hashing)
        assert 0 < report.answers_carried < report.answers
        assert_stored_answers_are_the_ranked_ones(settings, hashing, monkeypatch)


@pytest.mark.parametrize(
    "defaults",
    [
        {"recency": "gaussian", "half_life_days": 30},  # reorders the pool below the last item
        {"diversity": 0.5},  # chooses from the whole pool
        {"fill": "recent", "min_score": 3},  # fills short lists from the newest articles
    ],
    ids=["recency", "diversity", "fill"],
)
def test_defaults_that_read_more_than_the_list_render_every_answer(
    settings_for: Any,
    hashing: HashingEncoder,
    monkeypatch: pytest.MonkeyPatch,
    defaults: dict[str, Any],
) -> None:
    settings: Settings = settings_for(
        neighbours=20, max_k=20, default_k=5, refit_fraction=1.0, max_drift=1.0, **defaults
    )
    ingest_file(settings)
    run_build(settings, hashing)
    change_some(settings, random.Random(5), 0)
    with ArticleStore(settings.db_path) as store, store.write() as writer:
        newest = next(iter(store.iter_articles())).article
        writer.upsert(
            replace(newest, id="newest-unrelated", title="Newest", published="2030-01-01")
        )
    report = run_build(settings, hashing)
    assert report.answers_carried == 0
    assert_stored_answers_are_the_ranked_ones(settings, hashing, monkeypatch)


def test_a_pin_whose_target_comes_back_is_shown_again(
    short_lists: Settings, hashing: HashingEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deleting a pinned article keeps the pin (no editorial change); writing it again shows
    it again, though neither the source nor its list moved."""
    settings = short_lists
    generation = Generation.load(
        settings.generations_dir, current_name(settings.generations_dir) or ""
    )
    with ArticleStore(settings.db_path) as store:
        stored = list(store.iter_articles())
        source = stored[0]
        listed = {key for key, _ in generation.neighbours(source.key) or []}
        target = next(s.article for s in stored[1:] if s.key not in listed)
        store.set_pins(source.article.id, [target.id])
    run_build(settings, hashing)
    with ArticleStore(settings.db_path) as store, store.write() as writer:
        writer.delete(target.id)
    run_build(settings, hashing)
    with ArticleStore(settings.db_path) as store, store.write() as writer:
        writer.upsert(target)
    run_build(settings, hashing)
    assert_stored_answers_are_the_ranked_ones(settings, hashing, monkeypatch)


def test_an_article_deleted_while_the_build_runs_is_in_no_carried_answer(
    short_lists: Settings, hashing: HashingEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deleted after the build read the store and before the answers were made: the lists
    still hold it, and the answers that show it must be rendered without it."""
    from service.build import steps

    settings = short_lists
    generation = Generation.load(
        settings.generations_dir, current_name(settings.generations_dir) or ""
    )
    firsts = np.asarray(generation.parts.neighbour_keys)[:, 0].tolist()
    victim_key = max(set(firsts), key=firsts.count)  # first in the most lists
    with ArticleStore(settings.db_path) as store:
        victim = next(s.article.id for s in store.iter_articles() if s.key == victim_key)
    render = steps.render_answers

    def deleting_first(job_settings: Settings, store: ArticleStore, *args: Any) -> Any:
        with store.write() as writer:
            writer.delete(victim)
        return render(job_settings, store, *args)

    with monkeypatch.context() as patched:
        patched.setattr(steps, "render_answers", deleting_first)
        report = run_build(settings, hashing)
    assert report.answers_carried > 0
    assert_stored_answers_are_the_ranked_ones(settings, hashing, monkeypatch)
