"""Builds (`service.build.builder`): the embedding cache, generations on disk, and what a failed build
leaves behind."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from embeddings.hashing import HashingEncoder
from embeddings.signals import SIGNALS, SPARSE_SIGNALS
from service.article import Article
from service.build.builder import BuildReport, EmptyStore, build
from service.config.settings import Settings
from service.generations.generation import Generation, current_name
from service.generations.manifest import Manifest
from service.generations.parts import Parts
from service.store import ArticleStore
from tests.conftest import REAL_MODEL, CountingEncoder, ingest_file


def run_build(settings: Settings, encoder: Any) -> BuildReport:
    return build(settings, ArticleStore(settings.db_path), encoder)


def test_second_build_encodes_nothing_and_an_edit_encodes_exactly_one(
    settings_for: Callable[..., Settings], counting_encoder: CountingEncoder
) -> None:
    settings = settings_for(model=REAL_MODEL)
    ingest_file(settings)
    first = run_build(settings, counting_encoder)
    assert (first.encoded, first.reused) == (first.articles, 0)

    again = run_build(settings, counting_encoder)
    assert (again.encoded, again.reused) == (0, first.articles)

    store = ArticleStore(settings.db_path)
    stored = store.get("2026-03-02-heatwave-grid-record")
    assert stored is not None
    with store.write() as writer:
        writer.upsert(
            Article(**{**stored.article.__dict__, "body": stored.article.body + " Updated."})
        )
    counting_encoder.texts.clear()
    edited = run_build(settings, counting_encoder)
    assert edited.encoded == 1
    assert len(counting_encoder.texts) == 1 and counting_encoder.texts[0].endswith("Updated.")


def test_metadata_only_change_is_not_re_encoded(
    sample_copy: Settings, hashing: HashingEncoder
) -> None:
    counting_encoder = CountingEncoder(hashing)
    store = ArticleStore(sample_copy.db_path)
    stored = store.get("2026-03-02-heatwave-grid-record")
    assert stored is not None
    with store.write() as writer:
        writer.upsert(Article(**{**stored.article.__dict__, "tags": ("changed",)}))
    assert run_build(sample_copy, counting_encoder).encoded == 0


def test_deleted_article_leaves_the_index_and_every_list(
    sample_copy: Settings, hashing: HashingEncoder
) -> None:
    counting_encoder = CountingEncoder(hashing)
    store = ArticleStore(sample_copy.db_path)
    victim = store.get("2026-03-09-grid-operator-demand-response")
    assert victim is not None
    with store.write() as writer:
        writer.delete(victim.article.id)
    report = run_build(sample_copy, counting_encoder)
    generation = Generation.load(sample_copy.generations_dir, report.generation)
    assert report.articles == 65 and len(generation) == 65
    assert generation.position(victim.key) is None
    assert victim.key not in np.asarray(generation.parts.neighbour_keys)


def test_generation_manifest_and_lists(sample_dir: Any) -> None:
    root = sample_dir / "generations"
    generation = Generation.load(root, current_name(root) or "")
    manifest = generation.manifest
    assert manifest.dimension == 384 and manifest.count == 66 and manifest.encoder == "hashing:384"
    assert manifest.versions and manifest.settings and manifest.built_at
    assert manifest.index_kind == "flat" and manifest.store_revision >= 1
    assert manifest.ranking.signals == [s.name for s in SIGNALS]
    on_disk = json.loads((generation.path / "manifest.json").read_text())
    assert Manifest.from_json(on_disk, where="test") == manifest
    keys = np.asarray(generation.parts.keys)
    assert list(keys) == sorted(keys)
    for key in keys:
        neighbours = generation.neighbours(int(key))
        assert neighbours is not None and len(neighbours) == 50
        assert int(key) not in [k for k, _ in neighbours]
        scores = [s for _, s in neighbours]
        assert scores == sorted(scores, reverse=True)


class FailingEncoder(CountingEncoder):
    def encode(self, texts: Sequence[str], *, progress: Any = None) -> npt.NDArray[np.float32]:
        raise RuntimeError("model crashed")


def test_failed_build_keeps_the_previous_generation_serving(
    sample_copy: Settings, hashing: HashingEncoder
) -> None:
    before = current_name(sample_copy.generations_dir)
    store = ArticleStore(sample_copy.db_path)
    with store.write() as writer:
        writer.upsert(Article(id="new-one", title="A brand new article", body="Text."))
    with pytest.raises(RuntimeError):
        run_build(sample_copy, FailingEncoder(hashing))
    assert current_name(sample_copy.generations_dir) == before
    status = json.loads((sample_copy.data_dir / "build-status.json").read_text())
    assert status["state"] == "failed" and "model crashed" in status["error"]
    assert not list(sample_copy.generations_dir.glob(".tmp-*"))


def test_only_the_last_generations_are_kept(sample_copy: Settings, hashing: HashingEncoder) -> None:
    names = [run_build(sample_copy, hashing).generation for _ in range(3)]
    on_disk = sorted(p.name for p in sample_copy.generations_dir.iterdir() if p.is_dir())
    assert on_disk == sorted(names[-2:])
    assert current_name(sample_copy.generations_dir) == names[-1]


def test_building_an_empty_store_is_a_clear_error(
    settings_for: Callable[..., Settings], hashing: HashingEncoder
) -> None:
    with pytest.raises(EmptyStore, match="ingest some first"):
        run_build(settings_for(), hashing)


def test_served_arrays_and_lexical_matrices_are_memory_mapped(sample_dir: Any) -> None:
    """Workers share one page-cache copy: nothing large is loaded into private memory."""
    root = sample_dir / "generations"
    generation = Generation.load(root, current_name(root) or "")
    parts = generation.parts
    arrays = [parts.vectors, parts.neighbour_keys, parts.neighbour_scores, parts.stats]
    for matrix in parts.matrices.values():
        arrays += [matrix.data, matrix.indices]
    for array in arrays:
        assert not np.asarray(array).flags.writeable  # read-only: a memory map of the file
    assert generation.corpus.text.shape[0] == len(generation) == 66


def test_every_declared_part_is_written_and_loaded(sample_dir: Any) -> None:
    root = sample_dir / "generations"
    generation = Generation.load(root, current_name(root) or "")
    for f in fields(Parts):
        assert getattr(generation.parts, f.name) is not None, f.name
    assert set(generation.parts.matrices) == {s.name for s in SPARSE_SIGNALS}
