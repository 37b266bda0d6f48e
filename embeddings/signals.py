"""The kinds of evidence the ranking fuses, declared once.

Each `Signal` says what it reads of an item and how two items compare: the dense signal is the
sentence embedding's cosine; sparse signals are cosines of vectors fitted on the collection
(`embeddings.lexical`): words, labels, titles; the age signal compares publication times and
the popularity prior scores the candidate alone (how often editors link it). Fusion, the
per-query statistics, the stored generation files, incremental repair, explanations and the
weight settings are all derived from `SIGNALS`: adding a signal means declaring it here (and,
for a new kind of vectorizer, teaching `embeddings.lexical` to fit it).

`RANKING_VERSION` names the scoring formula. It is part of every build's fingerprint, so a
change to the formula forces a full build instead of mixing old and new scores in one list.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

RANKING_VERSION = 3
"""Bump whenever scores computed by this code would differ from those of the previous version."""


@dataclass(frozen=True)
class ItemText:
    """What signals read of an item: plain text, and labels as 'kind:value' strings."""

    title: str
    body: str
    labels: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    """What other items' links may call this one: its id and its URL."""
    links: tuple[str, ...] = ()
    """Ids or URLs of the other items its body links to, in text order."""


Kind = Literal["dense", "sparse", "age", "prior"]


@dataclass(frozen=True)
class Signal:
    name: str
    weight: float
    """Default weight in the fused score (the setting RELATED_WEIGHT_<NAME> changes it)."""
    doc: str
    """One line for the weight setting's documentation."""
    kind: Kind = "dense"
    """dense: the embedding's cosine; sparse: the cosine of vectors a `LexicalModel` fits;
    age: how close in time two items are; prior: a property of the candidate alone."""
    vectorizer: str | None = None
    """The `LexicalModel` kind fitted for a sparse signal."""
    document: Callable[[ItemText], str] | None = None
    """The text the vectorizer reads of an item (sparse signals only)."""
    when: str | None = None
    """A condition the collection must meet for the signal to count (its weight is 0
    otherwise), decided by each full build: 'publication_dates' (see `dates_are_publications`)."""

    @property
    def dense(self) -> bool:
        return self.kind == "dense"

    @property
    def sparse(self) -> bool:
        return self.kind == "sparse"

    @property
    def scalar(self) -> bool:
        """A signal computed from one number per item (age, prior)."""
        return self.kind in ("age", "prior")


def label_document(labels: Sequence[str]) -> str:
    """One token per label ('Technical Guide' -> 'technical_guide'), for the label vectorizer."""
    tokens = (re.sub(r"\W+", "_", label.strip().lower()).strip("_") for label in labels)
    return " ".join(t for t in tokens if t)


def link_key(link: str) -> str:
    """A link as one token: a URL's fragment and trailing slash dropped (they name the same
    article), whitespace inside an id made '_' (tokens are lines of the document)."""
    key = link.strip().split("#", 1)[0].rstrip("/")
    return re.sub(r"\s+", "_", key)


def link_document(item: ItemText) -> str:
    """The item's names and the links of its body, one token a line: two items share a token
    when one links to the other (a name of one is a link of the other) or both link the same
    article under the same name (id or URL). Only the item's own links count, never who links to it, so a pair's score stays a
    function of the two items alone (what incremental builds rely on): co-citation, which needs
    the links of every other item, is left out."""
    tokens = dict.fromkeys(link_key(t) for t in (*item.names, *item.links))
    return "\n".join(t for t in tokens if t)


def _words(item: ItemText) -> str:
    # The title twice, as the strongest terms; the whole body: unlike the model, tf-idf costs
    # little per word and sees every term.
    return f"{item.title}\n{item.title}\n{item.body}"


def _labels(item: ItemText) -> str:
    return label_document(item.labels)


def _title(item: ItemText) -> str:
    return item.title


SIGNALS: tuple[Signal, ...] = (
    Signal("dense", 1.0, "Weight of dense (embedding) similarity in the ranking."),
    Signal(
        "lexical",
        1.0,
        "Weight of lexical (tf-idf, words and word pairs) similarity in the ranking.",
        kind="sparse",
        vectorizer="text",
        document=_words,
    ),
    Signal(
        "labels",
        0.5,
        "Weight of shared tags and section in the ranking (tf-idf: a label most articles carry counts little).",
        kind="sparse",
        vectorizer="labels",
        document=_labels,
    ),
    Signal(
        "title",
        0.2,
        "Weight of title-to-title similarity (tf-idf of character n-grams) in the ranking.",
        kind="sparse",
        vectorizer="title",
        document=_title,
    ),
    Signal(
        "links",
        0.0,
        "Weight of the body links in the ranking: a direct link either way, or links to the same articles (tf-idf: a target many articles link counts little); `related tune` learns it.",
        kind="sparse",
        vectorizer="links",
        document=link_document,
    ),
    Signal(
        "age",
        0.5,
        "Weight of closeness in time (-log of 1 + days apart) in the ranking; only where the dates are publication dates.",
        kind="age",
        when="publication_dates",
    ),
    Signal(
        "popularity",
        0.0,
        "Weight of how often editors link the candidate (learned from the curated links by `related tune`, which sets it).",
        kind="prior",
    ),
)
SPARSE_SIGNALS = tuple(s for s in SIGNALS if s.sparse)
SCALAR_SIGNALS = tuple(s for s in SIGNALS if s.scalar)
TEXT_SIGNAL = "lexical"
"""The full-text signal: lexical candidates come from its postings and near-duplicates are
judged by its cosine."""
LABEL_SIGNAL = "labels"
"""The label signal: section and tag filters read its vocabulary."""
STATS_WIDTH = 2 * len(SIGNALS)
"""Per-query statistics: the mean and spread of each signal, in SIGNALS order."""


def signal(name: str) -> Signal:
    for declared in SIGNALS:
        if declared.name == name:
            return declared
    raise KeyError(f"unknown signal {name!r}")


class Weights(Mapping[str, float]):
    """A weight per signal: the declared defaults, overridden by name."""

    def __init__(self, values: Mapping[str, float] | None = None, **given: float) -> None:
        chosen = {**(values or {}), **given}
        unknown = set(chosen) - {s.name for s in SIGNALS}
        if unknown:
            raise ValueError(f"unknown signal {sorted(unknown)[0]!r}")
        self._values = {s.name: float(chosen.get(s.name, s.weight)) for s in SIGNALS}

    def __getitem__(self, name: str) -> float:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self) == dict(other)

    def __hash__(self) -> int:
        return hash(tuple(self._values.items()))

    def __repr__(self) -> str:
        return f"Weights({self._values})"


DAY = 86_400.0
UNKNOWN_GAP_DAYS = 365.0
"""The time between two items when either date is unknown: a typical gap, neither near nor far."""


def dates_are_publications(published: npt.ArrayLike) -> bool:
    """Whether items' dates look like publication dates, which make time a relatedness signal.

    Review or migration stamps (documentation re-dated in bulk: 47% of one reference set on a
    single day) pile up on a few days; publication dates spread. Publication dates: at least
    half the items dated, and the busiest day holds at most 20 times the median of the days
    that have any item.
    """
    values = np.asarray(published, dtype=np.float64)
    dated = values[np.isfinite(values)]
    if len(values) == 0 or len(dated) < len(values) / 2:
        return False
    _, counts = np.unique(np.floor(dated / DAY), return_counts=True)
    return bool(counts.max() <= 20 * np.median(counts))


def effective_weights(weights: Weights, published: npt.ArrayLike) -> Weights:
    """`weights` with each conditional signal zeroed where the collection does not meet its
    condition."""
    applies = {"publication_dates": dates_are_publications(published)}
    return Weights(
        {s.name: (weights[s.name] if s.when is None or applies[s.when] else 0.0) for s in SIGNALS}
    )
