"""Build and serving at scale: generated articles whose vectors are written straight into the
embedding cache, so the builder never calls the model.

    .venv/bin/python bench/bench_scale.py --sizes 10000,100000,1000000

Each size runs in its own process (so peak memory is that size's). For each: ingest rate, full
build time without encoding and, projected from the real model's rate measured here on the same
generated articles, with it; an incremental build after 1% new articles; peak memory of the
build process; generation and vector index size on disk; related-by-ID latency p50/p99 in
process; recall@10 of the stored lists against exact ranking of 1,000 sampled articles (after
the full and after the incremental build); the memory of each of 2 serving workers (RSS and
PSS, which splits shared pages between the processes that map them) after a round of requests;
and related-by-ID over HTTP under load (wrk, 8 connections, the page cache warm, no answer
cache so every request ranks). `--http-only DATA_DIR` measures the last on a directory built
before; `--keep --workdir DIR` keeps each size's directory as DIR/s<size> for that (and for
`bench_http.py`). The full build's time includes rendering every article's stored default
answer (`service.related.precomputed`); its phase time and the stored answers' size are printed.

Vectors are clustered (a topic centre plus noise) and the text draws topic words, so neighbours
exist. bench/bench_index.py measures the index on real embeddings. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import describe_machine, machine, percentiles, start_server  # noqa: E402
from bench.load import LoadResult, run_wrk  # noqa: E402
from embeddings.neighbours import ListOptions, ranked_lists  # noqa: E402
from service.article import Article, embedding_text, text_hash  # noqa: E402
from service.build.builder import build  # noqa: E402
from service.config.options import parse_options  # noqa: E402
from service.config.settings import Settings, load_settings  # noqa: E402
from service.generations.answers import FILES as ANSWER_FILES  # noqa: E402
from service.generations.generation import Generation, current_name  # noqa: E402
from service.services import Services, make_encoder  # noqa: E402
from service.store import ArticleStore  # noqa: E402

DIM = 384
GENERATE_CHUNK = 50_000


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


def timed_build(
    settings: Settings, encoder: Any, **options: Any
) -> tuple[Any, float, dict[str, float]]:
    """The build's report, its seconds, and the seconds of each phase (from its first report
    to the next phase's)."""
    started = time.perf_counter()
    phases: list[tuple[str, float]] = []

    def phase_times(phase: str, done: int, total: int) -> None:
        if not phases or phases[-1][0] != phase:  # each phase's start, on stderr
            elapsed = time.perf_counter() - started
            phases.append((phase, elapsed))
            print(f"  {elapsed:7.1f}s {phase}", file=sys.stderr, flush=True)

    with ArticleStore(settings.db_path) as store:
        report = build(settings, store, encoder, progress=phase_times, **options)
    seconds = time.perf_counter() - started
    ends = [at for _, at in phases[1:]] + [seconds]
    durations: dict[str, float] = {}
    for (phase, at), end in zip(phases, ends, strict=True):
        durations[phase] = durations.get(phase, 0.0) + end - at
    return report, seconds, durations


def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def encoding_rate(settings: Settings, count: int = 128) -> float:
    """Articles per second of the real model on generated articles (model load excluded)."""
    centres = np.random.default_rng(0).normal(size=(20, DIM)).astype(np.float32)
    articles, _ = generate(count, 0, 20, random.Random(0), centres)
    texts = [embedding_text(a, settings.max_text_chars) for a in articles]
    encoder = make_encoder(settings)
    encoder.encode(texts[:8])
    started = time.perf_counter()
    encoder.encode(texts)
    return count / (time.perf_counter() - started)


def lists_recall(generation: Generation, settings: Settings, rows: npt.NDArray[np.int64]) -> float:
    """recall@10 of the stored lists of `rows` against ranking them exactly."""
    exact = ranked_lists(generation.corpus, rows, 10, ListOptions(settings.weights, exact=True))
    keys = np.asarray(generation.parts.keys)
    expected = np.where(exact.positions >= 0, keys[np.maximum(exact.positions, 0)], -1)
    stored = np.asarray(generation.parts.neighbour_keys)[rows, :10]
    return float(
        np.mean([len(set(s) & set(e)) / 10 for s, e in zip(stored, expected, strict=True)])
    )


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def memory_mb(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])
    # Anonymous memory is the process's own heap; the rest of its RSS is mapped files (the
    # generation, libraries), which every worker shares through the page cache.
    return {
        "rss_mb": fields["Rss"] // 1024,
        "pss_mb": fields["Pss"] // 1024,
        "anonymous_mb": fields["Anonymous"] // 1024,
    }


def serving(
    settings: Settings, ids: list[str], requests_each: int, load_seconds: float
) -> tuple[list[dict[str, int]], LoadResult]:
    """Start `related serve` with 2 workers and no answer cache (every request ranks), ask
    for related lists (plain, filtered, explained), then put it under load (wrk, 8 connections,
    related-by-ID over up to 5,000 articles, after a warm-up round); return each worker's
    memory and the load's figures."""
    process, base = start_server(settings.data_dir, workers=2, env={"RELATED_RESPONSE_CACHE": "0"})
    queries = ["", "?section=s1", "?explain=1"]
    urls = [
        f"{base}/articles/{article_id}/related{queries[i % 3]}"
        for i, article_id in enumerate(ids[:requests_each])
    ]
    paths = [f"/articles/{article_id}/related?k=10" for article_id in ids[:5000]]
    try:
        # 4 concurrent clients, so that both workers serve their share.
        with ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(lambda url: requests.get(url, timeout=120).status_code, urls))
        if set(statuses) != {200}:
            raise RuntimeError(f"server answered {sorted(set(statuses))}")
        run_wrk(base, paths, seconds=max(1.0, load_seconds / 3))  # the page cache, warm
        load = run_wrk(base, paths, seconds=load_seconds, server_pid=process.pid)
        return [memory_mb(pid) for pid in children(process.pid)], load
    finally:
        process.terminate()
        process.wait(timeout=30)


def http_only(data_dir: Path, seconds: float) -> None:
    """The HTTP figures alone, on a data directory built before (`--data-dir`)."""
    settings = load_settings(environ={}, data_dir=data_dir, preload_model=False)
    with ArticleStore(settings.db_path) as store:
        ids = [stored.article.id for stored in store.iter_articles()]
    asked = random.Random(0).sample(ids, min(len(ids), 5000))
    workers, load = serving(settings, asked, 300, seconds)
    print(
        f"{len(ids):>8} articles: {describe_load(load)}; 2 workers RSS/PSS/anonymous MB: "
        + ", ".join(f"{w['rss_mb']}/{w['pss_mb']}/{w['anonymous_mb']}" for w in workers)
    )


def describe_load(load: LoadResult) -> str:
    return (
        f"related k=10 over HTTP under load (wrk, 8 connections, every answer ranked) "
        f"{load.requests_per_s:,.0f} req/s p50 {load.p50_ms} ms p99 {load.p99_ms} ms "
        f"({load.errors} errors)"
    )


def run(size: int, args: argparse.Namespace, identity: str, rate: float | None) -> dict[str, Any]:
    rng = random.Random(size)
    topics = max(20, size // 100)
    centres = np.random.default_rng(0).normal(size=(topics, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    kept = args.workdir / f"s{size}" if args.keep and args.workdir else None
    with nullcontext(str(kept)) if kept else tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        settings = load_settings(
            environ={}, data_dir=Path(tmp) / "data", preload_model=False, exact_max=args.exact_max
        )
        encoder = CachedOnly(identity)
        ids: list[str] = []
        ingest_s = 0.0
        for start in range(0, size, GENERATE_CHUNK):  # chunks: the articles never all sit in memory
            articles, vectors = generate(
                min(GENERATE_CHUNK, size - start), start, topics, rng, centres
            )
            ingest_s += add(settings, identity, articles, vectors)
            ids += [a.id for a in articles]
            print(f"  generated and ingested {len(ids)}", file=sys.stderr, flush=True)
        full, full_s, full_phases = timed_build(settings, encoder)
        root = settings.generations_dir
        generation = Generation.load(root, current_name(root) or "")
        generation_bytes = directory_size(generation.path)
        answers_bytes = sum((generation.path / name).stat().st_size for name in ANSWER_FILES)
        index_bytes = sum(p.stat().st_size for p in generation.path.glob("index.faiss*"))
        sample = np.sort(np.random.default_rng(1).choice(size, min(size, 1000), replace=False))
        full_recall = lists_recall(generation, settings, sample)
        del generation

        extra, extra_vectors = generate(max(1, size // 100), size, topics, rng, centres)
        add(settings, identity, extra, extra_vectors)
        incremental, incremental_s, _ = timed_build(settings, encoder)
        generation = Generation.load(root, current_name(root) or "")
        incremental_recall = lists_recall(generation, settings, sample)
        del generation
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        recommender = Services.open(settings, encoder=encoder).recommender  # type: ignore[arg-type]
        asked = [rng.choice(ids) for _ in range(args.requests)]
        for article_id in asked[:50]:
            recommender.related(article_id, 10)
        timings = []
        for article_id in asked:
            t0 = time.perf_counter()
            recommender.related(article_id, 10)
            timings.append((time.perf_counter() - t0) * 1000)
        # A section filter (1 in 12 articles) that the stored list can't fill searches afresh.
        in_section = parse_options({"section": "s1"}, settings)
        filtered = []
        for article_id in asked[: args.requests // 5]:
            t0 = time.perf_counter()
            recommender.related(article_id, options=in_section)
            filtered.append((time.perf_counter() - t0) * 1000)
        workers, load = serving(settings, asked, args.server_requests, args.load_seconds)
    return {
        "articles": size,
        "ingest_articles_per_s": round(size / ingest_s),
        "full_build_s": round(full_s, 1),
        "full_build_with_encoding_s": round(full_s + size / rate, 1) if rate else None,
        "full_mode": full.mode,
        "index_kind": full.index_kind,
        "incremental_build_s": round(incremental_s, 2),
        "incremental_added": len(extra),
        "incremental_mode": incremental.mode,
        "lists_recomputed": incremental.lists_recomputed,
        "generation_mb": round(generation_bytes / 2**20, 1),
        "answers_mb": round(answers_bytes / 2**20, 1),
        "answers_s": round(full_phases.get("answers", 0.0), 1),
        "index_mb": round(index_bytes / 2**20, 1),
        "peak_rss_mb": round(peak_rss),
        "related_in_process_k10": percentiles(timings),
        "related_section_filter_k10": percentiles(filtered),
        "recall_at_10_full": round(full_recall, 4),
        "recall_at_10_incremental": round(incremental_recall, 4),
        "workers": workers,
        "http_load": load,
    }


def describe(r: dict[str, Any]) -> str:
    latency = r["related_in_process_k10"]
    filtered = r["related_section_filter_k10"]
    with_encoding = r["full_build_with_encoding_s"]
    workers = ", ".join(f"{w['rss_mb']}/{w['pss_mb']}/{w['anonymous_mb']}" for w in r["workers"])
    return (
        f"{r['articles']:>8} articles: ingest {r['ingest_articles_per_s']}/s; full build "
        f"{r['full_build_s']}s ({r['index_kind']}), with encoding {with_encoding}s (projected); "
        f"+{r['incremental_added']} articles: {r['incremental_mode']} build "
        f"{r['incremental_build_s']}s, {r['lists_recomputed']} lists ranked; generation "
        f"{r['generation_mb']} MB (index {r['index_mb']} MB, stored answers {r['answers_mb']} MB, "
        f"rendered in {r['answers_s']}s of the full build); peak RSS {r['peak_rss_mb']} MB; "
        f"related p50 {latency['p50_ms']} ms p99 {latency['p99_ms']} ms (section filter p50 "
        f"{filtered['p50_ms']} ms p99 {filtered['p99_ms']} ms); recall@10 vs exact "
        f"{r['recall_at_10_full']} (full), {r['recall_at_10_incremental']} (after incremental); "
        f"2 workers RSS/PSS/anonymous MB: {workers}; {describe_load(r['http_load'])}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--server-requests", type=int, default=300)
    parser.add_argument("--exact-max", type=int, default=Settings.exact_max)
    parser.add_argument("--workdir", type=Path, default=None, help="where the data dirs go")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep each size's data directory as WORKDIR/s<size> (for bench_http.py)",
    )
    parser.add_argument(
        "--encoding-rate", type=float, default=None, help="articles/s; measured when absent"
    )
    parser.add_argument("--load-seconds", type=float, default=10.0, help="of HTTP load")
    parser.add_argument(
        "--http-only",
        type=Path,
        default=None,
        metavar="DATA_DIR",
        help="only the HTTP figures, on a built data directory",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.http_only is not None:
        print(describe_machine(machine()))
        http_only(args.http_only, args.load_seconds)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    settings = load_settings(environ={})
    if not args.child:
        print(describe_machine(machine()))
    rate = args.encoding_rate
    if rate is None:
        rate = encoding_rate(settings)
        print(f"real model: {rate:.1f} generated articles/s (used to project builds with encoding)")
    if len(sizes) > 1:
        for size in sizes:  # one process per size: each reports its own peak memory
            child = [sys.executable, __file__, "--child", f"--sizes={size}"]
            child += [f"--encoding-rate={rate}", f"--requests={args.requests}"]
            child += [f"--server-requests={args.server_requests}", f"--exact-max={args.exact_max}"]
            child.append(f"--load-seconds={args.load_seconds}")
            if args.workdir:
                child.append(f"--workdir={args.workdir}")
            if args.keep:
                child.append("--keep")
            subprocess.run(child, check=True)
        return
    print(describe(run(sizes[0], args, make_encoder(settings).identity, rate)), flush=True)


if __name__ == "__main__":
    main()
