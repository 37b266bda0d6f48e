"""What the benchmarks share: the machine they ran on, percentiles, a server on loopback."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
        **{p: _version(p) for p in ("torch", "faiss-cpu", "sentence-transformers", "numpy")},
    }


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:  # e.g. a GPU machine that runs only bench_encode
        return "not installed"


def describe_machine(m: dict[str, Any]) -> str:
    return (
        f"machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, Python {m['python']}, "
        f"torch {m['torch']}, faiss {m['faiss-cpu']}"
    )


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    if not samples_ms:
        return {"p50_ms": float("nan"), "p99_ms": float("nan"), "mean_ms": float("nan")}
    values = np.asarray(samples_ms)
    return {
        "p50_ms": round(float(np.percentile(values, 50)), 3),
        "p99_ms": round(float(np.percentile(values, 99)), 3),
        "mean_ms": round(float(values.mean()), 3),
    }


def start_server(
    data_dir: Path,
    *,
    workers: int = 2,
    preload_model: bool = False,
    env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen[bytes], str]:
    """`related serve` on a free loopback port, ignoring the caller's RELATED_* variables."""
    from service.web.server import spawn  # the server stack (gunicorn) only where a bench serves

    environment = {"RELATED_PRELOAD_MODEL": "1" if preload_model else "0", **(env or {})}
    return spawn(data_dir, workers=workers, env=environment)


def start_gthread(
    app: str, data_dir: Path | None = None, *, workers: int = 2, threads: int = 4
) -> tuple[subprocess.Popen[bytes], str]:
    """`app` ("module:factory()") under gunicorn's own threaded worker (gthread), as
    `related serve` ran before its event-loop worker: the reference the benchmarks compare to."""
    from service.web.server import free_port, start_and_wait

    port = free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "-k", "gthread", "-w", str(workers), "--threads", str(threads)]
    command += ["-b", f"127.0.0.1:{port}", "--chdir", str(ROOT), app]
    env = {"RELATED_PRELOAD_MODEL": "0"}
    if data_dir is not None:
        env["RELATED_DATA_DIR"] = str(data_dir)
    return start_and_wait(command, port, env=env)


def built_corpus(corpus: Path, data_dir: Path) -> list[str]:
    """Ingest `corpus` (a records file) into a new store at `data_dir` and build it with the
    configured model, ignoring the caller's RELATED_* variables; the ids stored."""
    from service.build.builder import build
    from service.config.settings import load_settings
    from service.ingest.files import read_records
    from service.ingest.load import ingest
    from service.services import make_encoder
    from service.store import ArticleStore

    settings = load_settings(environ={}, data_dir=data_dir, preload_model=False)
    with ArticleStore(settings.db_path) as store:
        ingest(store, read_records(corpus))
        build(settings, store, make_encoder(settings))
        return [s.article.id for s in store.iter_articles()]
