"""Related-by-ID over HTTP against a floor: the same server running a trivial Flask app.

    .venv/bin/python bench/bench_http.py --data-dir /tmp/auth0 \\
        [--corpus ../shared/data/auth0_blog/articles.jsonl] [--rounds 3] [--seconds 5]

Starts `related serve` on the data directory (ingesting and building `--corpus` there first if
it has no index yet) and `bench/floor_app.py` with the same server settings, then runs the same
load generator (wrk, `--connections` keep-alive connections on loopback) against each in
alternation, for every target in every round: a related list of the longest article, the same
with a section filter and with a tag filter, every article in turn, and /healthz. With
`--first-answers`, the service's answer cache is off (RELATED_RESPONSE_CACHE=0), so no answer
is one a worker has made before, and the targets are every article in turn with the default
options (the answers the build stored with the generation), with `k=K-1` and with the embed's
`fields` and a reader's `visitor` key (both cut from the stored answers), and with
`recency=gaussian` (options only ranking answers). Prints
requests/s, p50 and p99 of each (the median over rounds), the CPU each server spent per request
(steady when other work shares the machine, unlike requests/s), the service/floor ratios of
both, the CPU the load generator used, and the machine. Bounded: rounds x targets x 2 runs of
`--seconds` each. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import describe_machine, machine, start_gthread  # noqa: E402
from bench.load import LoadResult, require_wrk, run_wrk  # noqa: E402
from service.build.builder import build  # noqa: E402
from service.config.settings import load_settings  # noqa: E402
from service.generations.generation import current_name  # noqa: E402
from service.ingest.files import read_records  # noqa: E402
from service.ingest.load import ingest  # noqa: E402
from service.services import make_encoder  # noqa: E402
from service.store import ArticleStore  # noqa: E402
from service.web.server import free_port, spawn, start_and_wait  # noqa: E402

MAX_SPREAD = 5000
"""Articles in the 'every article in turn' target (a random sample above this)."""


@dataclass(frozen=True)
class Target:
    name: str
    paths: list[str]


def prepare(data_dir: Path, corpus: Path | None, model: str | None) -> None:
    """Ingest `corpus` into `data_dir` and build it, unless an index is already there."""
    if current_name(data_dir / "generations") is not None:
        return
    if corpus is None:
        raise SystemExit(f"{data_dir} has no index: give --corpus to build one there")
    settings = load_settings(environ={}, data_dir=data_dir, preload_model=False, model=model)
    with ArticleStore(settings.db_path) as store:
        print(ingest(store, read_records(corpus)).summary(), file=sys.stderr)
        print(build(settings, store, make_encoder(settings)).summary(), file=sys.stderr)


@dataclass(frozen=True)
class Collection:
    """What the targets are made of: the longest article, the commonest labels, a sample of ids."""

    longest: str
    section: str | None
    tag: str | None
    ids: list[str]


def read_collection(data_dir: Path) -> Collection:
    rng = random.Random(0)
    longest: tuple[int, str] = (-1, "")
    sections: Counter[str] = Counter()
    tags: Counter[str] = Counter()
    ids: list[str] = []
    with ArticleStore(data_dir / "articles.sqlite3") as store:
        for seen, stored in enumerate(store.iter_articles()):
            article = stored.article
            longest = max(longest, (len(article.body), article.id))
            sections.update([article.section] if article.section else [])
            tags.update(article.tags)
            if len(ids) < MAX_SPREAD:  # reservoir sample of the ids
                ids.append(article.id)
            elif (slot := rng.randrange(seen + 1)) < MAX_SPREAD:
                ids[slot] = article.id
    section = sections.most_common(1)[0][0] if sections else None
    tag = tags.most_common(1)[0][0] if tags else None
    return Collection(longest[1], section, tag, ids)


def targets(collection: Collection, k: int) -> list[Target]:
    """The longest article (with and without filters), a spread of articles, and /healthz."""
    one = f"/articles/{quote(collection.longest, safe='')}/related?k={k}"
    found = [Target(f"related k={k}, the longest article", [one])]
    if collection.section:
        section = collection.section
        found.append(Target(f"  + section={section}", [f"{one}&section={quote(section)}"]))
    if collection.tag:
        found.append(Target(f"  + tag={collection.tag}", [f"{one}&tag={quote(collection.tag)}"]))
    ids = collection.ids
    spread = [f"/articles/{quote(i, safe='')}/related?k={k}" for i in ids]
    found.append(Target(f"related k={k}, {len(ids)} articles in turn", spread))
    found.append(Target("/healthz", ["/healthz"]))
    return found


EMBED_QUERY = "fields=title,url,section,published"
"""What the project's embed asks for (`service/web/embed/embed.js`), with a reader's key."""


def first_answer_targets(collection: Collection, k: int) -> list[Target]:
    """Every article in turn (a sample above MAX_SPREAD) with the default options; with a
    smaller k and with the embed's fields, both made from the stored answers; and with options
    only ranking can answer."""
    paths = [f"/articles/{quote(i, safe='')}/related" for i in collection.ids]
    return [
        Target(f"{len(paths)} articles in turn, first answers", paths),
        Target(f"  the same, k={k - 1} (cut from them)", [f"{p}?k={k - 1}" for p in paths]),
        Target(
            "  the same, the embed's request",
            [f"{p}?{EMBED_QUERY}&visitor=v{n}" for n, p in enumerate(paths)],
        ),
        Target("  the same, recency=gaussian (ranked)", [f"{p}?recency=gaussian" for p in paths]),
    ]


@contextmanager
def servers(
    data_dir: Path, workers: int, threads: int, env: dict[str, str], log_dir: Path, gthread: bool
) -> Iterator[dict[str, tuple[subprocess.Popen[bytes], str]]]:
    common = {"RELATED_THREADS": str(threads), **env}
    started: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    try:
        if gthread:
            started["service"] = start_gthread(
                "service.web.app:create_app()", data_dir, workers=workers, threads=threads
            )
            started["floor"] = start_gthread(
                "bench.floor_app:create_floor_app()", workers=workers, threads=threads
            )
            yield started
            return
        started["service"] = spawn(
            data_dir, workers=workers, env=common, log=log_dir / "service.log", timeout=180
        )
        port = free_port()
        floor = [sys.executable, str(ROOT / "bench" / "floor_app.py"), "--port", str(port)]
        floor += ["--workers", str(workers)]
        started["floor"] = start_and_wait(floor, port, env=common, log=log_dir / "floor.log")
        yield started
    finally:
        for process, _ in started.values():
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def median_of(runs: list[LoadResult]) -> dict[str, float]:
    total_requests = sum(r.requests for r in runs)
    return {
        "requests_per_s": round(statistics.median(r.requests_per_s for r in runs), 1),
        "p50_ms": round(statistics.median(r.p50_ms for r in runs), 3),
        "p99_ms": round(statistics.median(r.p99_ms for r in runs), 3),
        "errors": sum(r.errors for r in runs),
        "generator_cores": round(statistics.median(r.generator_cores for r in runs), 2),
        "server_cores": round(statistics.median(r.server_cores for r in runs), 2),
        # What a request cost the server's processes: steady when others share the machine.
        "server_cpu_ms": round(1000 * sum(r.server_cpu_s for r in runs) / total_requests, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, default=None, help="ingest and build if needed")
    parser.add_argument("--model", default=None, help="model for that build (default setting)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0, help="per run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="threads per server worker")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--only", default="", help="comma-separated target numbers (1-based)")
    parser.add_argument("--gzip", action="store_true", help="send Accept-Encoding: gzip")
    parser.add_argument(
        "--first-answers",
        action="store_true",
        help="answer cache off; every article in turn, default options and a ranked k",
    )
    parser.add_argument(
        "--env", action="append", default=[], help="KEY=VALUE for both servers (repeatable)"
    )
    parser.add_argument(
        "--gthread",
        action="store_true",
        help="both apps under gunicorn's threaded worker instead, as `related serve` ran before",
    )
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    require_wrk()
    prepare(args.data_dir, args.corpus, args.model)
    collection = read_collection(args.data_dir)
    if args.first_answers:
        chosen = first_answer_targets(collection, args.k)
    else:
        chosen = targets(collection, args.k)
    if args.only:
        chosen = [chosen[int(i) - 1] for i in args.only.split(",")]
    env = dict(item.split("=", 1) for item in args.env)
    if args.first_answers:
        env["RELATED_RESPONSE_CACHE"] = "0"
    encoding = "gzip" if args.gzip else "identity"
    print(describe_machine(machine()))
    print(
        f"load: wrk, {args.connections} connections, {args.wrk_threads} threads, "
        f"{args.seconds:g} s per run, {args.rounds} rounds alternating service and floor; "
        f"servers: {'gunicorn gthread' if args.gthread else 'related serve'}, "
        f"{args.workers} workers x {args.threads} threads {env or ''}; "
        f"load average before: {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    results: dict[str, dict[str, list[LoadResult]]] = {
        t.name: {"service": [], "floor": []} for t in chosen
    }
    with (
        tempfile.TemporaryDirectory() as logs,
        servers(
            args.data_dir, args.workers, args.threads, env, Path(logs), args.gthread
        ) as started,
    ):
        for _, base in started.values():  # warm up: caches, the page cache
            for target in chosen:
                run_wrk(
                    base,
                    target.paths,
                    seconds=1,
                    connections=args.connections,
                    threads=args.wrk_threads,
                    accept_encoding=encoding,
                )
        for round_number in range(args.rounds):
            order = ["service", "floor"] if round_number % 2 == 0 else ["floor", "service"]
            for target in chosen:
                for name in order:
                    process, base = started[name]
                    results[target.name][name].append(
                        run_wrk(
                            base,
                            target.paths,
                            seconds=args.seconds,
                            connections=args.connections,
                            threads=args.wrk_threads,
                            server_pid=process.pid,
                            accept_encoding=encoding,
                        )
                    )
            print(f"  round {round_number + 1} of {args.rounds} done", file=sys.stderr, flush=True)
    summary: dict[str, Any] = {}
    print(
        f"{'target':<40} {'service req/s':>13} {'p50 ms':>6} {'p99 ms':>6} {'cpu ms':>6}  "
        f"{'floor req/s':>11} {'p50 ms':>6} {'p99 ms':>6} {'cpu ms':>6}  ratio  cpu ratio  "
        "errors  wrk cores"
    )
    for target in chosen:
        service = median_of(results[target.name]["service"])
        floor = median_of(results[target.name]["floor"])
        ratio = service["requests_per_s"] / floor["requests_per_s"]
        cpu_ratio = floor["server_cpu_ms"] / service["server_cpu_ms"]
        summary[target.name] = {
            "service": service,
            "floor": floor,
            "ratio": round(ratio, 3),
            "cpu_ratio": round(cpu_ratio, 3),
        }
        print(
            f"{target.name:<40} {service['requests_per_s']:>13,.0f} {service['p50_ms']:>6.2f} "
            f"{service['p99_ms']:>6.2f} {service['server_cpu_ms']:>6.3f}  "
            f"{floor['requests_per_s']:>11,.0f} {floor['p50_ms']:>6.2f} {floor['p99_ms']:>6.2f} "
            f"{floor['server_cpu_ms']:>6.3f}  {ratio:5.2f}  {cpu_ratio:9.2f}  "
            f"{service['errors'] + floor['errors']:>6}  {service['generator_cores']:>9.2f}"
        )
    print(
        "ratio: service/floor requests per second; cpu ratio: floor/service server CPU per "
        "request (the ratio on a machine of its own); wrk cores: the load generator's CPU."
    )
    if args.json:
        runs = {
            n: {s: [asdict(r) for r in v] for s, v in per.items()} for n, per in results.items()
        }
        print(json.dumps({"machine": machine(), "summary": summary, "runs": runs}))


if __name__ == "__main__":
    main()
