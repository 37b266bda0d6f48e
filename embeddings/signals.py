"""The kinds of evidence the ranking fuses, declared once.

Each `Signal` says what it reads of an item and how it turns that into vectors: the dense
signal is the sentence embedding; every other signal is a sparse vector fitted on the
collection (`embeddings.lexical`). Similarity is always a dot product of unit rows, i.e. a
cosine. Fusion, the per-query statistics, the stored generation files, incremental repair,
explanations and the weight settings are all derived from `SIGNALS`: adding a signal means
declaring it here (and, for a new kind of vectorizer, teaching `embeddings.lexical` to fit it).

`RANKING_VERSION` names the scoring formula. It is part of every build's fingerprint, so a
change to the formula forces a full build instead of mixing old and new scores in one list.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

RANKING_VERSION = 1
"""Bump whenever scores computed by this code would differ from those of the previous version."""


@dataclass(frozen=True)
class ItemText:
    """What signals read of an item: plain text, and labels as 'kind:value' strings."""

    title: str
    body: str
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Signal:
    name: str
    weight: float
    """Default weight in the fused score (the setting RELATED_WEIGHT_<NAME> changes it)."""
    doc: str
    """One line for the weight setting's documentation."""
    vectorizer: str | None = None
    """None for the dense embedding; else the `LexicalModel` kind fitted for this signal."""
    document: Callable[[ItemText], str] | None = None
    """The text the vectorizer reads of an item (sparse signals only)."""

    @property
    def dense(self) -> bool:
        return self.vectorizer is None


def label_document(labels: Sequence[str]) -> str:
    """One token per label ('Technical Guide' -> 'technical_guide'), for the label vectorizer."""
    tokens = (re.sub(r"\W+", "_", label.strip().lower()).strip("_") for label in labels)
    return " ".join(t for t in tokens if t)


def _words(item: ItemText) -> str:
    # The title twice, as the strongest terms; the whole body: unlike the model, tf-idf costs
    # little per word and sees every term.
    return f"{item.title}\n{item.title}\n{item.body}"


def _labels(item: ItemText) -> str:
    return label_document(item.labels)


SIGNALS: tuple[Signal, ...] = (
    Signal("dense", 1.0, "Weight of dense (embedding) similarity in the ranking."),
    Signal(
        "lexical",
        1.0,
        "Weight of lexical (tf-idf, words and word pairs) similarity in the ranking.",
        vectorizer="text",
        document=_words,
    ),
    Signal(
        "labels",
        0.5,
        "Weight of shared tags and section in the ranking.",
        vectorizer="labels",
        document=_labels,
    ),
)
SPARSE_SIGNALS = tuple(s for s in SIGNALS if not s.dense)
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
