"""The Ray engine against the local one, on this machine (a local Ray with every core).

    .venv/bin/python bench/bench_ray.py --texts 256 --sizes 10000,100000 [--repeat 3]

1. Encoding throughput of the real model: the local encoder, then the Ray engine with 1 and
   with 2 encoding workers (each loads the model once; the time includes starting them, and
   the steady rate leaves out the first batch of each worker).
2. Builds with every vector already in the embedding cache (bench/bench_scale.py's generated
   articles), local and then on Ray, at each size: total time, the ranking phase and its rate
   (lists per second), and the engine's overhead (Ray's time less the local one). With
   `--repeat N` the two kinds of build alternate N times and the fastest of each is kept.

Figures, not assertions; the machine line says what they ran on.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ray  # noqa: E402

from bench.bench_scale import DIM, GENERATE_CHUNK, CachedOnly, add, generate  # noqa: E402
from bench.common import describe_machine, machine  # noqa: E402
from service.article import embedding_text, text_hash  # noqa: E402
from service.build.builder import build  # noqa: E402
from service.build.engines import Engine, LocalEngine  # noqa: E402
from service.build.engines.ray_engine import RayEngine  # noqa: E402
from service.config.settings import Settings, load_settings  # noqa: E402
from service.services import make_encoder  # noqa: E402
from service.store import ArticleStore  # noqa: E402


def generated_texts(count: int, settings: Settings) -> list[tuple[str, str]]:
    centres = np.random.default_rng(0).normal(size=(20, DIM)).astype(np.float32)
    articles, _ = generate(count, 0, 20, random.Random(0), centres)
    texts = [embedding_text(a, settings.max_text_chars) for a in articles]
    return [(text_hash(t), t) for t in texts]


def encoding(settings: Settings, texts: list[tuple[str, str]]) -> list[str]:
    lines = []
    encoder = make_encoder(settings)
    encoder.encode([t for _, t in texts[:8]])  # the model loaded before timing
    started = time.perf_counter()
    encoder.encode([t for _, t in texts])
    local = len(texts) / (time.perf_counter() - started)
    lines.append(f"encode local: {len(texts)} texts at {local:.1f} texts/s (model loaded before)")
    for workers in (1, 2):
        engine = RayEngine(settings.replace(ray_workers=workers), encoder, chunk=32)
        started = time.perf_counter()
        first: float | None = None
        done = 0
        for digests, _ in engine.encode(texts):
            done += len(digests)
            if first is None:
                first, first_done = time.perf_counter(), done
        total = time.perf_counter() - started
        assert first is not None
        steady = (done - first_done) / max(time.perf_counter() - first, 1e-9)
        loads = ", ".join(f"{n} batches/{m} load" for n, m in _per_worker(engine))
        lines.append(
            f"encode ray, {workers} worker(s): {len(texts)} texts in {total:.1f}s = "
            f"{len(texts) / total:.1f} texts/s with start-up (first batch after "
            f"{first - started:.1f}s), {steady:.1f} texts/s after it; per worker: {loads}"
        )
    return lines


def _per_worker(engine: RayEngine) -> list[tuple[int, int]]:
    return [(engine.batches[w], engine.model_loads[w]) for w in sorted(engine.batches)]


def timed(settings: Settings, encoder: Any, engine: Engine) -> tuple[Any, float, dict[str, float]]:
    """A full build: its report, its seconds, and the seconds of each phase."""
    starts: dict[str, float] = {}
    started = time.perf_counter()

    def progress(phase: str, done: int, total: int) -> None:
        starts.setdefault(phase, time.perf_counter())

    with ArticleStore(settings.db_path) as store:
        report = build(settings, store, encoder, progress=progress, full=True, engine=engine)
    ended = time.perf_counter()
    order = sorted(starts, key=starts.__getitem__)
    phases = {
        phase: (starts[order[i + 1]] if i + 1 < len(order) else ended) - starts[phase]
        for i, phase in enumerate(order)
    }
    return report, ended - started, phases


def builds(size: int, settings: Settings, workdir: Path | None, repeat: int) -> str:
    rng = random.Random(size)
    topics = max(20, size // 100)
    centres = np.random.default_rng(0).normal(size=(topics, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    identity = make_encoder(settings).identity
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        local = settings.replace(data_dir=Path(tmp) / "local")
        for start in range(0, size, GENERATE_CHUNK):
            articles, vectors = generate(
                min(GENERATE_CHUNK, size - start), start, topics, rng, centres
            )
            add(local, identity, articles, vectors)
        distributed = settings.replace(data_dir=Path(tmp) / "ray")
        shutil.copytree(local.data_dir, distributed.data_dir)
        encoder = CachedOnly(identity)
        results: dict[str, tuple[Any, float, dict[str, float]]] = {}
        # Alternated, the fastest of each kept: on a shared machine other work slows some runs.
        for _ in range(repeat):
            for name, target, engine in (
                ("local", local, LocalEngine(encoder)),  # type: ignore[arg-type]
                ("ray", distributed, RayEngine(distributed, encoder)),  # type: ignore[arg-type]
            ):
                report, seconds, phases = timed(target, encoder, engine)
                if name not in results or seconds < results[name][1]:
                    results[name] = (report, seconds, phases)
                print(f"  {size} {name}: {seconds:.1f}s {phases}", file=sys.stderr, flush=True)
    (report, local_s, local_phases), (_, ray_s, ray_phases) = results["local"], results["ray"]
    rank_local, rank_ray = local_phases["neighbours"], ray_phases["neighbours"]
    runs = f", fastest of {repeat}" if repeat > 1 else ""
    return (
        f"{size:>8} articles ({report.index_kind}{runs}), vectors cached: full build local "
        f"{local_s:.1f}s, ray {ray_s:.1f}s (overhead {ray_s - local_s:+.1f}s, "
        f"{(ray_s - local_s) / local_s:+.0%}); ranking local {rank_local:.1f}s = "
        f"{size / rank_local:.0f} lists/s, ray {rank_ray:.1f}s = {size / rank_ray:.0f} lists/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=384, help="texts encoded per run")
    parser.add_argument("--sizes", default="10000,100000", help="collection sizes built")
    parser.add_argument("--workdir", type=Path, default=None, help="where the data dirs go")
    parser.add_argument("--repeat", type=int, default=1, help="builds of each kind per size")
    args = parser.parse_args()
    settings = load_settings(environ={}, preload_model=False)
    print(describe_machine(machine()))
    print("load average at start: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    started = time.perf_counter()
    ray.init(include_dashboard=False, log_to_driver=False)
    cpus = int(ray.cluster_resources().get("CPU", 0))  # type: ignore[no-untyped-call]
    print(
        f"ray {ray.__version__}: local instance, {cpus} CPUs, up in {time.perf_counter() - started:.1f}s"
    )
    try:
        if args.texts:
            for line in encoding(settings, generated_texts(args.texts, settings)):
                print(line, flush=True)
        for size in (int(s) for s in args.sizes.split(",") if s):
            print(builds(size, settings, args.workdir, args.repeat), flush=True)
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
