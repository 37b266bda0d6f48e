"""kill -9 during ingest, encoding, the generation write and the pointer swap: no committed
article is lost, no half-written generation is ever served, the next build recovers alone."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from embeddings.hashing import HashingEncoder
from service.build.builder import build
from service.config.settings import Settings
from service.disk.failpoints import FAILPOINTS
from service.generations.generation import MANIFEST, Generation, current_name
from service.services import Services
from service.store import ArticleStore
from tests.conftest import CountingEncoder, ingest_file
from tests.corpora import synthetic_articles


def write_jsonl(path: Path, articles: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(a) + "\n" for a in articles))
    return path


def cli(
    data_dir: Path, *args: str, failpoint: str | None = None, capture: bool = False
) -> subprocess.Popen[bytes]:
    """`related ARGS` in a subprocess; with `capture`, read stderr with communicate()."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELATED_")}
    env["RELATED_DATA_DIR"] = str(data_dir)
    env["RELATED_MODEL"] = "hashing"  # the model is not what these tests are about
    if failpoint:
        env["RELATED_FAILPOINT"] = failpoint
    return subprocess.Popen(
        [sys.executable, "-m", "service", *args, "--quiet"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE if capture else subprocess.DEVNULL,
    )


def assert_serving_a_complete_generation(settings: Settings, encoder: Any) -> str:
    root = settings.generations_dir
    name = current_name(root)
    assert name is not None and not name.startswith(".tmp")
    assert (root / name / MANIFEST).is_file()
    generation = Generation.load(root, name)
    generation.check_compatible(encoder.identity)
    result = Services.open(settings, encoder=encoder).recommender.related(
        "2026-03-02-heatwave-grid-record", 5
    )
    assert len(result.items) == 5
    return name


def store_ids(settings: Settings) -> set[str]:
    with ArticleStore(settings.db_path) as store:
        return {s.article.id for s in store.iter_articles()}


def test_builds_killed_at_every_failpoint(
    sample_copy: Settings, hashing: HashingEncoder, tmp_path: Path
) -> None:
    ingest_file(sample_copy, write_jsonl(tmp_path / "new.jsonl", synthetic_articles(300, "new")))
    served = assert_serving_a_complete_generation(sample_copy, hashing)
    for point in FAILPOINTS:
        process = cli(sample_copy.data_dir, "build", failpoint=point, capture=True)
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == -signal.SIGKILL, (point, stderr.decode()[-2000:])
        now = assert_serving_a_complete_generation(sample_copy, hashing)
        if point == "after-publish":
            assert now != served  # the swap happened: the new generation is complete
        else:
            assert now == served, point
        served = now
    # The next ordinary build needs no manual step: leftovers go, everything was encoded once.
    counting = CountingEncoder(hashing)
    with ArticleStore(sample_copy.db_path) as store:
        report = build(sample_copy, store, counting)
    assert report.encoded == 0 and report.articles == 366
    assert not list(sample_copy.generations_dir.glob(".tmp-*"))
    assert len([p for p in sample_copy.generations_dir.iterdir() if p.is_dir()]) <= 2
    assert_serving_a_complete_generation(sample_copy, hashing)


def test_a_killed_encoding_keeps_the_vectors_it_finished(
    sample_copy: Settings, hashing: HashingEncoder, tmp_path: Path
) -> None:
    ingest_file(sample_copy, write_jsonl(tmp_path / "new.jsonl", synthetic_articles(300, "enc", 1)))
    process = cli(
        sample_copy.data_dir, "build", failpoint="after-first-encoded-chunk", capture=True
    )
    process.communicate(timeout=300)
    assert process.returncode == -signal.SIGKILL
    counting = CountingEncoder(hashing)
    with ArticleStore(sample_copy.db_path) as store:
        report = build(sample_copy, store, counting)
    # The first encoder batch survived the kill: a chunk is one batch, so a build killed at
    # any moment loses at most the batch it was encoding.
    assert report.encoded == 300 - sample_copy.batch_size


def test_ingests_killed_at_random_moments_are_all_or_nothing(
    settings_for: Any, tmp_path: Path
) -> None:
    settings = settings_for()
    first = write_jsonl(tmp_path / "first.jsonl", synthetic_articles(50, "first"))
    assert cli(settings.data_dir, "ingest", str(first)).wait(timeout=60) == 0
    big = synthetic_articles(10_000, "big", seed=2)
    big_file = write_jsonl(tmp_path / "big.jsonl", big)
    committed = {a["id"] for a in synthetic_articles(50, "first")}
    rng = random.Random(3)
    for _ in range(4):
        process = cli(settings.data_dir, "ingest", str(big_file))
        time.sleep(rng.uniform(0.3, 1.5))  # the ingest takes about 1.2 s
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        ids = store_ids(settings)
        assert committed <= ids
        assert len(ids) in (len(committed), len(committed) + len(big))
        if len(ids) > len(committed):
            committed = ids
        with sqlite3.connect(settings.db_path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_builds_killed_at_random_moments_never_serve_a_partial_generation(
    sample_copy: Settings, hashing: HashingEncoder, tmp_path: Path
) -> None:
    ingest_file(
        sample_copy, write_jsonl(tmp_path / "more.jsonl", synthetic_articles(1500, "more", 4))
    )
    rng = random.Random(5)
    for _ in range(4):
        process = cli(sample_copy.data_dir, "build", "--full")
        # A build here takes about 2.3 s, 1.5 s of it imports: kill during the work itself.
        time.sleep(rng.uniform(1.0, 2.5))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        assert_serving_a_complete_generation(sample_copy, hashing)
    with ArticleStore(sample_copy.db_path) as store:
        report = build(sample_copy, store, hashing)
    assert report.articles == 1566
    assert not list(sample_copy.generations_dir.glob(".tmp-*"))
