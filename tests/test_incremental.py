"""Incremental builds (`service.build.incremental`): after random adds, edits and deletes, the lists equal ranking every list
from scratch with the same frozen basis (ties tolerated), at a fraction of the work."""

from __future__ import annotations

import random
import sqlite3
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from embeddings import signals
from embeddings.hashing import HashingEncoder
from embeddings.neighbours import all_ranked_neighbours
from service.article import Article
from service.build import steps as build_steps
from service.build.builder import BuildReport, build
from service.config.settings import Settings
from service.generations.generation import Generation, current_name
from service.store import ArticleStore
from tests.conftest import CountingEncoder, ingest_file

TIE = 1e-4


def current(settings: Settings) -> Generation:
    return Generation.load(settings.generations_dir, current_name(settings.generations_dir) or "")


def run_build(settings: Settings, encoder: Any, **options: Any) -> BuildReport:
    with ArticleStore(settings.db_path) as store:
        return build(settings, store, encoder, **options)


def above(keys: Any, scores: Any, boundary: float) -> set[int]:
    return {int(k) for k, s in zip(keys, scores, strict=True) if s > boundary + TIE}


def assert_lists_equal_tolerating_ties(
    stored_keys: Any, stored_scores: Any, expected_keys: Any, expected_scores: Any
) -> None:
    np.testing.assert_allclose(stored_scores, expected_scores, atol=TIE)
    for row in range(len(stored_keys)):
        finite = expected_scores[row][np.isfinite(expected_scores[row])]
        boundary = float(finite.min()) if len(finite) else -np.inf
        # Items clearly above the last place must be the same; at the boundary ties may swap.
        assert above(stored_keys[row], stored_scores[row], boundary) == above(
            expected_keys[row], expected_scores[row], boundary
        )


def random_changes(
    settings: Settings, rng: random.Random, round_number: int
) -> tuple[int, set[int]]:
    """Add 4 articles, edit the text of 3, delete 2. Returns (texts to encode, deleted keys)."""
    with ArticleStore(settings.db_path) as store:
        articles = [s.article for s in store.iter_articles()]
        donors = rng.sample(articles, 4 + 3 + 2)
        with store.write() as writer:
            for i, donor in enumerate(donors[:4]):
                words = donor.body.split()
                rng.shuffle(words)
                writer.upsert(
                    Article(
                        id=f"added-{round_number}-{i}",
                        title=f"{donor.title} again",
                        body=" ".join(words[:60]),
                        published=donor.published,
                        section=donor.section,
                        tags=donor.tags,
                        lang=donor.lang,
                    )
                )
            for donor in donors[4:7]:
                writer.upsert(replace(donor, body=donor.body + f" Update {round_number}."))
            deleted = {donor.id for donor in donors[7:]}
            deleted_keys = set(store.keys_for(deleted).values())
            for article_id in deleted:
                writer.delete(article_id)
    return 7, deleted_keys


def test_incremental_builds_equal_a_full_ranking_after_random_changes(
    short_lists: Settings, hashing: HashingEncoder
) -> None:
    sample_copy = short_lists
    rng = random.Random(7)
    for round_number in range(3):
        to_encode, deleted = random_changes(sample_copy, rng, round_number)
        counting = CountingEncoder(hashing)
        report = run_build(sample_copy, counting)
        assert report.mode == "incremental"
        assert report.encoded == to_encode == len(counting.texts)
        assert report.lists_recomputed < report.articles  # only what the change touched

        generation = current(sample_copy)
        corpus = generation.corpus
        expected = all_ranked_neighbours(
            corpus, generation.manifest.neighbours, weights=sample_copy.weights, exact=True
        )
        keys = np.asarray(generation.parts.keys)
        expected_keys = np.where(
            expected.positions >= 0, keys[np.maximum(expected.positions, 0)], -1
        )
        assert_lists_equal_tolerating_ties(
            np.asarray(generation.parts.neighbour_keys),
            np.asarray(generation.parts.neighbour_scores),
            expected_keys,
            expected.scores,
        )
        np.testing.assert_allclose(np.asarray(generation.parts.stats), expected.stats, atol=1e-5)
        assert len(deleted) == 2
        assert not np.isin(np.asarray(generation.parts.neighbour_keys), list(deleted)).any()
        assert not np.isin(keys, list(deleted)).any()
        pairs = set(
            zip(
                np.asarray(generation.parts.duplicate_rows).tolist(),
                np.asarray(generation.parts.duplicate_cols).tolist(),
                strict=True,
            )
        )
        assert pairs == set(
            zip(expected.pair_rows.tolist(), expected.pair_cols.tolist(), strict=True)
        )


def test_deleted_articles_leave_every_list(sample_copy: Settings, hashing: HashingEncoder) -> None:
    victim = "2026-03-09-grid-operator-demand-response"
    before = current(sample_copy)
    with ArticleStore(sample_copy.db_path) as store:
        key = store.keys_for([victim])[victim]
        with store.write() as writer:
            writer.delete(victim)
    assert key in np.asarray(before.parts.neighbour_keys)
    # One of 66 is past the drift bound (3% estimated): lift it to see the incremental path.
    report = run_build(sample_copy.replace(max_drift=1.0), hashing)
    assert report.mode == "incremental" and report.encoded == 0
    assert key not in np.asarray(current(sample_copy).parts.neighbour_keys)


def test_full_flag_and_drift_force_a_full_build(
    sample_copy: Settings, hashing: HashingEncoder
) -> None:
    assert run_build(sample_copy, hashing, full=True).mode == "full"
    generation = current(sample_copy)
    assert generation.manifest.full_because == "asked for (--full)"
    tight = sample_copy.replace(refit_fraction=0.01)
    random_changes(tight, random.Random(1), 9)
    report = run_build(tight, hashing)
    assert report.mode == "full"
    assert "changed since the lexical models were fitted" in str(
        current(tight).manifest.full_because
    )


@pytest.mark.parametrize("setting", [{"weight_labels": 0.9}, {"candidates": 150}])
def test_changed_ranking_settings_force_a_full_build(
    sample_copy: Settings, hashing: HashingEncoder, setting: dict[str, Any]
) -> None:
    report = run_build(sample_copy.replace(**setting), hashing)
    assert report.mode == "full"
    assert "settings" in str(current(sample_copy).manifest.full_because)


def test_a_changed_ranking_formula_forces_a_full_build(
    sample_copy: Settings, hashing: HashingEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    changed = signals.RANKING_VERSION + 1
    monkeypatch.setattr(build_steps, "RANKING_VERSION", changed)
    report = run_build(sample_copy, hashing)
    assert report.mode == "full"
    assert "ranking" in str(current(sample_copy).manifest.full_because)
    assert current(sample_copy).manifest.fingerprint["ranking_version"] == changed
    assert run_build(sample_copy, hashing).mode == "incremental"


def test_incremental_builds_above_exact_search_extend_the_hnsw_graph(
    settings_for: Any, hashing: HashingEncoder
) -> None:
    """Above RELATED_EXACT_MAX an incremental build adds to the last HNSW graph (retiring the
    vectors of changed and deleted articles) and ranks from candidates: its lists stay close to
    exact ranking and never hold a deleted article."""
    settings: Settings = settings_for(
        neighbours=5,
        max_k=5,
        default_k=5,
        refit_fraction=1.0,
        max_drift=1.0,
        exact_max=10,
        candidates=8,
    )
    ingest_file(settings)
    run_build(settings, hashing)
    rng = random.Random(3)
    for round_number in range(3):
        stored_before = len(current(settings).parts.index)
        to_encode, deleted = random_changes(settings, rng, round_number)
        report = run_build(settings, hashing)
        assert report.mode == "incremental" and report.encoded == to_encode
        assert report.lists_recomputed < report.articles
        generation = current(settings)
        index = generation.parts.index
        assert index.kind == "hnsw"
        assert len(index) == stored_before + 4 + 3  # added and edited articles appended
        assert index.retired == 3 * (round_number + 1) + 2 * (round_number + 1)
        keys = np.asarray(generation.parts.keys)
        listed = np.asarray(generation.parts.neighbour_keys)
        assert not np.isin(listed, list(deleted)).any()
        expected = all_ranked_neighbours(
            generation.corpus, 5, weights=settings.weights, exact=True
        ).positions
        expected_keys = np.where(expected >= 0, keys[np.maximum(expected, 0)], -1)
        recall = np.mean(
            [len(set(a) & set(e)) / 5 for a, e in zip(listed, expected_keys, strict=True)]
        )
        assert recall >= 0.9, recall


def test_incremental_builds_read_only_changed_articles_and_full_builds_drop_stale_vectors(
    sample_copy: Settings, hashing: HashingEncoder
) -> None:
    def cached() -> int:
        with sqlite3.connect(sample_copy.db_path) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0])

    before = cached()
    edited = "2026-03-09-grid-operator-demand-response"
    with ArticleStore(sample_copy.db_path) as store:
        article = store.get(edited)
        assert article is not None
        with store.write() as writer:
            writer.upsert(replace(article.article, body=article.article.body + " A late update."))
    reads: list[tuple[str, int, int]] = []
    loose = sample_copy.replace(max_drift=1.0)  # one of 66 is past the drift bound
    with ArticleStore(sample_copy.db_path) as store:
        report = build(loose, store, hashing, progress=lambda *p: reads.append(p))
    assert report.mode == "incremental" and report.encoded == 1
    assert [p for p in reads if p[0] == "reading"][-1][1:] == (1, 1)  # one article read
    assert cached() == before + 1  # the old text's vector stays until a full build
    assert run_build(sample_copy, hashing, full=True).encoded == 0
    assert cached() == before
