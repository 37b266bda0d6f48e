"""End-to-end benchmark: ingest rate, encode rate, build time, related-by-ID latency.

    .venv/bin/python bench/bench_service.py [--corpus PATH/articles.jsonl] [--requests N]

Defaults to the bundled sample; `../shared/data/auth0_blog/articles.jsonl` is a real corpus.
Prints the machine it ran on. Figures, not assertions: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import describe_machine, machine, percentiles, start_server  # noqa: E402
from service.build.builder import build  # noqa: E402
from service.config.settings import load_settings  # noqa: E402
from service.ingest.files import read_records  # noqa: E402
from service.ingest.load import ingest  # noqa: E402
from service.sample import sample_path  # noqa: E402
from service.services import Services, make_encoder  # noqa: E402
from service.store import ArticleStore  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=sample_path("articles.jsonl"))
    parser.add_argument(
        "--requests", type=int, default=2000, help="related-by-ID calls per measurement"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    results: dict[str, Any] = {"machine": machine(), "corpus": str(args.corpus)}
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(environ={}, data_dir=Path(tmp) / "data", preload_model=False)
        store = ArticleStore(settings.db_path)

        started = time.perf_counter()
        report = ingest(store, read_records(args.corpus))
        ingest_s = time.perf_counter() - started
        results["ingest"] = {
            "articles": report.inserted,
            "seconds": round(ingest_s, 3),
            "articles_per_s": round(report.inserted / ingest_s, 1),
        }

        encoder = make_encoder(settings)
        started = time.perf_counter()
        encoder.warm_up()
        results["model_load_s"] = round(time.perf_counter() - started, 2)

        phases: dict[str, float] = {}

        def progress(phase: str, done: int, total: int) -> None:
            phases.setdefault(phase + "_start", time.perf_counter())
            phases[phase + "_end"] = time.perf_counter()

        first = build(settings, store, encoder, progress=progress)
        encode_s = phases.get("encoding_end", 0) - phases.get("encoding_start", 0)
        results["build"] = {
            "articles": first.articles,
            "encoded": first.encoded,
            "seconds": first.seconds,
            "encode_seconds": round(encode_s, 2),
            "encode_articles_per_s": round(first.encoded / encode_s, 1) if encode_s else None,
            "index_kind": first.index_kind,
        }
        again = build(settings, store, encoder)
        results["rebuild_unchanged"] = {"encoded": again.encoded, "seconds": again.seconds}

        services = Services.open(settings, encoder=encoder)
        ids = [s.article.id for s in store.iter_articles()]
        rng = random.Random(0)
        sample = [rng.choice(ids) for _ in range(args.requests)]
        for article_id in sample[:50]:
            services.recommender.related(article_id, 10)
        timings = []
        for article_id in sample:
            t0 = time.perf_counter()
            services.recommender.related(article_id, 10)
            timings.append((time.perf_counter() - t0) * 1000)
        results["related_in_process_k10"] = percentiles(timings)

        server, base = start_server(settings.data_dir, workers=args.workers)
        try:
            session = requests.Session()
            for article_id in sample[:100]:
                session.get(f"{base}/articles/{article_id}/related?k=10", timeout=10)
            timings = []
            for article_id in sample:
                t0 = time.perf_counter()
                response = session.get(f"{base}/articles/{article_id}/related?k=10", timeout=10)
                timings.append((time.perf_counter() - t0) * 1000)
                assert response.ok, response.text
            results["related_http_k10"] = {
                **percentiles(timings),
                "requests_per_s_one_client": round(len(timings) / (sum(timings) / 1000), 1),
            }
        finally:
            server.terminate()
            server.wait(timeout=20)

    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(describe_machine(results["machine"]))
    print(f"corpus:  {results['corpus']}")
    i, b = results["ingest"], results["build"]
    print(
        f"ingest:  {i['articles']} articles in {i['seconds']}s = {i['articles_per_s']} articles/s"
    )
    print(f"model:   loaded in {results['model_load_s']}s")
    print(
        f"encode:  {b['encoded']} articles in {b['encode_seconds']}s = {b['encode_articles_per_s']} articles/s"
    )
    print(
        f"build:   {b['seconds']}s total ({b['index_kind']} index); unchanged rebuild "
        f"{results['rebuild_unchanged']['seconds']}s, {results['rebuild_unchanged']['encoded']} encoded"
    )
    for key, label in (("related_in_process_k10", "in process"), ("related_http_k10", "over HTTP")):
        r = results[key]
        print(
            f"related: {label:<10} k=10  p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms  (n={args.requests})"
        )


if __name__ == "__main__":
    main()
