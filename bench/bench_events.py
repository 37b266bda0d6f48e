"""Related reads alone against related reads with impressions arriving at the same rate.

    .venv/bin/python bench/bench_events.py [--data-dir DIR] [--seconds 8] [--rounds 3]
        [--connections 4] [--delay-ms 4]

A page view is one related read and one beacon (`POST /events` with its impression), so the
events arrive at the reads' rate. Two loads, each round in alternation, against one
`related serve` (wrk on loopback; the bundled sample built with the model-free `hashing`
encoder unless --data-dir names a built directory):

- paced: `--connections` read connections, each waiting `--delay-ms` between requests (the
  load of a site, below what the server can do), alone; then the same plus as many event
  connections paced alike. Reads' requests/s and latency with events, over reads alone, is
  the figure the events path must keep near 1 (its writes are batched on another thread,
  into another file).
- saturated: reads with no delay, alone; then with events on as many connections. Here the
  events' HTTP handling takes its share of the CPU: the ratio says what an event request costs
  beside a read.

Prints requests/s, p50 and p99 (medians over rounds), the ratios, the server's CPU per read and
per event (steady when other work shares the machine, unlike requests/s) and the share of its
reads a saturated server keeps with one beacon per read, the events stored, and the machine.
Figures, not assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import describe_machine, machine  # noqa: E402
from bench.load import LoadResult, cpu_seconds, parse, process_tree, require_wrk  # noqa: E402
from service.build.builder import build  # noqa: E402
from service.config.settings import load_settings  # noqa: E402
from service.generations.generation import current_name  # noqa: E402
from service.ingest.files import read_records  # noqa: E402
from service.ingest.load import ingest  # noqa: E402
from service.sample import sample_path  # noqa: E402
from service.services import make_encoder  # noqa: E402
from service.store import ArticleStore  # noqa: E402
from service.store.events import EventStore  # noqa: E402
from service.web.server import spawn  # noqa: E402

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0 (bench)"

READS = """
local paths = {%(paths)s}
local i = 0
init = function(args) i = math.random(#paths) - 1 end
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
%(delay)s
"""

EVENTS = """
local ids = {%(ids)s}
local n = 0
init = function(args) n = math.random(1000000) end
request = function()
  n = n + 1
  local id = ids[n %% #ids + 1]
  local body = '{"events":[{"type":"impression","recommendation_id":"r' .. n ..
    '","article":"' .. id .. '","variant":"defaults","visitor":"%(run)s-' .. n .. '"}]}'
  return wrk.format("POST", "/events", {["Content-Type"] = "text/plain;charset=UTF-8",
    ["User-Agent"] = "%(agent)s"}, body)
end
%(delay)s
"""


def prepare(data_dir: Path) -> None:
    if current_name(data_dir / "generations") is not None:
        return
    settings = load_settings(environ={}, data_dir=data_dir, preload_model=False, model="hashing")
    with ArticleStore(settings.db_path) as store:
        ingest(store, read_records(sample_path("articles.jsonl")))
        build(settings, store, make_encoder(settings))


def wrk(base: str, script: str, connections: int, seconds: float) -> subprocess.Popen[bytes]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    command = [require_wrk(), "-t1", f"-c{connections}", f"-d{round(seconds)}s", "--latency"]
    command += ["-s", handle.name, base]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    process.script = handle.name  # type: ignore[attr-defined]
    return process


def finish(process: subprocess.Popen[bytes]) -> LoadResult:
    output = process.communicate()[0].decode()
    os.unlink(process.script)  # type: ignore[attr-defined]
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed: {output}")
    return parse(output, 0.0, 0.0)


def run(
    base: str, reads: str, events: str | None, connections: int, seconds: float, server: int
) -> tuple[LoadResult, LoadResult | None, float]:
    """Reads (and events, started alongside) for `seconds`; the server's CPU seconds."""
    pids = process_tree(server)
    before = cpu_seconds(pids)
    started = [wrk(base, reads, connections, seconds)]
    if events is not None:
        started.append(wrk(base, events, connections, seconds))
    results: list[LoadResult | None] = [None, None]

    def wait(i: int) -> None:
        results[i] = finish(started[i])

    waiters = [threading.Thread(target=wait, args=(i,)) for i in range(len(started))]
    for waiter in waiters:
        waiter.start()
    for waiter in waiters:
        waiter.join()
    assert results[0] is not None
    return results[0], results[1], cpu_seconds(pids) - before


def median(runs: list[LoadResult]) -> dict[str, float]:
    return {
        "requests_per_s": round(statistics.median(r.requests_per_s for r in runs), 1),
        "p50_ms": round(statistics.median(r.p50_ms for r in runs), 3),
        "p99_ms": round(statistics.median(r.p99_ms for r in runs), 3),
        "errors": sum(r.errors for r in runs),
        "requests": sum(r.requests for r in runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--delay-ms", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    temporary = tempfile.TemporaryDirectory(prefix="bench-events-")
    data_dir = args.data_dir or Path(temporary.name) / "data"
    prepare(data_dir)
    with ArticleStore(data_dir / "articles.sqlite3") as store:
        ids = [stored.article.id for stored in store.iter_articles()][:500]
    paths = ", ".join(f'"/articles/{quote(i, safe="")}/related?k=5"' for i in ids)
    quoted_ids = ", ".join(json.dumps(i) for i in ids)
    events_path = Path(temporary.name) / "events.sqlite3"
    env = {
        "RELATED_MODEL": "hashing",
        "RELATED_PRELOAD_MODEL": "0",
        "RELATED_AUTO_REBUILD": "0",
        "RELATED_ACCESS_LOG": "off",
        "RELATED_EVENTS_DB": str(events_path),
        # One loopback address sends everything: the per-address limit would drop the load.
        "RELATED_EVENTS_RATE": "1000000",
        "RELATED_EVENTS_GLOBAL_RATE": "1000000",
    }
    log = Path(temporary.name) / "server.log"
    process, base = spawn(data_dir, workers=args.workers, env=env, log=log, timeout=180)
    server = process.pid
    figures: dict[str, Any] = {}
    try:
        for load, delay in (("paced", args.delay_ms), ("saturated", 0)):
            pacing = f"delay = function() return {delay} end" if delay else ""
            reads = READS % {"paths": paths, "delay": pacing}
            alone: list[LoadResult] = []
            mixed: list[LoadResult] = []
            beside: list[LoadResult] = []
            cpu = {"alone": 0.0, "mixed": 0.0}
            for round_ in range(args.rounds):
                # Every run its own visitors: wrk's random numbers repeat from run to run.
                run_key = {"run": f"{load}-{round_}", "agent": BROWSER, "delay": pacing}
                events = EVENTS % {"ids": quoted_ids, **run_key}
                only, _, spent = run(base, reads, None, args.connections, args.seconds, server)
                alone.append(only)
                cpu["alone"] += spent
                with_reads, with_events, spent = run(
                    base, reads, events, args.connections, args.seconds, server
                )
                mixed.append(with_reads)
                assert with_events is not None
                beside.append(with_events)
                cpu["mixed"] += spent
            a, m = median(alone), median(mixed)
            per_read = cpu["alone"] / sum(r.requests for r in alone)
            events_done = sum(r.requests for r in beside)
            per_event = (cpu["mixed"] - per_read * sum(r.requests for r in mixed)) / events_done
            figures[load] = {
                "reads_alone": a,
                "reads_with_events": m,
                "events": median(beside),
                "ratio": round(m["requests_per_s"] / a["requests_per_s"], 3),
                "cpu_ms_per_read": round(per_read * 1e3, 3),
                "cpu_ms_per_event": round(per_event * 1e3, 3),
                # The reads' rate a saturated server keeps with one beacon per read.
                "cpu_ratio": round(per_read / (per_read + per_event), 3),
            }
    finally:
        process.terminate()
        process.wait(timeout=30)
    stored = EventStore(events_path, max_rows=1, retention_days=1).count()
    sent = sum(f["events"]["requests"] for f in figures.values())
    load_average = os.getloadavg()
    report = {
        "load_average": load_average,
        "figures": figures,
        "events_sent": sent,
        "events_stored": stored,
        "machine": machine(),
        **vars(args),
    }
    if args.json:
        print(json.dumps(report, default=str, indent=2))
        return
    for load, f in figures.items():
        print(
            f"{load} ({args.connections} read connections"
            f"{f', {args.delay_ms} ms between requests' if load == 'paced' else ''}):"
        )
        for name in ("reads_alone", "reads_with_events", "events"):
            r = f[name]
            print(
                f"  {name:<18} {r['requests_per_s']:>8.1f} req/s  p50 {r['p50_ms']:.2f} ms  "
                f"p99 {r['p99_ms']:.2f} ms  errors {r['errors']}"
            )
        print(f"  reads with events / reads alone: {f['ratio']:.3f}")
        print(
            f"  server CPU per read {f['cpu_ms_per_read']:.3f} ms, per event "
            f"{f['cpu_ms_per_event']:.3f} ms: with a beacon per read, a saturated server keeps "
            f"{f['cpu_ratio']:.3f} of its reads"
        )
    print(f"events sent: {sent}, stored: {stored} (those in flight when wrk stopped count too)")
    print(describe_machine(report["machine"]))
    print("load average at the end (1, 5, 15 min): " + ", ".join(f"{v:.1f}" for v in load_average))
    temporary.cleanup()


if __name__ == "__main__":
    main()
