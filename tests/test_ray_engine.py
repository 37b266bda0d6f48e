"""`related build --engine ray` on a local Ray cluster that the tests start (2 CPUs): the same
lists as a local build, the model loaded once per encoding worker, dead workers retried, and a
build that runs out of retries failing without touching the served generation.

Ray is an optional extra (`pip install '.[ray]'`, which CI installs); without it these skip.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from embeddings.encoder import Encoder
from embeddings.hashing import HashingEncoder
from service.article import embedding_text, text_hash
from service.build.builder import build
from service.build.state import read_status
from service.cli import cli
from service.config.settings import Settings
from service.errors import EngineFailed
from service.generations.generation import Generation, current_name
from service.store import ArticleStore
from tests.conftest import (
    REAL_MODEL,
    copy_data_dir,
    ingest_file,
    load_sample_articles,
    make_settings,
)

ray = pytest.importorskip("ray", reason="the `ray` extra is not installed")

from service.build.engines.ray_engine import RayEngine  # noqa: E402

RAY_BUILD = ["build", "--engine", "ray"]


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def fresh(tmp_path: Path, name: str, **overrides: Any) -> Settings:
    settings = make_settings(tmp_path / name, **overrides)
    ingest_file(settings)
    return settings


def built(settings: Settings) -> Generation:
    root = settings.generations_dir
    return Generation.load(root, current_name(root) or "")


def assert_same_lists(a: Generation, b: Generation) -> None:
    """Same keys, scores and lists; where two neighbours tie, either order is the same list."""
    assert np.array_equal(a.parts.keys, b.parts.keys)
    scores_a, scores_b = np.asarray(a.parts.neighbour_scores), np.asarray(b.parts.neighbour_scores)
    assert np.allclose(scores_a, scores_b, atol=1e-5, equal_nan=True)
    keys_a, keys_b = np.asarray(a.parts.neighbour_keys), np.asarray(b.parts.neighbour_keys)
    for row in np.nonzero((keys_a != keys_b).any(axis=1))[0]:
        for score in np.unique(scores_a[row][keys_a[row] != keys_b[row]]):
            tied_a = set(keys_a[row][np.isclose(scores_a[row], score, atol=1e-5)])
            tied_b = set(keys_b[row][np.isclose(scores_b[row], score, atol=1e-5)])
            assert tied_a == tied_b, f"row {row} differs beyond ties"
    assert np.array_equal(a.parts.duplicate_rows, b.parts.duplicate_rows)


def change_articles(settings: Settings) -> None:
    """Three new articles, one edited, one deleted: an incremental build's work."""
    articles = load_sample_articles()
    with ArticleStore(settings.db_path) as store, store.write() as writer:
        from service.ingest.records import validate_record

        for i, original in enumerate(articles[:3]):
            record = {
                **original,
                "id": f"follow-up-{i}",
                "title": "Follow-up: " + original["title"],
            }
            article = validate_record(record, "test")
            assert not isinstance(article, list)
            writer.upsert(article)
        edited = validate_record({**articles[5], "body": "A rewritten body about trams."}, "t")
        assert not isinstance(edited, list)
        writer.upsert(edited)
        writer.delete(articles[7]["id"])


def test_a_ray_build_ranks_the_same_lists_as_a_local_build_full_and_incremental(
    ray_cluster: None, tmp_path: Path, hashing: HashingEncoder
) -> None:
    local, distributed = (
        fresh(tmp_path, "local", max_drift=1.0),
        fresh(tmp_path, "ray", max_drift=1.0),
    )
    engine = RayEngine(distributed, hashing, chunk=16)
    for settings, runs_on in ((local, None), (distributed, engine)):
        with ArticleStore(settings.db_path) as store:
            assert build(settings, store, hashing, engine=runs_on).encoded == 66
    assert_same_lists(built(local), built(distributed))
    # 66 texts in batches of 16 on at most 2 actors, each of which loaded its model once.
    assert 1 <= len(engine.model_loads) <= 2 and set(engine.model_loads.values()) == {1}
    assert sum(engine.batches.values()) >= 5

    for settings, runs_on in ((local, None), (distributed, engine)):
        change_articles(settings)
        cache_every_vector(settings, hashing)  # this part is about ranking: no encoding
        with ArticleStore(settings.db_path) as store:
            report = build(settings, store, hashing, engine=runs_on)
        assert report.mode == "incremental" and report.lists_recomputed > 4
    assert_same_lists(built(local), built(distributed))


def test_a_ray_build_above_exact_ranking_ships_the_hnsw_index_to_its_workers(
    ray_cluster: None, sample_copy: Settings, tmp_path: Path, hashing: HashingEncoder
) -> None:
    # Every vector is cached in the sample: these builds only rank, which is what is tested.
    local = sample_copy.replace(exact_max=20, candidates=20)
    distributed = copy_data_dir(sample_copy.data_dir, tmp_path / "ray").replace(
        exact_max=20, candidates=20
    )
    with ArticleStore(local.db_path) as store:
        assert build(local, store, hashing, full=True).encoded == 0
    result = CliRunner().invoke(
        cli,
        [*RAY_BUILD, "--full", "--json", "--quiet", "--data-dir", str(distributed.data_dir)],
        env={"RELATED_MODEL": "hashing", "RELATED_EXACT_MAX": "20", "RELATED_CANDIDATES": "20"},
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["index_kind"] == "hnsw"
    assert_same_lists(built(local), built(distributed))


def test_a_ray_worker_that_dies_mid_build_is_replaced_and_its_shard_ranked_again(
    ray_cluster: None,
    sample_dir: Path,
    sample_copy: Settings,
    hashing: HashingEncoder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    once = sample_copy.data_dir.parent / "died-once"
    monkeypatch.setenv("RELATED_FAILPOINT", "ray-rank-shard")
    monkeypatch.setenv("RELATED_FAILPOINT_ONCE", str(once))
    with ArticleStore(sample_copy.db_path) as store:
        build(sample_copy, store, hashing, engine=RayEngine(sample_copy, hashing), full=True)
    assert once.exists()  # a worker did die
    local = sample_dir / "generations"
    assert_same_lists(Generation.load(local, current_name(local) or ""), built(sample_copy))


def test_a_ray_build_out_of_retries_fails_and_the_served_generation_stays(
    ray_cluster: None,
    sample_copy: Settings,
    hashing: HashingEncoder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served = current_name(sample_copy.generations_dir)
    monkeypatch.setenv("RELATED_FAILPOINT", "ray-rank-shard")
    engine = RayEngine(sample_copy, hashing, retries=1)
    with ArticleStore(sample_copy.db_path) as store, pytest.raises(EngineFailed) as failed:
        build(sample_copy, store, hashing, engine=engine, full=True)
    assert "served generation is unchanged" in failed.value.message
    assert current_name(sample_copy.generations_dir) == served
    assert sorted(p.name for p in sample_copy.generations_dir.iterdir()) == [served, "CURRENT"]
    assert read_status(sample_copy.data_dir)["state"] == "failed"
    monkeypatch.delenv("RELATED_FAILPOINT")
    with ArticleStore(sample_copy.db_path) as store:
        assert build(sample_copy, store, hashing, engine=engine, full=True).encoded == 0


def test_each_ray_encoding_worker_loads_the_real_model_once(
    ray_cluster: None, tmp_path: Path, encoder: Encoder
) -> None:
    settings = make_settings(tmp_path / "data", model=REAL_MODEL, ray_workers=2)
    texts = [
        (text_hash(t), t)
        for t in (
            embedding_text(_article(a), settings.max_text_chars)
            for a in load_sample_articles()[:16]
        )
    ]
    engine = RayEngine(settings, encoder, chunk=4)
    vectors = dict(
        pair for digests, found in engine.encode(texts) for pair in zip(digests, found, strict=True)
    )
    # 4 batches on (up to) 2 workers: a worker loads the model once, whatever it encodes. (An
    # actor that is ready first may take every batch of so small a job.)
    assert 1 <= len(engine.model_loads) <= 2 and set(engine.model_loads.values()) == {1}
    assert sum(engine.batches.values()) == 4 and max(engine.batches.values()) >= 2
    expected = encoder.encode([text for _, text in texts])
    found = np.stack([vectors[digest] for digest, _ in texts])
    assert np.allclose(found, expected, atol=1e-5)


def cache_every_vector(settings: Settings, encoder: HashingEncoder) -> None:
    with ArticleStore(settings.db_path) as store:
        texts = [
            embedding_text(stored.article, settings.max_text_chars)
            for stored in store.iter_articles()
        ]
        vectors = encoder.encode(texts)
        store.cache_vectors(
            encoder.identity, zip((text_hash(t) for t in texts), vectors, strict=True)
        )


def _article(record: dict[str, Any]) -> Any:
    from service.ingest.records import validate_record

    article = validate_record(record, "test")
    assert not isinstance(article, list)
    return article
