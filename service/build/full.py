"""A full build: fit the lexical models and the statistics basis, rank every list anew.

It reads every article, so it is also the build that learns which cached vectors no article
uses any more, and drops them.
"""

from __future__ import annotations

import numpy as np

from embeddings.chrome import Chrome
from embeddings.features import Corpus, Features
from embeddings.index import VectorIndex
from embeddings.lexical import LexicalModel
from embeddings.neighbours import ListOptions
from embeddings.signals import SPARSE_SIGNALS, effective_weights
from service.build.report import BuildReport
from service.build.state import now_iso
from service.build.steps import (
    DUPLICATE_FLOOR,
    ArticlesRead,
    Job,
    Ranked,
    cached_vectors,
    commit_generation,
    encode_missing,
)
from service.generations.manifest import Fit


def full_build(job: Job, read: ArticlesRead, why: str, chrome: Chrome) -> BuildReport:
    """Build every part of a generation from every article (`read`, in key order, its
    `chrome` already left out)."""
    keys = job.keys
    encoded = encode_missing(job, read)
    vectors = cached_vectors(job, read.hashes, 0)

    job.progress("indexing", 0, len(keys))
    index = VectorIndex.build(vectors, job.index_settings())
    models: dict[str, LexicalModel] = {}
    matrices = {}
    for signal in SPARSE_SIGNALS:
        assert signal.vectorizer is not None
        models[signal.name], matrices[signal.name] = LexicalModel.fit(
            read.documents[signal.name], signal.vectorizer
        )
    published = np.asarray(read.published, dtype=np.float64)
    scalars = {"age": published, "popularity": job.popularity(read.ids)}
    corpus = Corpus.from_features(Features(vectors, matrices, scalars), keys, index=index)
    # The defaults count a conditional signal only where the collection meets its condition;
    # a learned profile's weights stand as learned.
    weights = job.weights if job.profile else effective_weights(job.weights, published)
    ranking = job.counter("neighbours", len(keys))
    ranking(0)  # the phase starts now, not when its first batch is done
    lists = job.engine.rank(
        corpus,
        np.arange(len(keys), dtype=np.int64),
        job.k,
        ListOptions(weights, job.settings.candidates, job.exact, DUPLICATE_FLOOR),
        progress=ranking,
    )
    return commit_generation(
        job,
        Ranked(
            mode="full",
            full_because=why,
            corpus=corpus,
            models=models,
            lists=lists,
            published=published,
            langs=np.asarray(read.langs, dtype=str),
            fit=Fit(built_at=now_iso(), rows=len(keys), changed_since=0),
            chrome=chrome,
            weights=weights,
            recomputed=len(keys),
            encoded=encoded,
            current_hashes=read.hashes,
        ),
    )
