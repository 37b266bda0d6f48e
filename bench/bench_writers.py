"""Writers during a large ingest: do HTTP writes, a rebuild and reads go on while a file of
many articles is ingested?

    .venv/bin/python bench/bench_writers.py [--articles 200000] [--writers 2] [--readers 2]

Builds the bundled sample (model-free `hashing` encoder) in a temporary directory and serves it
with `related serve`; writes a JSONL file of generated articles and ingests it with `related
ingest` in a child process. Meanwhile writer threads PUT single articles, reader threads ask
for related lists, a rebuild is requested once, and a probe tries to take the store's write
lock every 10 ms without waiting, to measure the longest stretch any writer held it. Prints
the figures and the machine; no assertions.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import describe_machine, machine, percentiles, start_server  # noqa: E402
from embeddings.hashing import HashingEncoder  # noqa: E402
from service.build.rebuild import entry_point  # noqa: E402
from tests.conftest import built_sample, wait_until_idle  # noqa: E402
from tests.corpora import synthetic_articles  # noqa: E402


def write_corpus(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        for record in synthetic_articles(count, "bulk", body_words=150):
            out.write(json.dumps(record) + "\n")


class LockProbe(threading.Thread):
    """Tries BEGIN IMMEDIATE without waiting every 10 ms; the longest run of refusals is the
    longest time some writer held the store's write lock."""

    def __init__(self, db: Path) -> None:
        super().__init__(daemon=True)
        self.db, self.stop = db, threading.Event()
        self.longest = 0.0

    def run(self) -> None:
        conn = sqlite3.connect(self.db, timeout=0, isolation_level=None)
        held_since: float | None = None
        while not self.stop.is_set():
            now = time.monotonic()
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
                if held_since is not None:
                    self.longest = max(self.longest, now - held_since)
                held_since = None
            except sqlite3.OperationalError:
                held_since = held_since or now
            time.sleep(0.01)
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=200_000)
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--readers", type=int, default=2)
    args = parser.parse_args()
    print(describe_machine(machine()), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = built_sample(Path(tmp), HashingEncoder(), "hashing")
        corpus = Path(tmp) / "bulk.jsonl"
        write_corpus(corpus, args.articles)
        size_mb = corpus.stat().st_size / 1e6
        print(f"corpus: {args.articles} articles, {size_mb:.0f} MB", flush=True)
        process, base = start_server(data_dir, env={"RELATED_MODEL": "hashing"})
        stop = threading.Event()
        writes: list[tuple[float, int]] = []
        reads: list[tuple[float, int]] = []

        def writer(n: int) -> None:
            session, i = requests.Session(), 0
            while not stop.is_set():
                started = time.monotonic()
                body = {"title": f"Writer {n} article {i}", "body": "grid tram " * 20}
                status = session.put(f"{base}/articles/w{n}-{i}", json=body, timeout=120)
                writes.append(((time.monotonic() - started) * 1000, status.status_code))
                i += 1
                time.sleep(0.2)

        def reader() -> None:
            session = requests.Session()
            while not stop.is_set():
                started = time.monotonic()
                url = f"{base}/articles/2026-03-02-heatwave-grid-record/related"
                status = session.get(url, timeout=120)
                reads.append(((time.monotonic() - started) * 1000, status.status_code))

        probe = LockProbe(data_dir / "articles.sqlite3")
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(args.writers)]
        threads += [threading.Thread(target=reader) for _ in range(args.readers)]
        try:
            probe.start()
            for thread in threads:
                thread.start()
            started = time.monotonic()
            ingest = subprocess.Popen(
                [*entry_point(), "ingest", str(corpus), "--quiet", "--data-dir", str(data_dir)],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            time.sleep(1.0)
            rebuild = requests.post(f"{base}/index/rebuild", timeout=60).json()
            output = ingest.communicate()[0].decode().strip()
            ingest_seconds = time.monotonic() - started
            state = wait_until_idle(
                lambda: requests.get(f"{base}/index", timeout=60).json(), seconds=600
            )
        finally:
            stop.set()
            for thread in threads:
                thread.join()
            probe.stop.set()
            probe.join()
            process.terminate()
            process.wait(timeout=60)
    write_ms = [ms for ms, _ in writes]
    read_ms = [ms for ms, _ in reads]
    print(f"ingest: {output} in {ingest_seconds:.1f}s")
    print(f"longest hold of the store's write lock: {probe.longest * 1000:.0f} ms")
    print(
        f"HTTP writes: {len(writes)}, {sum(s >= 500 for _, s in writes)} failed (5xx), "
        f"{percentiles(write_ms)}, max {max(write_ms, default=0):.1f} ms"
    )
    print(
        f"reads: {len(reads)}, {sum(s != 200 for _, s in reads)} not 200, "
        f"{percentiles(read_ms)}, max {max(read_ms, default=0):.1f} ms"
    )
    rebuild_state = state.get("rebuild") or {}
    assert isinstance(rebuild_state, dict)
    print(
        f"rebuild requested during the ingest: {rebuild.get('state')}; ended "
        f"{rebuild_state.get('state')} ({rebuild_state.get('error', 'no error')})"
    )


if __name__ == "__main__":
    main()
