"""How fast a primary's builds and pins reach its read replicas, on loopback.

    .venv/bin/python bench/bench_replicas.py [--corpus PATH] [--replicas 2] [--rounds 5]
                                             [--interval 5] [--json]

A primary (`related serve` with RELATED_PUBLISH) and N replicas (RELATED_FOLLOW), each with its
own data directory, sharing only the published location. Each round ingests three articles on
the primary, asks it for a rebuild, and times (a) the rebuild, from the request to the primary
serving its new generation, (b) from then until every replica serves that generation, and
(c) a pin on the primary until every replica's list shows it. RELATED_SYNC_INTERVAL is the
publish/follow interval (5 s by default, as in production; the tests use 0.3 s). Figures, not
assertions: a replica should arrive within about two intervals of the primary.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    built_corpus,
    describe_machine,
    machine,
    percentiles,
    start_server,
)
from service.sample import sample_path  # noqa: E402

TIMEOUT = 30.0


def generation(base: str) -> str | None:
    response = requests.get(f"{base}/readyz", timeout=TIMEOUT)
    return response.json().get("generation") if response.status_code == 200 else None


def first_related(base: str, article_id: str) -> str | None:
    response = requests.get(f"{base}/articles/{article_id}/related?k=5", timeout=TIMEOUT)
    if response.status_code != 200:
        return None
    related = response.json()["related"]
    return related[0]["id"] if related else None


def seconds_until(condition: Callable[[], bool], ceiling: float, poll: float = 0.05) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > ceiling:
            raise SystemExit(f"gave up after {ceiling:.0f} s")
        time.sleep(poll)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=sample_path("articles.jsonl"))
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--interval", type=float, default=5.0, help="RELATED_SYNC_INTERVAL, s")
    parser.add_argument("--ceiling", type=float, default=600.0, help="give up after, s")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    rebuild_s: list[float] = []
    arrive_s: list[float] = []
    pin_s: list[float] = []
    processes = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ids = built_corpus(args.corpus, root / "primary")
        interval = {"RELATED_SYNC_INTERVAL": str(args.interval)}
        location = root / "published"
        try:
            primary, base = start_server(
                root / "primary", env={"RELATED_PUBLISH": str(location), **interval}
            )
            processes.append(primary)
            replicas = []
            for n in range(args.replicas):
                process, url = start_server(
                    root / f"replica-{n}",
                    workers=1,
                    env={"RELATED_FOLLOW": str(location), "RELATED_PRIMARY_URL": base, **interval},
                )
                processes.append(process)
                replicas.append(url)
            first = generation(base)
            seconds_until(lambda: all(generation(r) == first for r in replicas), args.ceiling)
            for round_number in range(args.rounds):
                new = [
                    {
                        "id": f"replica-round-{round_number}-{i}",
                        "title": f"Replica round {round_number}: harbour trams, item {i}",
                        "body": "Grid operators and tram drivers meet at the harbour.",
                    }
                    for i in range(3)
                ]
                requests.post(f"{base}/articles", json=new, timeout=TIMEOUT).raise_for_status()
                before = generation(base)
                requests.post(f"{base}/index/rebuild", timeout=TIMEOUT).raise_for_status()
                rebuild_s.append(
                    seconds_until(
                        lambda before=before: generation(base) not in (None, before), args.ceiling
                    )
                )
                built = generation(base)
                arrive_s.append(
                    seconds_until(
                        lambda built=built: all(generation(r) == built for r in replicas),
                        args.ceiling,
                    )
                )
                source, pinned = ids[round_number % len(ids)], new[0]["id"]
                requests.put(
                    f"{base}/articles/{source}/pins", json={"ids": [pinned]}, timeout=TIMEOUT
                ).raise_for_status()
                pin_s.append(
                    seconds_until(
                        lambda s=source, p=pinned: all(first_related(r, s) == p for r in replicas),
                        args.ceiling,
                    )
                )
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=60)

    def summary(samples: list[float]) -> dict[str, Any]:
        ms = percentiles([s * 1000 for s in samples])
        return {
            "seconds": [round(s, 2) for s in samples],
            "p50_s": round(ms["p50_ms"] / 1000, 2),
            "max_s": round(max(samples), 2),
        }

    results = {
        "machine": machine(),
        "corpus": str(args.corpus),
        "articles": len(ids),
        "replicas": args.replicas,
        "interval_s": args.interval,
        "rebuild_on_primary": summary(rebuild_s),
        "build_reaches_every_replica": summary(arrive_s),
        "pin_reaches_every_replica": summary(pin_s),
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(describe_machine(results["machine"]))
    print(
        f"corpus: {results['corpus']} ({len(ids)} articles); {args.replicas} replicas; "
        f"RELATED_SYNC_INTERVAL {args.interval} s; {args.rounds} rounds"
    )
    for key, label in (
        ("rebuild_on_primary", "rebuild on the primary"),
        ("build_reaches_every_replica", "then on every replica"),
        ("pin_reaches_every_replica", "a pin on every replica"),
    ):
        r = results[key]
        print(f"{label:<24} p50 {r['p50_s']:>6} s  max {r['max_s']:>6} s  {r['seconds']}")


if __name__ == "__main__":
    main()
