"""The Ray engine: a build's encoding and ranking on a Ray cluster (`related build --engine ray`).

Encoding is a Ray Data pipeline: the texts the embedding cache lacks become a dataset of
(hash, text) rows, and `map_batches` sends batches to a pool of actors (`ray_workers.EncodeBatch`),
each of which loads the model once when it starts, on a CPU or, with RELATED_DEVICE=cuda, a
GPU. Batches stream back as they finish and the build caches each at once, as a local build
does, so a build that fails half way keeps what was encoded.

Ranking puts the corpus (vectors, sparse matrices, basis, vector index) in the object store
once and runs one task per shard of rows (`ray_workers.rank_shard`); each task ranks its rows
with the same code as a local build, on up to 8 threads, so the lists are the same. Arrays are
read from the object store without a copy by every worker of a node; each task rebuilds the
vector index from its bytes (a copy, a second or two per million vectors) and drops it when done.

Failures: a worker that dies is replaced and its batch or shard retried (`retries` times);
beyond that the build stops with `EngineFailed`. Nothing is written before the engine returns,
so the served generation is never touched.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import ray
import ray.data
import ray.exceptions

from embeddings.encoder import Encoder
from embeddings.features import Corpus
from embeddings.neighbours import ListOptions, NeighbourLists, ranked_lists
from service.build.engines.local import ENCODE_CHUNK
from service.build.engines.ray_workers import encode_batch_class, rank_shard
from service.config.settings import Settings
from service.errors import EngineFailed

log = logging.getLogger("related.ray")

RETRIES = 3
"""Times a dead worker's batch or shard is retried before the build fails."""
SHARDS_PER_TASK = 4
"""Shards per ranking task slot: enough that a slow or retried shard doesn't hold up the end."""
TASK_THREADS = 8
"""CPUs a ranking task reserves (at most a node's): it ranks its batches on that many threads,
as a local build does, so a node holds one copy of the vector index per 8 cores, not per core."""
SHARD_ALIGN = 512
"""Shards are multiples of the ranking's batch, so each ranks the same batches as a local build."""
FORWARDED = ("RELATED_FAILPOINT", "RELATED_FAILPOINT_ONCE", "RELATED_LOG_LEVEL")
"""Variables of the driver's environment that workers get too (when set)."""


class RayEngine:
    name = "ray"

    def __init__(
        self,
        settings: Settings,
        encoder: Encoder,
        *,
        chunk: int = ENCODE_CHUNK,
        retries: int = RETRIES,
    ) -> None:
        self.settings = settings
        self.identity = encoder.identity
        self.chunk = chunk
        self.retries = retries
        self.model_loads: dict[str, int] = {}
        """Every worker that encoded a batch: the models its process loaded."""
        self.batches: dict[str, int] = {}
        """Every worker that encoded a batch: how many batches it encoded."""
        self._started = _connect(settings.ray_address)
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False

    # -- encoding --------------------------------------------------------------------------

    def encoding_workers(self) -> int:
        """Encoding actors to start: RELATED_RAY_WORKERS, else one per GPU (device cuda) or CPU."""
        if self.settings.ray_workers:
            return self.settings.ray_workers
        resources = _resources()
        unit = "GPU" if self.uses_gpu else "CPU"
        return max(1, int(resources.get(unit, 1)))

    @property
    def uses_gpu(self) -> bool:
        return self.settings.device.startswith("cuda")

    def encode(
        self, texts: Sequence[tuple[str, str]]
    ) -> Iterator[tuple[list[str], npt.NDArray[np.float32]]]:
        if not texts:
            return
        blocks = math.ceil(len(texts) / self.chunk)
        dataset = ray.data.from_items(
            [{"hash": digest, "text": text} for digest, text in texts],
            override_num_blocks=blocks,
        )
        actors = min(self.encoding_workers(), blocks)
        with warnings.catch_warnings():
            # Ray Data restarts dead actors and retries their batches forever unless told
            # otherwise, through arguments it now marks deprecated without a replacement: a
            # batch that kills every worker it lands on must fail the build, not loop.
            warnings.simplefilter("ignore", DeprecationWarning)
            encoded = dataset.map_batches(
                encode_batch_class(self.settings, self.identity),
                batch_size=self.chunk,
                batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=actors),
                num_cpus=0 if self.uses_gpu else 1,
                num_gpus=1 if self.uses_gpu else 0,
                runtime_env=_runtime_env(),
                max_restarts=self.retries,
                max_task_retries=self.retries,
            )
        try:
            for batch in encoded.iter_batches(batch_size=None, batch_format="numpy"):
                self._count(batch)
                vectors = np.asarray(np.stack(list(batch["vector"])), dtype=np.float32)
                yield [str(digest) for digest in batch["hash"]], vectors
        except Exception as exc:
            if not _from_ray(exc):
                raise
            raise EngineFailed(
                f"Encoding on Ray failed after {self.retries} retries per batch ({_first_line(exc)}); "
                "the batches finished before it are cached, and the served generation is "
                "unchanged: run the build again"
            ) from exc

    def _count(self, batch: dict[str, npt.NDArray[Any]]) -> None:
        rows = zip(batch["worker"], batch["loads"], batch["calls"], strict=True)
        for worker, loads, calls in rows:
            name = str(worker)
            self.model_loads[name] = max(int(loads), self.model_loads.get(name, 0))
            self.batches[name] = max(int(calls), self.batches.get(name, 0))

    # -- ranking ---------------------------------------------------------------------------

    def rank(
        self,
        corpus: Corpus,
        rows: npt.NDArray[np.int64],
        k: int,
        options: ListOptions,
        progress: Callable[[int], None] | None = None,
    ) -> NeighbourLists:
        if not len(rows):
            return ranked_lists(corpus, rows, k, options)
        if not options.exact:
            _ = corpus.postings  # computed once here and shipped, not once per worker
        shards = self._shards(rows)
        corpus_ref = ray.put(corpus)
        task = ray.remote(rank_shard).options(
            num_cpus=_task_cpus(), max_retries=self.retries, runtime_env=_runtime_env()
        )
        pending = {task.remote(corpus_ref, shard, k, options): i for i, shard in enumerate(shards)}
        results: list[NeighbourLists | None] = [None] * len(shards)
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    index = pending.pop(ref)
                    results[index] = ray.get(ref)
                    if progress is not None:
                        progress(len(shards[index]))
        except ray.exceptions.RayError as exc:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise EngineFailed(
                f"Ranking on Ray failed after {self.retries} retries per shard "
                f"({_first_line(exc)}); the served generation is unchanged: run the build again"
            ) from exc
        finally:
            del corpus_ref
        return _concatenate([r for r in results if r is not None], k)

    def _shards(self, rows: npt.NDArray[np.int64]) -> list[npt.NDArray[np.int64]]:
        tasks = max(1, int(_resources().get("CPU", 1)) // _task_cpus())
        size = max(1, math.ceil(len(rows) / (SHARDS_PER_TASK * tasks)))
        size = math.ceil(size / SHARD_ALIGN) * SHARD_ALIGN
        return [rows[start : start + size] for start in range(0, len(rows), size)]

    def close(self) -> None:
        """Shut down the Ray this engine started (a cluster it joined keeps running)."""
        if self._started and ray.is_initialized():
            ray.shutdown()
        self._started = False


def _connect(address: str) -> bool:
    """Join `address` (or RAY_ADDRESS), or start Ray on this machine; True if started here."""
    if ray.is_initialized():
        return False
    target = address or os.environ.get("RAY_ADDRESS") or None
    options: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
    if target is None:
        options["include_dashboard"] = False
    log.info("connecting to Ray at %s", target or "a new local instance")
    ray.init(address=target, **options)
    return True


def _task_cpus() -> int:
    nodes = [n for n in ray.nodes() if n.get("Alive")]  # type: ignore[no-untyped-call]
    smallest = min((int(n["Resources"].get("CPU", 1)) for n in nodes), default=1)
    return max(1, min(TASK_THREADS, smallest))


def _resources() -> dict[str, float]:
    found: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
    return found


def _runtime_env() -> dict[str, Any]:
    env = {name: os.environ[name] for name in FORWARDED if os.environ.get(name)}
    return {"env_vars": env} if env else {}


def _from_ray(exc: BaseException) -> bool:
    return any(type(e).__module__.startswith("ray") for e in _chain(exc))


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def _concatenate(parts: list[NeighbourLists], k: int) -> NeighbourLists:
    """Shards' lists, in shard order (their rows ascend, so pairs stay sorted by row)."""
    if not parts:
        raise ValueError("no shards ranked")
    return NeighbourLists(
        np.concatenate([p.scores for p in parts]).reshape(-1, k),
        np.concatenate([p.positions for p in parts]).reshape(-1, k),
        np.concatenate([p.stats for p in parts]),
        np.concatenate([p.pair_rows for p in parts]),
        np.concatenate([p.pair_cols for p in parts]),
        np.concatenate([p.pair_sims for p in parts]),
    )
