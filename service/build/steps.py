"""The steps every build shares: read the articles, encode what the cache lacks, publish.

Only texts whose (encoder, text hash) pair is not in the embedding cache are encoded, and each
encoded chunk is cached at once, so a build that is killed half way loses no encoding work.
A build's result is written as a complete generation (`generations.parts.Parts` and a
`Manifest`) and only then published.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.chrome import Chrome
from embeddings.encoder import Encoder
from embeddings.features import Corpus
from embeddings.index import IndexSettings
from embeddings.lexical import LexicalModel
from embeddings.neighbours import NeighbourLists
from embeddings.signals import RANKING_VERSION, SCALAR_SIGNALS, SIGNALS, SPARSE_SIGNALS, Weights
from service.article import Article, embedding_text, item_text, text_hash
from service.build.engines import Engine
from service.build.report import BuildReport
from service.build.state import now_iso
from service.config.settings import Settings
from service.disk.failpoints import failpoint
from service.errors import RelatedError
from service.generations.generation import (
    Generation,
    current_name,
    make_current,
    new_generation_name,
    remove_old,
    write_generation,
)
from service.generations.manifest import GENERATION_FORMAT, Fit, Manifest, Ranking, library_versions
from service.generations.parts import Parts
from service.ingest.chrome import TEXT_RULES, PageVerdict, Titles, ranked_article, stored_titles
from service.quality.profiles import Profile
from service.related.precomputed import render_answers
from service.store import ArticleStore

Progress = Callable[[str, int, int], None]
"""Called as progress(phase, done, total) while a build runs."""

CHROME_SAMPLE = 20_000
"""Articles sampled to find the site chrome: chrome is, by definition, on many of them."""
DUPLICATE_FLOOR = 0.5
"""Full-text cosine above which pairs are stored at build time for near-duplicate checks;
a request's duplicate_threshold below it is checked with a sparse product instead."""


class EmptyStore(RelatedError):
    status = 409
    code = "no_articles"


@dataclass(frozen=True)
class Job:
    """One build: what it was given and what it read of the store before starting."""

    settings: Settings
    store: ArticleStore
    encoder: Encoder
    progress: Progress
    previous: Generation | None
    revision: int
    """The store revision read: the generation holds every write up to it."""
    keys: npt.NDArray[np.int64]
    """Every article's key, ascending: the new generation's rows."""
    engine: Engine
    """Where encoding and ranking run (`service.build.engines`)."""
    profile: Profile | None = None
    """The ranking profile learned by `related tune`, if one is active."""
    started: float = field(default_factory=time.monotonic)

    @property
    def weights(self) -> Weights:
        """The configured weights: the active profile's, else the settings'."""
        return self.profile.ranking_weights() if self.profile else self.settings.weights

    def popularity(self, ids: list[str]) -> npt.NDArray[np.float64]:
        """The popularity prior of each article (0 for all without a profile)."""
        if self.profile is None:
            return np.zeros(len(ids), dtype=np.float64)
        return np.asarray([self.profile.popularity_of(i) for i in ids], dtype=np.float64)

    @property
    def k(self) -> int:
        return min(self.settings.neighbours, max(len(self.keys) - 1, 1))

    @property
    def exact(self) -> bool:
        return len(self.keys) <= self.settings.exact_max

    def index_settings(self) -> IndexSettings:
        s = self.settings
        return IndexSettings(s.exact_max, s.hnsw_m, s.hnsw_ef_construction, s.hnsw_ef_search)

    def counter(self, phase: str, total: int) -> Callable[[int], None]:
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            self.progress(phase, done, total)

        return advance


def fingerprint(settings: Settings, profile: Profile | None) -> dict[str, Any]:
    """What shapes the lists: a build whose fingerprint differs from the last one is full."""
    return {
        "ranking_version": RANKING_VERSION,
        "chrome_share": settings.chrome_share,
        "text_rules": TEXT_RULES,
        "signals": [s.name for s in SIGNALS],
        "profile": profile.name if profile else None,
        "weights": dict(profile.ranking_weights() if profile else settings.weights),
        "candidates": settings.candidates,
        "neighbours": settings.neighbours,
        "max_text_chars": settings.max_text_chars,
        "duplicate_floor": DUPLICATE_FLOOR,
    }


@dataclass
class ArticlesRead:
    """What a build reads of each article it processes (lists in key order)."""

    ids: list[str] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)
    """Text hash -> embedding text, for texts the embedding cache lacks."""
    documents: dict[str, list[str]] = field(
        default_factory=lambda: {s.name: [] for s in SPARSE_SIGNALS}
    )
    """Each sparse signal's document of each article."""
    published: list[float] = field(default_factory=list)
    langs: list[str] = field(default_factory=list)


def fit_chrome(job: Job) -> Chrome:
    """The site chrome of the collection, found in a fixed sample of the articles, with the
    verdict on whether they are scraped pages' texts (`PageVerdict`; call inside the store
    snapshot the job's keys came from)."""
    keys = job.keys
    if len(keys) > CHROME_SAMPLE:
        keys = np.sort(np.random.default_rng(0).choice(keys, CHROME_SAMPLE, replace=False))
    bodies: list[str] = []
    for start in range(0, len(keys), 1000):
        articles = job.store.get_by_keys(keys[start : start + 1000].tolist(), with_body=True)
        bodies.extend(article.body for article in articles.values())
    verdict = PageVerdict.of(bodies)
    chrome = Chrome.fit(bodies, share=job.settings.chrome_share)
    return chrome.with_verdict(verdict.page_rules, verdict.page_share)


def read_articles(job: Job, keys: npt.NDArray[np.int64], chrome: Chrome) -> ArticlesRead:
    """Read the articles of `keys`, their chrome left out (call inside the store snapshot the
    job's keys came from)."""
    read = ArticlesRead()
    identity, max_chars = job.encoder.identity, job.settings.max_text_chars
    titles = stored_titles(job.store)
    for start in range(0, len(keys), 1000):
        batch = keys[start : start + 1000].tolist()
        articles = without_chrome(job.store.get_by_keys(batch, with_body=True), chrome, titles)
        texts = [embedding_text(articles[key], max_chars) for key in batch]
        hashes = [text_hash(text) for text in texts]
        cached = job.store.cached_vectors(identity, hashes)
        for key, text, digest in zip(batch, texts, hashes, strict=True):
            article = articles[key]
            read.ids.append(article.id)
            read.hashes.append(digest)
            if digest not in cached:
                read.missing[digest] = text
            item = item_text(article)
            for signal in SPARSE_SIGNALS:
                assert signal.document is not None
                read.documents[signal.name].append(signal.document(item))
            published = article.published_ts
            read.published.append(published if published is not None else np.nan)
            read.langs.append((article.lang or "").lower())
        job.progress("reading", start + len(batch), len(keys))
    return read


def encode_missing(job: Job, read: ArticlesRead) -> int:
    """Encode the texts the cache lacks (on the job's engine), caching each chunk as soon as it
    is done: locally a chunk is one encoder batch (RELATED_BATCH_SIZE texts, about a second of
    the real model's work on two cores), so a killed build loses at most that batch."""
    todo = list(read.missing.items())
    job.progress("encoding", 0, len(todo))
    done = 0
    for digests, vectors in job.engine.encode(todo):
        job.store.cache_vectors(job.encoder.identity, zip(digests, vectors, strict=True))
        done += len(digests)
        job.progress("encoding", done, len(todo))
        failpoint("after-first-encoded-chunk")
    return len(todo)


def cached_vectors(job: Job, hashes: list[str], dimension: int) -> npt.NDArray[np.float32]:
    """The cached vectors of `hashes`, in order (every one must be cached)."""
    if not hashes:
        return np.zeros((0, dimension), dtype=np.float32)
    rows: list[npt.NDArray[np.float32]] = []
    for start in range(0, len(hashes), 5000):
        chunk = hashes[start : start + 5000]
        found = job.store.cached_vectors(job.encoder.identity, chunk)
        rows.extend(found[h] for h in chunk)
    return np.ascontiguousarray(np.vstack(rows), dtype=np.float32)


def without_chrome(
    articles: dict[int, Article], chrome: Chrome, titles: Titles
) -> dict[int, Article]:
    """The articles as the ranking reads them (`service.ingest.chrome.ranked_article`)."""
    return {key: ranked_article(a, chrome, titles) for key, a in articles.items()}


@dataclass(frozen=True)
class Ranked:
    """What either kind of build produces, ready to be written as a generation."""

    mode: str
    full_because: str | None
    corpus: Corpus
    models: Mapping[str, LexicalModel]
    lists: NeighbourLists
    published: npt.NDArray[np.float64]
    langs: npt.NDArray[np.str_]
    fit: Fit
    chrome: Chrome
    weights: Weights
    """The weights the lists were ranked with: the configured ones, less any signal whose
    condition the collection does not meet (frozen with the basis until a full build)."""
    recomputed: int
    encoded: int
    current_hashes: list[str] | None
    """Every article's text hash, when the build read every article (a full build): the
    embedding cache then drops the rest."""


def commit_generation(job: Job, ranked: Ranked) -> BuildReport:
    """Write `ranked` as a new generation, publish it and clean up; the build's report."""
    settings, corpus, lists, keys = job.settings, ranked.corpus, ranked.lists, job.keys
    name, built_at = new_generation_name(), now_iso()
    neighbour_keys = np.where(lists.positions >= 0, keys[np.maximum(lists.positions, 0)], -1)
    parts = Parts(
        index=corpus.index,
        keys=keys,
        neighbour_keys=neighbour_keys.astype(np.int64),
        neighbour_scores=lists.scores.astype(np.float32),
        stats=lists.stats.astype(np.float32),
        vectors=np.asarray(corpus.vectors, dtype=np.float32),
        published=ranked.published,
        langs=ranked.langs,
        duplicate_rows=lists.pair_rows,
        duplicate_cols=lists.pair_cols,
        duplicate_sims=lists.pair_sims,
        basis_keys=corpus.basis.keys,
        basis_vectors=corpus.basis.vectors,
        matrices=corpus.sparse,
        basis_matrices=corpus.basis.sparse,
        scalars={s.name: corpus.scalar(s) for s in SCALAR_SIGNALS},
        basis_scalars={s.name: corpus.basis.scalar(s) for s in SCALAR_SIGNALS},
        postings=corpus.postings,
        models=ranked.models,
        chrome=ranked.chrome,
    )
    manifest = Manifest(
        format=GENERATION_FORMAT,
        generation=name,
        encoder=job.encoder.identity,
        model=settings.model,
        dimension=corpus.index.dimension,
        count=len(keys),
        index_kind=corpus.index.kind,
        index_retired=corpus.index.retired,
        exact=job.exact,
        neighbours=job.k,
        store_revision=job.revision,
        built_at=built_at,
        mode=ranked.mode,
        full_because=ranked.full_because,
        lists_recomputed=ranked.recomputed,
        encoded=ranked.encoded,
        reused=len(keys) - ranked.encoded,
        fit=ranked.fit,
        fingerprint=fingerprint(settings, job.profile),
        ranking=Ranking(
            method="hybrid z-score fusion",
            version=RANKING_VERSION,
            signals=[s.name for s in SIGNALS],
            weights=dict(ranked.weights),
            profile=job.profile.name if job.profile else None,
            candidates=settings.candidates,
            duplicate_floor=DUPLICATE_FLOOR,
            vocabulary={n: len(m.terms()) for n, m in ranked.models.items()},
            chrome=len(ranked.chrome),
        ),
        settings={name: getattr(settings, name) for name in MANIFEST_SETTINGS},
        versions=library_versions(),
    )
    root = settings.generations_dir
    job.progress("writing", 0, 1)
    # An incremental build carries over the answers whose lists and articles did not move.
    start = job.previous if ranked.mode == "incremental" else None
    counted: list[tuple[int, int]] = []
    answers = partial(store_answers, job, start, counted) if settings.store_answers else None
    write_generation(root, manifest, parts, extra=answers)
    try:
        failpoint("before-publish")
        make_current(root, name)
    except BaseException:
        # Never published, so nothing serves it: only space, which a full disk wants back.
        if current_name(root) != name:
            shutil.rmtree(root / name, ignore_errors=True)
        raise
    failpoint("after-publish")
    removed = remove_old(root, settings.keep_generations)
    if ranked.current_hashes is not None:
        job.store.retain_vectors(job.encoder.identity, ranked.current_hashes)
    job.progress("writing", 1, 1)
    return BuildReport(
        articles=len(keys),
        encoded=ranked.encoded,
        reused=len(keys) - ranked.encoded,
        generation=name,
        seconds=round(time.monotonic() - job.started, 3),
        index_kind=corpus.index.kind,
        built_at=built_at,
        removed_generations=removed,
        mode=ranked.mode,
        lists_recomputed=ranked.recomputed,
        answers=counted[0][0] if counted else 0,
        answers_carried=counted[0][1] if counted else 0,
    )


def store_answers(
    job: Job,
    previous: Generation | None,
    counted: list[tuple[int, int]],
    generation: Generation,
) -> None:
    """Every article's answers, stored with the generation being written (those of
    `previous` that still hold carried over); (stored, carried over) is appended to
    `counted`."""
    counted.append(
        render_answers(job.settings, job.store, job.encoder, generation, job.progress, previous)
    )


MANIFEST_SETTINGS = (
    "max_seq_length",
    "max_text_chars",
    "neighbours",
    "exact_max",
    "hnsw_m",
    "hnsw_ef_construction",
    "hnsw_ef_search",
    "refit_fraction",
    "max_drift",
)
"""Settings recorded in the manifest for people (the fingerprint holds what forces a refit)."""
