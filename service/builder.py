"""Store -> encode what changed -> index + neighbour lists -> a new published generation.

Only texts whose (encoder, text hash) pair is not in the embedding cache are encoded, and each
encoded batch is cached at once, so a build that is killed half way loses no encoding work.
One build at a time per data directory (an advisory file lock); its state is kept in
`build-status.json` so every server worker can report it.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.encoder import Encoder
from embeddings.index import IndexSettings, VectorIndex
from embeddings.lexical import LexicalModel
from embeddings.neighbours import all_ranked_neighbours, update_lists
from embeddings.ranking import Basis, Corpus
from service.articles import embedding_text, labels_text, lexical_text, text_hash
from service.config import Settings
from service.errors import IndexMismatch, RebuildInProgress, RelatedError
from service.failpoints import failpoint
from service.generations import (
    GENERATION_FORMAT,
    Generation,
    atomic_write_text,
    clean_up,
    current_name,
    publish,
    write_generation,
)
from service.incremental import Carried, carry_rows, incremental_plan
from service.store import ArticleStore

Progress = Callable[[str, int, int], None]
"""Called as progress(phase, done, total) while a build runs."""

ENCODE_CHUNK = 256
DUPLICATE_FLOOR = 0.5
"""Full-text cosine above which pairs are stored at build time for near-duplicate checks;
a request's duplicate_threshold below it is checked with a sparse product instead."""
STATUS_FILE = "build-status.json"


class EmptyStore(RelatedError):
    status = 409
    code = "no_articles"


@dataclass(frozen=True)
class BuildReport:
    articles: int
    encoded: int
    reused: int
    generation: str
    seconds: float
    index_kind: str
    built_at: str
    removed_generations: list[str]
    mode: str = "full"
    lists_recomputed: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        return (
            f"built generation {self.generation} ({self.mode}): {self.articles} articles "
            f"({self.encoded} encoded, {self.reused} reused), {self.index_kind} index, "
            f"{self.lists_recomputed} lists ranked anew, {self.seconds:.1f}s"
        )


def library_versions() -> dict[str, str]:
    versions = {}
    for package in ("faiss-cpu", "numpy", "sentence-transformers", "torch", "transformers"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


class BuildLock:
    """Exclusive, non-blocking lock on `<data_dir>/build.lock`; released if the process dies."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "build.lock"
        self._fd: int | None = None

    def __enter__(self) -> BuildLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RebuildInProgress("Another build of this data directory is running") from None
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @staticmethod
    def is_held(data_dir: Path) -> bool:
        try:
            with BuildLock(data_dir):
                return False
        except RebuildInProgress:
            return True


class BuildStatus:
    """The running build's state in `<data_dir>/build-status.json`, throttled to ~2 writes/s."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / STATUS_FILE
        self.state: dict[str, Any] = {}
        self._last_write = 0.0

    def start(self) -> None:
        self.state = {
            "state": "running",
            "pid": os.getpid(),
            "started_at": _now_iso(),
            "phase": "starting",
            "done": 0,
            "total": 0,
        }
        self._write()

    def progress(self, phase: str, done: int, total: int) -> None:
        self.state.update(phase=phase, done=done, total=total)
        if time.monotonic() - self._last_write > 0.5 or done == total:
            self._write()

    def finish(self, report: BuildReport) -> None:
        self.state.update(
            state="succeeded", finished_at=_now_iso(), phase="done", result=report.to_json()
        )
        self._write()

    def fail(self, error: BaseException) -> None:
        self.state.update(
            state="failed", finished_at=_now_iso(), error=str(error) or type(error).__name__
        )
        self._write()

    def _write(self) -> None:
        self._last_write = time.monotonic()
        atomic_write_text(self.path, json.dumps(self.state))

    @staticmethod
    def read(data_dir: Path) -> dict[str, Any] | None:
        """The last build's state; a 'running' build whose process is gone reads 'interrupted'."""
        try:
            state: dict[str, Any] = json.loads((data_dir / STATUS_FILE).read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        if state.get("state") == "running" and not BuildLock.is_held(data_dir):
            state["state"] = "interrupted"
        return state


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def build(
    settings: Settings,
    store: ArticleStore,
    encoder: Encoder,
    *,
    progress: Progress | None = None,
    full: bool = False,
) -> BuildReport:
    """Build and publish a new generation from the store's current articles.

    Incremental when the last generation can be carried over (see service.incremental);
    `full` refits the lexical models and statistics basis and ranks every list anew.
    """
    with BuildLock(settings.data_dir):
        status = BuildStatus(settings.data_dir)
        status.start()

        def report_progress(phase: str, done: int, total: int) -> None:
            status.progress(phase, done, total)
            if progress is not None:
                progress(phase, done, total)

        try:
            result = _build_locked(settings, store, encoder, report_progress, full=full)
        except BaseException as exc:
            status.fail(exc)
            raise
        status.finish(result)
        return result


def _extend_index(
    previous: Generation, plan: Carried, vectors: npt.NDArray[np.float32]
) -> VectorIndex:
    """The previous HNSW graph with the fresh rows added and every stored vector readdressed to
    its new row: proportional to the change, where a rebuild costs minutes at a million rows."""
    index = VectorIndex.load(previous.path / "index.faiss", mmap=False)
    stored = index.rows if index.rows is not None else np.arange(len(index), dtype=np.int64)
    rows = np.where(stored >= 0, plan.new_of_old[np.maximum(stored, 0)], -1)
    fresh_rows = np.nonzero(plan.fresh)[0].astype(np.int64)
    return index.extended(rows, vectors[fresh_rows], fresh_rows)


def _build_locked(
    settings: Settings, store: ArticleStore, encoder: Encoder, progress: Progress, *, full: bool
) -> BuildReport:
    started = time.monotonic()
    root = settings.generations_dir
    clean_up(root, settings.keep_generations)  # leftovers of killed builds
    identity = encoder.identity

    # 1. One consistent read of the store. Every key and revision first, which settles whether
    #    the last generation carries over; then the articles to process: only the new and
    #    changed ones if it does (unchanged rows come from the last generation), else all.
    previous = _previous_generation(root, identity)
    since = int(previous.manifest["store_revision"]) if previous is not None else -1
    with store.snapshot():
        revision = store.revision()
        key_array, revisions = store.key_revisions()
        if not len(key_array):
            raise EmptyStore(
                "There are no articles to index: ingest some first (`related ingest FILE`)"
            )
        changed = set(key_array[revisions > since].tolist())
        k = min(settings.neighbours, max(len(key_array) - 1, 1))
        exact = len(key_array) <= settings.exact_max
        fingerprint = _fingerprint(settings)
        plan: Carried | str = "asked for (--full)" if full else "there is no previous generation"
        if previous is not None and not full:
            plan = incremental_plan(
                previous,
                key_array,
                changed,
                k=k,
                exact=exact,
                settings_fingerprint=fingerprint,
                refit_fraction=settings.refit_fraction,
            )
        read_rows = (
            np.nonzero(plan.fresh)[0] if isinstance(plan, Carried) else np.arange(len(key_array))
        )
        read = _read_articles(store, identity, key_array[read_rows], settings, progress)

    # 2. Encode what the cache lacks, caching each chunk as soon as it is done.
    todo = list(read.missing.items())
    progress("encoding", 0, len(todo))
    for start in range(0, len(todo), ENCODE_CHUNK):
        chunk = todo[start : start + ENCODE_CHUNK]
        vectors = encoder.encode([text for _, text in chunk])
        store.cache_vectors(identity, zip((digest for digest, _ in chunk), vectors, strict=True))
        progress("encoding", start + len(chunk), len(todo))
        failpoint("after-first-encoded-chunk")

    # 3. Assemble the rows in key order; carry the last generation over, or start afresh.
    if read.hashes:
        read_vectors = _gather_vectors(store, identity, read.hashes)
    else:  # deletions only: nothing new to read
        assert previous is not None
        read_vectors = np.zeros((0, previous.index.dimension), dtype=np.float32)
    published = np.full(len(key_array), np.nan, dtype=np.float64)
    langs = np.full(len(key_array), "", dtype=object)
    if isinstance(plan, Carried):
        assert previous is not None
        kept = np.nonzero(~plan.fresh)[0]
        vectors = np.empty((len(key_array), read_vectors.shape[1]), dtype=np.float32)
        vectors[kept] = np.asarray(previous.vectors)[plan.old_rows[kept]]
        published[kept] = np.asarray(previous.published)[plan.old_rows[kept]]
        langs[kept] = np.asarray(previous.langs)[plan.old_rows[kept]]
    else:
        vectors = read_vectors
    vectors[read_rows] = read_vectors
    published[read_rows] = read.published
    langs[read_rows] = read.langs
    lexical_docs, label_docs = read.lexical_docs, read.label_docs
    index_settings = IndexSettings(
        settings.exact_max, settings.hnsw_m, settings.hnsw_ef_construction, settings.hnsw_ef_search
    )
    progress("indexing", 0, len(key_array))
    if isinstance(plan, Carried) and not exact:
        assert previous is not None
        index = _extend_index(previous, plan, vectors)
    else:
        index = VectorIndex.build(vectors, index_settings)
    counter = _counter(progress, "neighbours", len(key_array))
    if isinstance(plan, Carried):
        assert previous is not None
        text_model, label_model = previous.text_model, previous.labels_model
        text_matrix = carry_rows(
            previous.corpus.text,
            text_model.transform(lexical_docs),
            plan.old_rows,
        )
        label_matrix = carry_rows(
            previous.corpus.labels,
            label_model.transform(label_docs),
            plan.old_rows,
        )
        basis = previous.basis
        corpus = Corpus(index, key_array, vectors, text_matrix, label_matrix, basis)
        lists, recomputed = update_lists(
            corpus,
            k,
            fresh=plan.fresh,
            previous=plan.previous,
            lost=plan.lost,
            weights=settings.weights,
            progress=counter,
            pairs_floor=DUPLICATE_FLOOR,
            exact=exact,
            candidates=settings.candidates,
        )
        fit = dict(previous.manifest["fit"])
        fit["changed_since"] = (
            int(fit.get("changed_since", 0)) + int(plan.fresh.sum()) + plan.removed
        )
        mode, why_full = "incremental", None
    else:
        text_model, text_matrix = LexicalModel.fit(lexical_docs, "text")
        label_model, label_matrix = LexicalModel.fit(label_docs, "labels")
        basis = Basis.sample(key_array, vectors, text_matrix, label_matrix)
        corpus = Corpus(index, key_array, vectors, text_matrix, label_matrix, basis)
        lists = all_ranked_neighbours(
            corpus,
            k,
            weights=settings.weights,
            candidates=settings.candidates,
            exact=exact,
            progress=counter,
            pairs_floor=DUPLICATE_FLOOR,
        )
        recomputed = len(key_array)
        fit = {"built_at": _now_iso(), "rows": len(key_array), "changed_since": 0}
        mode, why_full = "full", plan
    # Only a full build read every article, so only it knows which cached vectors are stale.
    current_hashes = read.hashes if mode == "full" else None
    del lexical_docs, label_docs, read
    neighbour_keys = np.where(lists.positions >= 0, key_array[np.maximum(lists.positions, 0)], -1)

    # 4. Write, publish, clean up.
    built_at = _now_iso()
    manifest = {
        "format": GENERATION_FORMAT,
        "encoder": identity,
        "model": settings.model,
        "dimension": index.dimension,
        "count": len(key_array),
        "index_kind": index.kind,
        "index_retired": index.retired,
        "exact": exact,
        "neighbours": k,
        "store_revision": revision,
        "built_at": built_at,
        "mode": mode,
        "full_because": why_full,
        "lists_recomputed": recomputed,
        "encoded": len(todo),
        "reused": len(key_array) - len(todo),
        "fit": fit,
        "fingerprint": fingerprint,
        "ranking": {
            "method": "hybrid z-score fusion",
            **asdict(settings.weights),
            "candidates": settings.candidates,
            "duplicate_floor": DUPLICATE_FLOOR,
            "text_vocabulary": len(text_model.terms()),
            "label_vocabulary": len(label_model.terms()),
        },
        "settings": {
            name: getattr(settings, name)
            for name in (
                "max_seq_length",
                "max_text_chars",
                "neighbours",
                "exact_max",
                "hnsw_m",
                "hnsw_ef_construction",
                "hnsw_ef_search",
                "refit_fraction",
            )
        },
        "versions": library_versions(),
    }
    progress("writing", 0, 1)
    name = write_generation(
        root,
        index=index,
        manifest=manifest,
        arrays={
            "keys": key_array,
            "neighbour_keys": neighbour_keys.astype(np.int64),
            "neighbour_scores": lists.scores.astype(np.float32),
            "stats": lists.stats.astype(np.float32),
            "vectors": vectors,
            "published": np.asarray(published, dtype=np.float64),
            "langs": langs.astype(str),
            "duplicate_rows": lists.pair_rows,
            "duplicate_cols": lists.pair_cols,
            "duplicate_sims": lists.pair_sims,
            "basis_keys": basis.keys,
            "basis_vectors": basis.vectors,
        },
        models={"text": text_model, "labels": label_model},
        matrices={
            "text": text_matrix,
            "postings": corpus.postings,
            "labels": label_matrix,
            "basis_text": basis.text,
            "basis_labels": basis.labels,
        },
    )
    failpoint("before-publish")
    publish(root, name)
    failpoint("after-publish")
    removed = clean_up(root, settings.keep_generations)
    if current_hashes is not None:
        store.retain_vectors(identity, current_hashes)
    progress("writing", 1, 1)
    return BuildReport(
        articles=len(key_array),
        encoded=len(todo),
        reused=len(key_array) - len(todo),
        generation=name,
        seconds=round(time.monotonic() - started, 3),
        index_kind=index.kind,
        built_at=built_at,
        removed_generations=removed,
        mode=mode,
        lists_recomputed=recomputed,
    )


def _fingerprint(settings: Settings) -> dict[str, Any]:
    """Settings that shape the lists: a change to any of them needs a full build."""
    return {
        "weights": asdict(settings.weights),
        "candidates": settings.candidates,
        "neighbours": settings.neighbours,
        "max_text_chars": settings.max_text_chars,
        "duplicate_floor": DUPLICATE_FLOOR,
    }


def _previous_generation(root: Path, identity: str) -> Generation | None:
    """The generation being served, if a new build could start from it."""
    name = current_name(root)
    if name is None:
        return None
    try:
        generation = Generation.load(root, name)
        generation.check_compatible(identity)
    except (IndexMismatch, OSError, ValueError, KeyError):
        return None
    return generation


@dataclass
class _Read:
    """What a build reads of each article it processes (lists in key order)."""

    hashes: list[str] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)
    """Text hash -> embedding text, for texts the embedding cache lacks."""
    lexical_docs: list[str] = field(default_factory=list)
    label_docs: list[str] = field(default_factory=list)
    published: list[float] = field(default_factory=list)
    langs: list[str] = field(default_factory=list)


def _read_articles(
    store: ArticleStore,
    identity: str,
    keys: npt.NDArray[np.int64],
    settings: Settings,
    progress: Progress,
) -> _Read:
    read = _Read()
    for start in range(0, len(keys), 1000):
        batch = keys[start : start + 1000].tolist()
        articles = store.get_by_keys(batch, with_body=True)
        texts = [embedding_text(articles[key], settings.max_text_chars) for key in batch]
        hashes = [text_hash(text) for text in texts]
        cached = store.cached_vectors(identity, hashes)
        for key, text, digest in zip(batch, texts, hashes, strict=True):
            article = articles[key]
            read.hashes.append(digest)
            if digest not in cached:
                read.missing[digest] = text
            read.lexical_docs.append(lexical_text(article))
            read.label_docs.append(labels_text(article))
            published = article.published_ts
            read.published.append(published if published is not None else np.nan)
            read.langs.append((article.lang or "").lower())
        progress("reading", start + len(batch), len(keys))
    return read


def _gather_vectors(
    store: ArticleStore, identity: str, hashes: list[str]
) -> npt.NDArray[np.float32]:
    rows: list[npt.NDArray[np.float32]] = []
    for start in range(0, len(hashes), 5000):
        chunk = hashes[start : start + 5000]
        cached = store.cached_vectors(identity, chunk)
        rows.extend(cached[h] for h in chunk)
    return np.ascontiguousarray(np.vstack(rows), dtype=np.float32)


def _counter(progress: Progress, phase: str, total: int) -> Callable[[int], None]:
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        progress(phase, done, total)

    return advance
