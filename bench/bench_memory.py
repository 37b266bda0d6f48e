"""Memory of the server's workers under a flood of distinct heavy reads.

    .venv/bin/python bench/bench_memory.py --articles ../shared/data/auth0_blog/articles.jsonl \
        [--requests 50000] [--workers 2] [--clients 8] [--model hashing]

Ingests and builds the articles into a temporary data directory (or serves `--data-dir`), starts
`related serve` on loopback with its defaults, reads each worker's resident memory (VmRSS from
/proc), then sends `--requests` distinct anonymous reads of the heaviest kind: the lists of the
20 longest articles with `include_body=true&explain=true` and a different `min_score` each, so
every URL is new to every cache (54.7 KB answers for auth0_blog's longest post). Prints each
worker's RSS before, at each quarter and after, and what the answer cache holds then
(`related_cache_bytes` in /metrics). The model is the hashing encoder unless `--model` says
otherwise: what the caches hold does not depend on it. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import describe_machine, machine, start_server  # noqa: E402


def worker_pids(master: int) -> list[int]:
    """The server's worker processes: children of the gunicorn master."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            children.append(int(entry.name))
    return sorted(children)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def build_data_dir(articles: Path, directory: Path, model: str, code: Path) -> None:
    env = {**os.environ, "RELATED_MODEL": model, "PYTHONPATH": str(code)}
    related = [sys.executable, "-m", "service"]
    for command in (["ingest", str(articles), "--quiet"], ["build", "--quiet"]):
        subprocess.run([*related, *command, "--data-dir", str(directory)], env=env, check=True)


def longest(articles: Path, count: int) -> list[str]:
    rows = [json.loads(line) for line in articles.read_text().splitlines() if line.strip()]
    rows.sort(key=lambda row: len(row.get("body", "")), reverse=True)
    return [row["id"] for row in rows[:count]]


def cache_bytes(base: str) -> dict[str, float]:
    text = requests.get(base + "/metrics", timeout=60).text
    found: dict[str, float] = {}
    for cache, value in re.findall(
        r'related_cache_bytes\{cache="(\w+)",pid="\d+"\} ([\d.e+]+)', text
    ):
        found[cache] = found.get(cache, 0.0) + float(value)
    return found


class Flood:
    """`total` distinct heavy reads sent from `clients` threads, counted as they are answered."""

    def __init__(self, base: str, ids: list[str], total: int, clients: int) -> None:
        self.base, self.ids, self.total = base, ids, total
        self.next = iter(range(total))
        self.done = 0
        self.statuses: dict[int, int] = {}
        self.answered = threading.Condition()
        self.threads = [threading.Thread(target=self.client, daemon=True) for _ in range(clients)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def wait_for(self, count: int) -> None:
        with self.answered:
            self.answered.wait_for(lambda: self.done >= count)

    def client(self) -> None:
        with requests.Session() as session:
            while True:
                with self.answered:
                    i = next(self.next, None)
                if i is None:
                    return
                article = quote(self.ids[i % len(self.ids)], safe="")
                url = (
                    f"{self.base}/articles/{article}/related?include_body=true&explain=true"
                    f"&min_score=0.{i:06d}"
                )
                status = session.get(url, timeout=120).status_code
                with self.answered:
                    self.statuses[status] = self.statuses.get(status, 0) + 1
                    self.done += 1
                    self.answered.notify_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=Path, help="a JSONL file to ingest and build")
    parser.add_argument("--data-dir", type=Path, help="a built data directory instead")
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--model", default="hashing")
    parser.add_argument(
        "--code", type=Path, default=ROOT, help="the checkout the server runs (to compare)"
    )
    args = parser.parse_args()
    if not args.articles:
        parser.error("--articles is needed (the longest articles are read from it)")
    print(describe_machine(machine()))
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = args.data_dir or Path(scratch) / "data"
        if args.data_dir is None:
            started = time.monotonic()
            build_data_dir(args.articles, data_dir, args.model, args.code)
            print(f"built {args.articles} in {time.monotonic() - started:.0f} s ({args.model})")
        ids = longest(args.articles, 20)
        env = {"RELATED_MODEL": args.model, "PYTHONPATH": str(args.code)}
        process, base = start_server(data_dir, workers=args.workers, env=env)
        try:
            run(process.pid, base, ids, args)
        finally:
            process.terminate()
            process.wait(timeout=30)


def run(master: int, base: str, ids: list[str], args: argparse.Namespace) -> None:
    for _ in range(2 * args.workers):  # each worker loads its generation on its first read
        requests.get(f"{base}/articles/{quote(ids[0], safe='')}/related", timeout=120)
    pids = worker_pids(master)
    print(
        f"server ({args.code}): {args.workers} workers (pids {pids}), {args.clients} clients, "
        f"{args.requests} distinct reads of the 20 longest articles' lists "
        "with include_body=true&explain=true"
    )

    def line(label: str) -> None:
        figures = ", ".join(f"{pid}: {rss_mb(pid):.0f} MB" for pid in pids)
        print(f"  {label:>14}  RSS {figures}", flush=True)

    line("before")
    started = time.monotonic()
    sending = Flood(base, ids, args.requests, args.clients)
    sending.start()
    for quarter in (1, 2, 3, 4):
        mark = args.requests * quarter // 4
        sending.wait_for(mark)
        line(f"after {mark}")
    seconds = time.monotonic() - started
    time.sleep(2.0)
    line("2 s later")
    held = cache_bytes(base)
    print(
        f"  {args.requests / seconds:.0f} requests/s; statuses {sending.statuses}; caches hold "
        + (", ".join(f"{k} {v / 2**20:.1f} MB" for k, v in sorted(held.items())) or "(no gauges)")
    )


if __name__ == "__main__":
    main()
