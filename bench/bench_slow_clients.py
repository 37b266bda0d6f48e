"""Slow and idle clients against `related serve`: does a normal request still get through?

    .venv/bin/python bench/bench_slow_clients.py --data-dir DIR [--connections 200] [--hold 60]

Starts `related serve` with its defaults on loopback, measures a normal client (one request
every `--interval` seconds, alternating GET /healthz and a related list, each on a new
connection) for `--baseline` seconds, then opens `--connections` hostile connections and keeps
them open for `--hold` seconds while the normal client goes on: a quarter connect and send
nothing, a quarter send half a request line, a quarter send a request line and some headers
but never the blank line, a quarter send headers announcing a body and trickle a byte of it
every 2 seconds. A connection the server closes (its timeouts) is opened again at once, so
the attack lasts the whole hold. Prints the normal client's latency before and during the
attack, how much the attack added, and how often the server closed a slow connection.
Bounded: baseline + hold seconds; loopback only. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    describe_machine,
    machine,
    percentiles,
    start_gthread,
    start_server,
)
from service.store import ArticleStore  # noqa: E402

KINDS = ("idle", "partial line", "partial headers", "slow body")
PAYLOADS = {
    "idle": b"",
    "partial line": b"GET /articles/some-article/rel",
    "partial headers": b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow\r\n",
    "slow body": b"POST /related HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
    b"\r\nContent-Length: 100000\r\n\r\n{",
}


class Attack:
    """`count` hostile connections, reopened whenever the server closes one."""

    def __init__(self, address: tuple[str, int], count: int) -> None:
        self.address = address
        self.count = count
        self.stop = threading.Event()
        self.closed_by_server = {kind: 0 for kind in KINDS}
        self.opened = 0
        self.threads = [
            threading.Thread(target=self.hold, args=(KINDS[i % len(KINDS)],), daemon=True)
            for i in range(count)
        ]

    def hold(self, kind: str) -> None:
        while not self.stop.is_set():
            try:
                with socket.create_connection(self.address, timeout=2) as sock:
                    self.opened += 1
                    if PAYLOADS[kind]:
                        sock.sendall(PAYLOADS[kind])
                    while not self.stop.is_set():
                        if kind == "slow body":
                            sock.sendall(b" ")
                        try:
                            if sock.recv(65536) == b"":  # closed by the server
                                self.closed_by_server[kind] += 1
                                break
                            self.closed_by_server[kind] += 1  # an answer (408): it closes next
                            break
                        except TimeoutError:
                            continue
            except OSError:
                self.closed_by_server[kind] += 1
                time.sleep(0.05)

    def __enter__(self) -> Attack:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=5)


def probe(base: str, paths: list[str], seconds: float, interval: float) -> tuple[list[float], int]:
    """Latencies (ms) of a normal client's requests, each on a new connection; failures."""
    timings, failures, i = [], 0, 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        path = paths[i % len(paths)]
        i += 1
        started = time.perf_counter()
        try:
            response = requests.get(
                base + path, headers={"Connection": "close"}, timeout=max(seconds, 5)
            )
            if response.status_code != 200:
                failures += 1
        except requests.RequestException:
            failures += 1
        timings.append((time.perf_counter() - started) * 1000)
        time.sleep(interval)
    return timings, failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="a built data directory")
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--hold", type=float, default=60.0, help="seconds of attack")
    parser.add_argument("--baseline", type=float, default=15.0, help="seconds before it")
    parser.add_argument("--interval", type=float, default=0.2, help="between normal requests")
    parser.add_argument(
        "--gthread",
        action="store_true",
        help="serve with gunicorn's threaded worker instead (2 workers x 4 threads), as before",
    )
    args = parser.parse_args()
    with ArticleStore(args.data_dir / "articles.sqlite3") as store:
        article = next(store.iter_articles()).article.id
    paths = ["/healthz", f"/articles/{quote(article, safe='')}/related"]
    print(describe_machine(machine()))
    if args.gthread:
        process, base = start_gthread("service.web.app:create_app()", args.data_dir)
    else:
        process, base = start_server(args.data_dir, env={})  # the defaults of `related serve`
    parts = urlsplit(base)
    address = (parts.hostname or "127.0.0.1", parts.port or 80)
    try:
        before, failed_before = probe(base, paths, args.baseline, args.interval)
        with Attack(address, args.connections) as attack:
            time.sleep(1.0)  # every hostile connection open first
            during, failed_during = probe(base, paths, args.hold, args.interval)
    finally:
        process.terminate()
        process.wait(timeout=30)
    quiet, loaded = percentiles(before), percentiles(during)
    print(
        f"server: {'gunicorn gthread, 2 workers x 4 threads' if args.gthread else 'related serve defaults'}; attack: {args.connections} connections "
        f"({', '.join(KINDS)}, a quarter each) held {args.hold:g} s, "
        f"{attack.opened} opened in all"
    )
    print(
        f"normal client before: n={len(before)} p50 {quiet['p50_ms']} ms p99 {quiet['p99_ms']} "
        f"ms max {max(before):.1f} ms, failed {failed_before}"
    )
    print(
        f"normal client during: n={len(during)} p50 {loaded['p50_ms']} ms p99 "
        f"{loaded['p99_ms']} ms max {max(during):.1f} ms, failed {failed_during}"
    )
    print(
        f"added by the attack: p50 {loaded['p50_ms'] - quiet['p50_ms']:+.1f} ms, "
        f"p99 {loaded['p99_ms'] - quiet['p99_ms']:+.1f} ms, "
        f"median of the slowest tenth {statistics.median(sorted(during)[-max(1, len(during) // 10) :]):.1f} ms"
    )
    print(
        "slow connections ended by the server (timeouts): "
        + ", ".join(f"{kind} {n}" for kind, n in attack.closed_by_server.items())
    )


if __name__ == "__main__":
    main()
