"""Sparse lexical vectors (scikit-learn tf-idf) for the lexical side of ranking.

Four kinds of vocabulary serve the ranking: the text's words and word pairs (tf-idf, sublinear
tf, English stop words removed, terms in at least 2 documents and at most half of them); labels
such as tags and sections, each label one token; titles as character n-grams within words; and
body links, each id or URL one token. Rows are L2-normalised, so a dot
product is cosine similarity. Saved as plain arrays (vocabulary + idf), never pickled.

Large collections fit the vocabulary and idf on a fixed random sample of FIT_SAMPLE documents:
scikit-learn counts every word pair of every fitted document before dropping the rare ones,
which at a million articles is hundreds of millions of dictionary entries. A 100k sample
estimates document frequencies well and keeps every term that occurs in 2 of its documents.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

FIT_SAMPLE = 100_000
TRANSFORM_CHUNK = 20_000
"""Documents per process when a large collection is transformed on every core: tokenising is
pure Python, so threads would wait on each other."""


class LexicalModel:
    """A fitted tf-idf vectorizer that can be saved, loaded and applied to new text.

    A loaded model reads its vocabulary on first use: most readers of a generation (plain
    lookups) never need it, and at a million articles it is a dictionary of millions of terms.
    """

    def __init__(
        self,
        vectorizer: TfidfVectorizer | None,
        kind: str,
        *,
        saved: tuple[Path, str] | None = None,
    ) -> None:
        self._vectorizer = vectorizer
        self.kind = kind
        self._saved = saved
        self._lock = threading.Lock()

    @property
    def vectorizer(self) -> TfidfVectorizer:
        if self._vectorizer is None:
            with self._lock:
                if self._vectorizer is None:
                    assert self._saved is not None
                    self._vectorizer = self._read(*self._saved)
        return self._vectorizer

    @staticmethod
    def _make(kind: str, n_documents: int) -> TfidfVectorizer:
        if kind == "labels":
            return TfidfVectorizer(token_pattern=r"\S+", sublinear_tf=True, lowercase=False)
        if kind == "links":
            # One token a line: ids and URLs as written (see `embeddings.signals.link_document`).
            # A token in one document can't make two items alike: min_df=2 keeps the vocabulary
            # to the linked articles instead of every article's names.
            return TfidfVectorizer(
                token_pattern=r"[^\n]+",
                lowercase=False,
                sublinear_tf=True,
                min_df=2,
                dtype=np.float32,
            )
        if kind == "title":
            # Character n-grams within words: titles are short, and reference titles name
            # things ("CWnd::OnPaint", "pthread_attr_setstacksize") that words would split.
            return TfidfVectorizer(
                analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, dtype=np.float32
            )
        # Tiny corpora can't satisfy min_df=2 / max_df=0.5 and would leave no vocabulary.
        small = n_documents < 20
        return TfidfVectorizer(
            sublinear_tf=True,
            stop_words="english",
            ngram_range=(1, 2),
            min_df=1 if small else 2,
            max_df=1.0 if small else 0.5,
            dtype=np.float32,
        )

    @classmethod
    def fit(
        cls, documents: Sequence[str], kind: str = "text"
    ) -> tuple[LexicalModel, sp.csr_matrix]:
        """Fit on `documents` (a sample of FIT_SAMPLE if there are more); return the model and
        their (n, vocabulary) matrix."""
        vectorizer = cls._make(kind, len(documents))
        try:
            # Link documents are a few tokens each and a sample would lose most targets.
            if len(documents) > FIT_SAMPLE and kind != "links":
                rows = np.random.default_rng(0).choice(len(documents), FIT_SAMPLE, replace=False)
                vectorizer.fit([documents[i] for i in np.sort(rows)])
                model = cls(vectorizer, kind)
                return model, model.transform(documents)
            else:
                matrix = vectorizer.fit_transform(documents)
        except ValueError:
            # Every document empty (e.g. no article has tags): an empty vocabulary, all-zero rows.
            vectorizer = TfidfVectorizer(vocabulary=["\0"], dtype=np.float32)
            matrix = vectorizer.fit_transform(documents)
        return cls(vectorizer, kind), sp.csr_matrix(matrix, dtype=np.float32)

    def transform(self, documents: Sequence[str]) -> sp.csr_matrix:
        if not documents:  # scikit-learn refuses an empty batch
            return sp.csr_matrix((0, len(self.vectorizer.vocabulary_)), dtype=np.float32)
        workers = min(os.cpu_count() or 1, 8)
        if len(documents) < 2 * TRANSFORM_CHUNK or workers == 1:
            matrix: sp.csr_matrix = sp.csr_matrix(
                self.vectorizer.transform(documents), dtype=np.float32
            )
            return matrix
        chunks = [
            documents[start : start + TRANSFORM_CHUNK]
            for start in range(0, len(documents), TRANSFORM_CHUNK)
        ]
        # spawn, not fork: the caller may hold torch's or OpenMP's threads, which fork breaks.
        with ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_load_worker_vectorizer,
            initargs=(self.vectorizer,),
        ) as pool:
            parts = list(pool.map(_transform_in_worker, chunks))
        stacked: sp.csr_matrix = sp.csr_matrix(sp.vstack(parts, format="csr"), dtype=np.float32)
        return stacked

    def terms(self) -> npt.NDArray[np.str_]:
        return np.asarray(self.vectorizer.get_feature_names_out())

    def save(self, directory: Path, name: str) -> None:
        vocabulary = {term: int(i) for term, i in self.vectorizer.vocabulary_.items()}
        (directory / f"{name}.vocabulary.json").write_text(
            json.dumps({"kind": self.kind, "vocabulary": vocabulary}), encoding="utf-8"
        )
        np.save(directory / f"{name}.idf.npy", self.vectorizer.idf_.astype(np.float64))
        Terms.save([str(t) for t in self.terms()], directory, name)

    @classmethod
    def load(cls, directory: Path, name: str, kind: str) -> LexicalModel:
        """The model saved as `name` in `directory`, read when first used."""
        return cls(None, kind, saved=(directory, name))

    @classmethod
    def _read(cls, directory: Path, name: str) -> TfidfVectorizer:
        saved = json.loads((directory / f"{name}.vocabulary.json").read_text(encoding="utf-8"))
        vectorizer = cls._make(saved["kind"], 1_000)
        vectorizer.set_params(vocabulary=saved["vocabulary"], min_df=1, max_df=1.0)
        vectorizer._validate_vocabulary()
        vectorizer.idf_ = np.load(directory / f"{name}.idf.npy")
        return vectorizer


class Terms:
    """A vocabulary's terms in column order, stored as one UTF-8 blob and its offsets. Loaded
    memory-mapped, so naming a few terms (explanations) costs no dictionary of millions of
    strings in every server worker."""

    def __init__(self, blob: npt.NDArray[np.uint8], offsets: npt.NDArray[np.int64]) -> None:
        self._blob = blob
        self._offsets = offsets

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, column: int) -> str:
        start, stop = int(self._offsets[column]), int(self._offsets[column + 1])
        return bytes(self._blob[start:stop]).decode("utf-8")

    @staticmethod
    def save(terms: Sequence[str], directory: Path, name: str) -> None:
        encoded = [term.encode("utf-8") for term in terms]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        np.save(directory / f"{name}.terms_offsets.npy", offsets, allow_pickle=False)
        blob = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        np.save(directory / f"{name}.terms_blob.npy", blob, allow_pickle=False)

    @classmethod
    def load(cls, directory: Path, name: str) -> Terms:
        return cls(
            np.load(directory / f"{name}.terms_blob.npy", mmap_mode="r"),
            np.load(directory / f"{name}.terms_offsets.npy", mmap_mode="r"),
        )


_worker_vectorizer: TfidfVectorizer | None = None


def _load_worker_vectorizer(vectorizer: TfidfVectorizer) -> None:
    global _worker_vectorizer
    _worker_vectorizer = vectorizer


def _transform_in_worker(documents: Sequence[str]) -> sp.csr_matrix:
    assert _worker_vectorizer is not None
    return sp.csr_matrix(_worker_vectorizer.transform(documents), dtype=np.float32)


def strongest_shared_terms(
    a: sp.csr_matrix, b: sp.csr_matrix, terms: Terms | npt.NDArray[np.str_], count: int = 5
) -> list[str]:
    """The terms contributing most to the cosine of two tf-idf rows, strongest first."""
    product = a.multiply(b).tocsr()
    if product.nnz == 0:
        return []
    order = np.argsort(-product.data, kind="stable")[:count]
    return [str(terms[product.indices[i]]) for i in order]
