"""The vector index on real embeddings: HNSW recall@10 against exact search, build time and
search speed, for a grid of parameters.

    .venv/bin/python bench/bench_index.py --corpus ../shared/data/auth0_blog/articles.jsonl

A real corpus has too few articles to show an index at scale, so its articles are cut into
passages (a few paragraphs each, every one a short article of its own) and every passage is
encoded with the real model: real embeddings, with the clumps and empty regions that random
vectors lack. The vectors are cached (`--cache`), so later runs skip the encoding. Each HNSW
setting is then built over the passages and its all-pairs top-10 (self left out, as in the
neighbour lists) compared with exact inner-product search.

    .venv/bin/python bench/bench_index.py --synthetic 1000000 --m 32 --ef-construction 80

With `--synthetic N`, the same for N clustered synthetic vectors (as bench_scale.py generates),
with recall measured on 1,000 sampled queries: the sizes no real sample here reaches.
Figures, not assertions.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import faiss
import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import describe_machine, machine  # noqa: E402
from service.config.settings import load_settings  # noqa: E402
from service.services import make_encoder  # noqa: E402

PASSAGE_CHARS = 250


def passages(corpus: Path, limit: int) -> list[str]:
    """Each article's body cut at paragraph breaks into pieces of at least PASSAGE_CHARS."""
    pieces: list[str] = []
    with corpus.open(encoding="utf-8") as lines:
        for line in lines:
            article = json.loads(line)
            current = ""
            for paragraph in str(article.get("body", "")).split("\n\n"):
                current = f"{current}\n\n{paragraph}".strip()
                if len(current) >= PASSAGE_CHARS:
                    pieces.append(f"{article.get('title', '')}\n{current}"[:1500])
                    current = ""
            if len(pieces) >= limit:
                break
    return pieces[:limit]


def real_vectors(corpus: Path, limit: int, cache: Path) -> npt.NDArray[np.float32]:
    if cache.exists():
        cached: npt.NDArray[np.float32] = np.load(cache)
        if len(cached) >= limit:
            return cached[:limit]
    texts = passages(corpus, limit)
    encoder = make_encoder(load_settings(environ={}))
    started = time.perf_counter()
    done = [0]

    def progress(count: int) -> None:
        done[0] += count
        print(f"\rencoding {done[0]}/{len(texts)}", end="", file=sys.stderr, flush=True)

    vectors = encoder.encode(texts, progress=progress)
    seconds = time.perf_counter() - started
    print(f"\nencoded {len(texts)} passages in {seconds:.0f}s ({len(texts) / seconds:.1f}/s)")
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, vectors)
    return vectors


def top10_without_self(
    index: faiss.Index, vectors: npt.NDArray[np.float32], positions: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    _, found = index.search(vectors, 11)
    own = found == positions[:, None]
    # Drop each row's own position (or, if absent, its 11th hit).
    own[~own.any(axis=1), -1] = True
    return found[~own].reshape(len(vectors), 10)


def synthetic_vectors(count: int) -> npt.NDArray[np.float32]:
    """Topic centres plus noise, one topic per 100 vectors, as in bench_scale.py."""
    rng = np.random.default_rng(0)
    topics = max(20, count // 100)
    centres = rng.normal(size=(topics, 384)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    vectors = np.empty((count, 384), dtype=np.float32)
    for start in range(0, count, 100_000):
        stop = min(start + 100_000, count)
        noise = rng.normal(size=(stop - start, 384)).astype(np.float32) / np.sqrt(384)
        vectors[start:stop] = centres[rng.integers(0, topics, stop - start)] + 0.9 * noise
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def recall(found: npt.NDArray[np.int64], truth: npt.NDArray[np.int64]) -> float:
    return float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--synthetic", type=int, default=0, help="N synthetic vectors instead")
    parser.add_argument("--queries", type=int, default=1000, help="sampled, with --synthetic")
    parser.add_argument("--passages", type=int, default=20_000)
    parser.add_argument(
        "--cache", type=Path, default=Path.home() / ".cache/related-articles/bench_passages.npy"
    )
    parser.add_argument("--m", default="16,32")
    parser.add_argument("--ef-construction", default="40,80,200")
    parser.add_argument("--ef-search", default="32,64,128")
    args = parser.parse_args()
    print(describe_machine(machine()))
    if args.synthetic:
        vectors = synthetic_vectors(args.synthetic)
        queries = np.sort(
            np.random.default_rng(1).choice(args.synthetic, args.queries, replace=False)
        )
        print(f"{args.synthetic} clustered synthetic vectors, {args.queries} sampled queries")
    elif args.corpus:
        vectors = np.ascontiguousarray(real_vectors(args.corpus, args.passages, args.cache))
        queries = np.arange(len(vectors))
        print(f"{len(vectors)} real passage embeddings of {args.corpus}, all of them queries")
    else:
        parser.error("give --corpus or --synthetic")
    dim = vectors.shape[1]
    exact = faiss.IndexFlatIP(dim)
    exact.add(vectors)
    started = time.perf_counter()
    truth = top10_without_self(exact, vectors[queries], queries)
    print(f"exact top-10 of {len(queries)} queries: {time.perf_counter() - started:.1f}s")
    del exact
    for m in (int(v) for v in args.m.split(",")):
        for ef_construction in (int(v) for v in args.ef_construction.split(",")):
            index = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = ef_construction
            started = time.perf_counter()
            index.add(vectors)
            build_s = time.perf_counter() - started
            graph_mb = faiss.vector_to_array(index.hnsw.neighbors).nbytes / 2**20
            for ef_search in (int(v) for v in args.ef_search.split(",")):
                index.hnsw.efSearch = ef_search
                started = time.perf_counter()
                found = top10_without_self(index, vectors[queries], queries)
                search_s = time.perf_counter() - started
                print(
                    f"M={m:<3} efConstruction={ef_construction:<4} efSearch={ef_search:<4} "
                    f"build {build_s:7.1f}s (graph {graph_mb:.0f} MB)  search {search_s:6.1f}s "
                    f"({len(queries) / search_s:,.0f} queries/s)  recall@10 {recall(found, truth):.4f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
