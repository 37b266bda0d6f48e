"""Hot reload under load: rebuilds with ingests in between while clients request related lists.

    .venv/bin/python bench/bench_reload.py [--corpus PATH] [--rebuilds 10] [--clients 4]

A bounded loopback load (each client stops when the rebuilds are done, or at --max-seconds)
against a real `related serve`; each round ingests a few articles over HTTP, asks for a
rebuild and waits until every request sees the new generation. Prints failed and empty
responses, and requests/s with p50/p99 during rebuilds and outside them. Figures, not
assertions.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

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


class Load:
    """Client threads requesting related lists; every response is timed and classified."""

    def __init__(self, base: str, ids: list[str], clients: int, max_seconds: float) -> None:
        self.base, self.ids, self.clients, self.max_seconds = base, ids, clients, max_seconds
        self.samples: list[tuple[float, float]] = []  # (start time, latency ms)
        self.failures: list[str] = []
        self.empty = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(clients)]

    def run(self, seed: int) -> None:
        rng = random.Random(seed)
        session = requests.Session()
        deadline = time.monotonic() + self.max_seconds
        while not self.stop.is_set() and time.monotonic() < deadline:
            article_id = rng.choice(self.ids)
            started = time.monotonic()
            try:
                response = session.get(
                    f"{self.base}/articles/{article_id}/related?k=10", timeout=10
                )
                latency = (time.monotonic() - started) * 1000
                with self.lock:
                    if not response.ok:
                        self.failures.append(f"{response.status_code} {response.text[:120]}")
                    elif not response.json()["related"]:
                        self.empty += 1
                    self.samples.append((started, latency))
            except requests.RequestException as exc:
                with self.lock:
                    self.failures.append(repr(exc))

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=sample_path("articles.jsonl"))
    parser.add_argument("--rebuilds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pause", type=float, default=3.0, help="seconds between rebuilds")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="hard stop for the load")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        ids = built_corpus(args.corpus, Path(tmp) / "data")
        server, base = start_server(Path(tmp) / "data", workers=args.workers)
        windows: list[tuple[float, float]] = []
        rebuild_seconds: list[float] = []
        try:
            with Load(base, ids, args.clients, args.max_seconds) as load:
                time.sleep(args.pause)
                for round_number in range(args.rebuilds):
                    new = [
                        {
                            "id": f"reload-{round_number}-{i}",
                            "title": f"Reload round {round_number} item {i}",
                            "body": "Grid operators and tram drivers meet at the harbour.",
                        }
                        for i in range(3)
                    ]
                    requests.post(f"{base}/articles", json=new, timeout=30).raise_for_status()
                    before = requests.get(f"{base}/index", timeout=10).json()["generation"]
                    started = time.monotonic()
                    requests.post(f"{base}/index/rebuild", timeout=30).raise_for_status()
                    while time.monotonic() - started < 300:
                        state = requests.get(f"{base}/index", timeout=10).json()
                        if state["generation"] != before and not state["rebuild_running"]:
                            break
                        time.sleep(0.2)
                    ended = time.monotonic()
                    windows.append((started, ended))
                    rebuild_seconds.append(round(ended - started, 2))
                    time.sleep(args.pause)
            final = requests.get(f"{base}/index", timeout=10).json()
        finally:
            server.terminate()
            server.wait(timeout=30)

    def during(t: float) -> bool:
        return any(a <= t <= b for a, b in windows)

    inside = [lat for t, lat in load.samples if during(t)]
    outside = [lat for t, lat in load.samples if not during(t)]
    inside_time = sum(b - a for a, b in windows)
    first, last = load.samples[0][0], load.samples[-1][0]
    outside_time = max(last - first - inside_time, 1e-9)
    results = {
        "machine": machine(),
        "corpus": str(args.corpus),
        "rebuilds": len(windows),
        "rebuild_seconds": rebuild_seconds,
        "articles_at_end": final["articles"],
        "requests": len(load.samples),
        "failed": len(load.failures),
        "empty": load.empty,
        "first_failures": load.failures[:5],
        "during_rebuilds": {
            "requests_per_s": round(len(inside) / max(inside_time, 1e-9), 1),
            **percentiles(inside),
        },
        "outside_rebuilds": {
            "requests_per_s": round(len(outside) / outside_time, 1),
            **percentiles(outside),
        },
        "clients": args.clients,
        "workers": args.workers,
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(describe_machine(results["machine"]))
    print(f"corpus:  {results['corpus']}; {args.workers} workers, {args.clients} client threads")
    print(
        f"rebuilds: {len(windows)} (with 3 articles ingested before each), seconds each {rebuild_seconds}; "
        f"{final['articles']} articles indexed at the end"
    )
    print(f"requests: {results['requests']}, failed {results['failed']}, empty {results['empty']}")
    for key, label in (("during_rebuilds", "during rebuilds"), ("outside_rebuilds", "outside")):
        r = results[key]
        print(
            f"{label:<16} {r['requests_per_s']:>7} req/s  p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms"
        )


if __name__ == "__main__":
    main()
