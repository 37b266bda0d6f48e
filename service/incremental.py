"""Incremental builds: carry the previous generation over to the new set of articles.

A generation fits its lexical models and its statistics basis once (a full build) and keeps
them frozen while articles come and go, so a pair's score never depends on the rest of the
collection. An incremental build then re-uses every unchanged article's vectors, lexical rows,
statistics, neighbour list and duplicate pairs, and `embeddings.neighbours.update_lists` ranks
only the new and changed articles and the lists that lost an entry. The result equals ranking
every list from scratch with the same basis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from embeddings.neighbours import NeighbourLists
from service.generations import GENERATION_FORMAT, Generation


@dataclass(frozen=True)
class Carried:
    """The previous generation's state, laid out on the new rows (key order)."""

    fresh: npt.NDArray[np.bool_]
    """New or changed rows: everything about them is computed anew."""
    lost: npt.NDArray[np.bool_]
    """Unchanged rows whose list held a deleted or changed article."""
    old_rows: npt.NDArray[np.int64]
    """For each new row, its row in the previous generation (-1 when fresh)."""
    new_of_old: npt.NDArray[np.int64]
    """For each previous row, its new row (-1: deleted or changed)."""
    previous: NeighbourLists
    removed: int


def incremental_plan(
    previous: Generation,
    keys: npt.NDArray[np.int64],
    changed: set[int],
    *,
    k: int,
    exact: bool,
    settings_fingerprint: dict[str, Any],
    refit_fraction: float,
) -> Carried | str:
    """What can be carried over, or why a full build is needed instead (a sentence)."""
    manifest = previous.manifest
    if manifest.get("format") != GENERATION_FORMAT:
        return "the previous generation has another format"
    if manifest.get("fingerprint") != settings_fingerprint:
        return "settings that shape the lists changed since the last build"
    if bool(manifest.get("exact")) != exact:
        return (
            "the collection crossed RELATED_EXACT_MAX (exact search on one side, HNSW on the other)"
        )
    if int(manifest.get("neighbours", -1)) != k:
        return "the neighbour list length changed"
    old_keys = np.asarray(previous.keys)
    old_rows = np.searchsorted(old_keys, keys)
    old_rows = np.where(
        (old_rows < len(old_keys)) & (old_keys[np.minimum(old_rows, len(old_keys) - 1)] == keys),
        old_rows,
        -1,
    )
    fresh = (old_rows < 0) | np.isin(keys, np.fromiter(changed, dtype=np.int64, count=len(changed)))
    old_rows = np.where(fresh, -1, old_rows).astype(np.int64)
    surviving_old = np.zeros(len(old_keys), dtype=bool)
    surviving_old[old_rows[old_rows >= 0]] = True
    removed = int((~surviving_old).sum())
    fit = manifest.get("fit", {})
    drift = int(fit.get("changed_since", 0)) + int(fresh.sum()) + removed
    if drift > refit_fraction * max(int(fit.get("rows", 0)), 1):
        return f"{drift} articles changed since the lexical models were fitted (refit above {refit_fraction:.0%})"

    # Old row -> new row for the survivors, -1 for the removed.
    new_of_old = np.full(len(old_keys), -1, dtype=np.int64)
    new_of_old[old_rows[old_rows >= 0]] = np.nonzero(old_rows >= 0)[0]
    n, width = len(keys), k
    scores = np.full((n, width), -np.inf, dtype=np.float32)
    positions = np.full((n, width), -1, dtype=np.int64)
    stats = np.zeros((n, 6), dtype=np.float32)
    kept = np.nonzero(old_rows >= 0)[0]
    old_positions = previous.neighbour_positions()[old_rows[kept]]
    mapped = np.where(old_positions >= 0, new_of_old[np.maximum(old_positions, 0)], -1)
    lost = np.zeros(n, dtype=bool)
    lost[kept] = ((old_positions >= 0) & (mapped < 0)).any(axis=1)
    scores[kept] = np.asarray(previous.neighbour_scores)[old_rows[kept]]
    positions[kept] = mapped
    stats[kept] = np.asarray(previous.stats)[old_rows[kept]]

    pair_rows, pair_cols, pair_sims = (np.asarray(a) for a in previous.duplicate_arrays)
    both = (
        (new_of_old[pair_rows] >= 0) & (new_of_old[pair_cols] >= 0)
        if len(pair_rows)
        else np.zeros(0, bool)
    )
    carried = NeighbourLists(
        scores,
        positions,
        stats,
        new_of_old[pair_rows[both]],
        new_of_old[pair_cols[both]],
        pair_sims[both],
    )
    return Carried(fresh, lost, old_rows, new_of_old, carried, removed)


def carry_rows(
    old: sp.csr_matrix, fresh: sp.csr_matrix, old_rows: npt.NDArray[np.int64]
) -> sp.csr_matrix:
    """Rows in new order: old matrix rows where old_rows >= 0, else the next row of `fresh`."""
    is_old = old_rows >= 0
    stacked = sp.vstack([old[old_rows[is_old]], fresh]).tocsr()
    order = np.empty(len(old_rows), dtype=np.int64)
    order[is_old] = np.arange(int(is_old.sum()))
    order[~is_old] = int(is_old.sum()) + np.arange(int((~is_old).sum()))
    result: sp.csr_matrix = stacked[order]
    return result
