"""Build and serving at scale, encoding excluded: generated articles whose vectors are written
straight into the embedding cache, so the builder never calls the model.

    .venv/bin/python bench/bench_scale.py --sizes 10000,30000

For each size: ingest rate, full build time, an incremental build after 1% new articles, peak
memory of the process, generation size on disk, related-by-ID latency p50/p99 in process, and
recall@10 of the approximate path (candidate union over HNSW, forced by a low exact_max) against
the exact lists. Vectors are clustered (a topic centre plus noise) and the text draws topic words,
so neighbours exist; synthetic vectors are still a harder case for HNSW than real embeddings.
Figures, not assertions.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import describe_machine, machine, percentiles  # noqa: E402
from service.articles import Article, embedding_text, text_hash  # noqa: E402
from service.builder import build  # noqa: E402
from service.config import Settings, load_settings  # noqa: E402
from service.generations import Generation, current_name  # noqa: E402
from service.services import Services, make_encoder  # noqa: E402
from service.store import ArticleStore  # noqa: E402

DIM = 384


class CachedOnly:
    """The real encoder's identity, but encoding is a bug here: every vector is pre-cached."""

    def __init__(self, identity: str) -> None:
        self.identity = identity
        self.dimension = DIM

    def encode(self, texts: Sequence[str], *, progress: Any = None) -> npt.NDArray[np.float32]:
        raise AssertionError(f"asked to encode {len(texts)} texts: the cache should hold them")


def generate(
    count: int, start: int, topics: int, rng: random.Random, centres: npt.NDArray[np.float32]
) -> tuple[list[Article], npt.NDArray[np.float32]]:
    # Each topic owns 50 words; the rest of the vocabulary is shared background.
    vocabulary = [f"w{i}" for i in range(max(20_000, topics * 50 + 5_000))]
    articles, vectors = [], np.zeros((count, DIM), dtype=np.float32)
    nrng = np.random.default_rng(start)
    for i in range(count):
        topic = rng.randrange(topics)
        topic_words = vocabulary[topic * 50 : topic * 50 + 50]
        words = rng.choices(topic_words, k=60) + rng.choices(vocabulary, k=120)
        rng.shuffle(words)
        number = start + i
        articles.append(
            Article(
                id=f"a{number}",
                title=" ".join(rng.choices(topic_words, k=8)),
                body=" ".join(words),
                published=f"20{10 + number % 15}-{1 + number % 12:02d}-{1 + number % 28:02d}",
                section=f"s{topic % 12}",
                tags=(f"t{topic}", f"t{rng.randrange(topics)}"),
                lang="en",
            )
        )
        vector = centres[topic] + 0.9 * nrng.normal(size=DIM).astype(np.float32) / np.sqrt(DIM)
        vectors[i] = vector / np.linalg.norm(vector)
    return articles, vectors


def add(
    settings: Settings, identity: str, articles: list[Article], vectors: npt.NDArray[np.float32]
) -> float:
    started = time.perf_counter()
    with ArticleStore(settings.db_path) as store:
        with store.write() as writer:
            for article in articles:
                writer.upsert(article)
        store.cache_vectors(
            identity,
            (
                (text_hash(embedding_text(a, settings.max_text_chars)), v)
                for a, v in zip(articles, vectors, strict=True)
            ),
        )
    return time.perf_counter() - started


def timed_build(settings: Settings, encoder: Any, **options: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    with ArticleStore(settings.db_path) as store:
        report = build(settings, store, encoder, **options)
    return report, time.perf_counter() - started


def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run(size: int, args: argparse.Namespace, identity: str) -> dict[str, Any]:
    rng = random.Random(size)
    topics = max(20, size // 100)
    centres = np.random.default_rng(0).normal(size=(topics, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            environ={}, data_dir=Path(tmp) / "data", preload_model=False, exact_max=args.exact_max
        )
        encoder = CachedOnly(identity)
        articles, vectors = generate(size, 0, topics, rng, centres)
        ingest_s = add(settings, identity, articles, vectors)
        full, full_s = timed_build(settings, encoder)
        extra, extra_vectors = generate(max(1, size // 100), size, topics, rng, centres)
        add(settings, identity, extra, extra_vectors)
        incremental, incremental_s = timed_build(settings, encoder)
        root = settings.generations_dir
        generation_bytes = directory_size(root / (current_name(root) or ""))

        recommender = Services.open(settings, encoder=encoder).recommender  # type: ignore[arg-type]
        ids = [a.id for a in articles]
        sample = [rng.choice(ids) for _ in range(args.requests)]
        for article_id in sample[:50]:
            recommender.related(article_id, 10)
        timings = []
        for article_id in sample:
            t0 = time.perf_counter()
            recommender.related(article_id, 10)
            timings.append((time.perf_counter() - t0) * 1000)

        recall = None
        if size > 1000 and args.recall:
            exact = Generation.load(root, current_name(root) or "")
            approx_settings = replace(settings, exact_max=min(1000, size - 1))
            approx_report, approx_s = timed_build(approx_settings, encoder, full=True)
            approx = Generation.load(root, current_name(root) or "")
            a_keys, e_keys = (
                np.asarray(approx.neighbour_keys)[:, :10],
                np.asarray(exact.neighbour_keys)[:, :10],
            )
            recall = {
                "recall_at_10": round(
                    float(
                        np.mean(
                            [len(set(a) & set(e)) / 10 for a, e in zip(a_keys, e_keys, strict=True)]
                        )
                    ),
                    4,
                ),
                "approx_build_s": round(approx_s, 1),
                "index_kind": approx_report.index_kind,
            }
    return {
        "articles": size,
        "ingest_articles_per_s": round(size / ingest_s),
        "full_build_s": round(full_s, 1),
        "full_mode": full.mode,
        "index_kind": full.index_kind,
        "incremental_build_s": round(incremental_s, 2),
        "incremental_added": len(extra),
        "incremental_mode": incremental.mode,
        "lists_recomputed": incremental.lists_recomputed,
        "generation_mb": round(generation_bytes / 2**20, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "related_in_process_k10": percentiles(timings),
        "approximate": recall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--exact-max", type=int, default=50_000)
    parser.add_argument("--no-recall", dest="recall", action="store_false")
    args = parser.parse_args()
    identity = make_encoder(load_settings(environ={})).identity
    print(describe_machine(machine()))
    for size in (int(s) for s in args.sizes.split(",")):
        r = run(size, args, identity)
        latency = r["related_in_process_k10"]
        line = (
            f"{r['articles']:>8} articles: ingest {r['ingest_articles_per_s']}/s; full build {r['full_build_s']}s "
            f"({r['index_kind']}, {r['full_mode']}); +{r['incremental_added']} articles: {r['incremental_mode']} "
            f"build {r['incremental_build_s']}s, {r['lists_recomputed']} lists ranked; generation "
            f"{r['generation_mb']} MB; peak RSS {r['peak_rss_mb']} MB; related p50 {latency['p50_ms']} ms "
            f"p99 {latency['p99_ms']} ms"
        )
        if r["approximate"]:
            a = r["approximate"]
            line += f"; approximate path ({a['index_kind']}): build {a['approx_build_s']}s, recall@10 {a['recall_at_10']}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
