"""HTTP load for the benchmarks: wrk on loopback, bounded in time, with what it cost.

wrk (Debian package `wrk`) drives a fixed number of keep-alive connections for a fixed time
and reports requests/s and the latency distribution. A Lua script spreads requests over a list
of paths. Each run also reports the CPU seconds wrk itself used and those of the server's
processes, so a reader can tell whether the load generator, not the server, was the limit.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}
LATENCY = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.M)

SCRIPT = """
local paths = {%s}
local i = 0
init = function(args)
  i = math.random(#paths) - 1
end
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i], {["Accept-Encoding"] = "%s"})
end
"""


@dataclass(frozen=True)
class LoadResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    """Socket errors and answers that were not 2xx or 3xx."""
    generator_cpu_s: float
    server_cpu_s: float
    seconds: float

    @property
    def generator_cores(self) -> float:
        return self.generator_cpu_s / self.seconds

    @property
    def server_cores(self) -> float:
        return self.server_cpu_s / self.seconds


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    return found


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (the server's master and workers)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                queue += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU seconds of the given processes so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def run_wrk(
    base: str,
    paths: Sequence[str],
    *,
    seconds: float,
    connections: int = 8,
    threads: int = 2,
    server_pid: int | None = None,
    accept_encoding: str = "identity",
) -> LoadResult:
    """`connections` keep-alive connections for `seconds`, requests spread over `paths`."""
    if urlsplit(base).hostname not in {h.strip("[]") for h in LOOPBACK}:
        raise ValueError(f"load is only sent to loopback, not {base}")
    wrk = require_wrk()
    quoted = ", ".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in paths)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(SCRIPT % (quoted, accept_encoding))
    server = process_tree(server_pid) if server_pid else []
    server_before = cpu_seconds(server)
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    command += ["-s", script.name, base]
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert process.stdout is not None
        output = process.stdout.read().decode()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    finally:
        os.unlink(script.name)
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed: {output}")
    return parse(output, usage.ru_utime + usage.ru_stime, cpu_seconds(server) - server_before)


def parse(output: str, generator_cpu_s: float, server_cpu_s: float) -> LoadResult:
    latency = {int(q): float(v) * UNITS[unit] for q, v, unit in LATENCY.findall(output)}
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not (done and rate and 50 in latency and 99 in latency):
        raise RuntimeError(f"could not read wrk's output: {output}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors += int(bad.group(1)) if bad else 0
    return LoadResult(
        requests_per_s=float(rate.group(1)),
        p50_ms=round(latency[50], 3),
        p99_ms=round(latency[99], 3),
        requests=int(done.group(1)),
        errors=errors,
        generator_cpu_s=generator_cpu_s,
        server_cpu_s=server_cpu_s,
        seconds=float(done.group(2)) * UNITS[done.group(3)] / 1e3,
    )
