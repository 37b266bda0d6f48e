"""Candidates: the few rows worth scoring for a query, on collections too large to score all.

Each query gets the union of its dense top-C (the FAISS index, HNSW on large collections) and
its lexical top-C. The lexical top-C come from the query's strongest terms looked up in the
term -> rows postings (what a search engine's inverted index does), which costs the length of a
few postings lists rather than a pass over every row.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from embeddings.features import Corpus, PositionArray, Queries

QUERY_TERMS = 64
"""Terms of a query looked up for lexical candidates: the strongest carry most of a cosine (the
same idea as More Like This's max_query_terms), and rare terms have short postings."""
LONG_ROW = 50_000
"""Rows longer than this are cut on their own by `row_top`, so they don't inflate its grid."""


def candidate_pool(corpus: Corpus, queries: Queries, candidates: int) -> PositionArray:
    """Each query's dense top-C and lexical top-C, sorted by position (-1 pads, repeats kept)."""
    _, dense = corpus.index.search(queries.vectors, candidates + 1)
    strongest = keep_strongest(queries.text, QUERY_TERMS)
    lexical = row_top(sp.csr_matrix(strongest @ corpus.postings), candidates + 1)
    return np.sort(np.concatenate([dense, lexical], axis=1), axis=1)


def keep_strongest(matrix: sp.csr_matrix, count: int) -> sp.csr_matrix:
    """`matrix` with only each row's `count` largest entries."""
    matrix = sp.csr_matrix(matrix)
    lengths = np.diff(matrix.indptr)
    if len(lengths) == 0 or lengths.max() <= count:
        return matrix
    rows = np.repeat(np.arange(matrix.shape[0]), lengths)
    order = np.lexsort((-matrix.data, rows))
    rank_in_row = np.arange(len(order)) - np.repeat(matrix.indptr[:-1], lengths)
    keep = np.zeros(len(order), dtype=bool)
    keep[order[rank_in_row < count]] = True
    kept_per_row = np.minimum(lengths, count)
    indptr = np.concatenate([[0], np.cumsum(kept_per_row)])
    return sp.csr_matrix(
        (matrix.data[keep], matrix.indices[keep], indptr), shape=matrix.shape, dtype=np.float32
    )


def row_top(matrix: sp.csr_matrix, count: int) -> PositionArray:
    """Column positions of each row's `count` largest stored entries, (rows, count), -1 pads.

    Rows are laid out in a (rows, longest row) grid and cut with one argpartition, which is
    far cheaper than sorting every entry; the rare very long row is cut on its own so that it
    doesn't inflate the grid.
    """
    b = matrix.shape[0]
    top = np.full((b, count), -1, dtype=np.int64)
    indptr, data, indices = matrix.indptr, matrix.data, matrix.indices
    lengths = np.diff(indptr)
    long = lengths > LONG_ROW
    for row in np.nonzero(long)[0]:
        values = data[indptr[row] : indptr[row + 1]]
        best = np.argpartition(-values, count - 1)[:count] if len(values) > count else slice(None)
        chosen = indices[indptr[row] : indptr[row + 1]][best]
        top[row, : len(chosen)] = chosen
    lengths = np.where(long, 0, lengths)
    width = int(lengths.max(initial=0))
    if width == 0:
        return top
    rows = np.repeat(np.arange(b), lengths)
    starts = np.repeat(indptr[:-1], lengths)
    entries = np.nonzero(~np.repeat(long, np.diff(indptr)))[0]
    columns = entries - starts
    grid = np.full((b, width), -np.inf, dtype=np.float32)
    grid[rows, columns] = data[entries]
    if width > count:
        best = np.argpartition(-grid, count - 1, axis=1)[:, :count]
    else:
        best = np.broadcast_to(np.arange(width), (b, width))
    found = np.take_along_axis(grid, best, axis=1) > -np.inf
    chosen = indices[np.minimum(indptr[:-1, None] + best, len(indices) - 1)]
    short = ~long
    top[short, : best.shape[1]] = np.where(found, chosen, -1)[short]
    return top
