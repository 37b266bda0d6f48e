"""Re-ranking a candidate pool: recency decay, near-duplicate suppression, MMR diversity.

Pure functions over arrays: candidates come best first, with their scores and the
similarities (to the source and between each other) that the caller chose to judge them by.
Which pairs may be copies at all is `may_be_copies`, on their titles.
"""

from __future__ import annotations

import math
import re

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
_WORD = re.compile(r"\w+")


def title_words(title: str) -> frozenset[str]:
    """A title's words as `may_be_copies` compares them: case-folded runs of letters, digits
    and underscores (`iso_8859-15` is `iso_8859` and `15`)."""
    return frozenset(_WORD.findall(title.casefold()))


def may_be_copies(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two articles whose texts are nearly the same may be copies of one article, by
    their titles' words (`title_words`): a copy keeps its title, give or take added words
    ("... (updated)"), so one title's words are all in the other's. Pages written from one
    template (`array_pop` and `array_shift`, `iso_8859-1` and `iso_8859-15`) share almost
    every word of their text but name different things, and a reader of one is shown the
    other."""
    return a <= b or b <= a


def recency_factors(age_days: FloatArray, mode: str, half_life_days: float) -> FloatArray:
    """Multipliers in (0, 1] for candidates `age_days` apart from the source.

    exponential: 0.5 ** (age / half-life); gaussian: 0.5 ** ((age / half-life) ** 2), which
    spares recent neighbours and falls steeply after the half-life. Unknown ages (NaN) get 1:
    an undated article is neither favoured nor punished for it.
    """
    ages = np.abs(np.asarray(age_days, dtype=np.float64)) / half_life_days
    if mode == "none":
        return np.ones_like(ages)
    if mode == "exponential":
        factors = np.power(0.5, ages)
    elif mode == "gaussian":
        factors = np.power(0.5, ages**2)
    else:
        raise ValueError(f"unknown recency mode {mode!r}")
    return np.where(np.isnan(ages), 1.0, factors)


def decay(scores: FloatArray, factors: FloatArray) -> FloatArray:
    """Scale positive scores by `factors`; a negative score (below average) is left as it is,
    since shrinking it towards 0 would raise it."""
    scores = np.asarray(scores, dtype=np.float64)
    return np.where(scores > 0, scores * factors, scores)


def select(
    scores: FloatArray,
    k: int,
    *,
    duplicate_of_source: FloatArray,
    duplicate_pairs: FloatArray,
    duplicate_threshold: float,
    diversity_pairs: FloatArray | None = None,
    diversity: float = 0.0,
) -> tuple[list[int], int]:
    """Choose up to k candidates (given best first); return their indices in choice order and
    how many were skipped as near-duplicates.

    A candidate is a near-duplicate when its similarity to the source (`duplicate_of_source`)
    or to an already chosen candidate (`duplicate_pairs`) is at or above the threshold. With
    diversity > 0 this is Maximal Marginal Relevance: each step takes the candidate with the
    best (1 - diversity) * relevance - diversity * (highest similarity to those chosen, from
    `diversity_pairs`), relevance min-max scaled to [0, 1] over the pool so both terms share
    a scale.
    """
    n = len(scores)
    if n == 0 or k <= 0:
        return [], 0
    scores = np.asarray(scores, dtype=np.float64)
    low, high = float(scores.min()), float(scores.max())
    relevance = (scores - low) / (high - low) if high > low else np.ones(n)
    closest_duplicate = np.asarray(duplicate_of_source, dtype=np.float64).copy()
    closest_topic = np.full(n, -math.inf)
    available = np.ones(n, dtype=bool)
    chosen: list[int] = []
    suppressed = 0
    while len(chosen) < k and available.any():
        if diversity > 0 and chosen and diversity_pairs is not None:
            gain = (1 - diversity) * relevance - diversity * closest_topic
            pick = int(np.argmax(np.where(available, gain, -math.inf)))
        else:
            pick = int(np.argmax(available))  # first available: the pool is best first
        available[pick] = False
        if closest_duplicate[pick] >= duplicate_threshold:
            suppressed += 1
            continue
        chosen.append(pick)
        closest_duplicate = np.maximum(closest_duplicate, duplicate_pairs[pick])
        if diversity_pairs is not None:
            closest_topic = np.maximum(closest_topic, diversity_pairs[pick])
    return chosen, suppressed
