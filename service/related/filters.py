"""Which articles a related list may contain, as a predicate on an article and as a mask over
a generation's rows: two forms of one rule, kept side by side so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from embeddings.signals import LABEL_SIGNAL, label_document
from service.article import Article
from service.config.options import RelatedOptions
from service.generations.generation import Generation

CACHED_LABEL_CHARS = 100
"""Labels up to this long are remembered (real sections and tags); a longer one, which only a
query can bring, is spelled anew, so 65,536 remembered labels stay under about 30 MB."""


@lru_cache(maxsize=65536)
def _cached_token(kind: str, value: str) -> str:
    return label_document([f"{kind}:{value}"])


def _token(kind: str, value: str) -> str:
    if len(value) > CACHED_LABEL_CHARS:
        return label_document([f"{kind}:{value}"])
    return _cached_token(kind, value)


def section_token(section: str) -> str:
    """A section as the label signal spells it (case and punctuation ignored)."""
    return _token("section", section)


@dataclass(frozen=True)
class Filter:
    sections: frozenset[str]
    """Normalised section tokens (any of), empty for no restriction."""
    tags: frozenset[str]
    lang: str | None
    after: float | None
    before: float | None
    excluded_ids: frozenset[str]
    excluded_keys: frozenset[int]
    _labels: dict[tuple[str, str], bool] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """Whether a section or tag as an article spells it is among the asked ones: a request
    meets the same few labels on every candidate."""

    @classmethod
    def build(
        cls,
        options: RelatedOptions,
        source: Article,
        *,
        excluded_ids: set[str],
        excluded_keys: set[int],
    ) -> Filter:
        lang = (
            source.lang
            if options.lang == "auto"
            else None
            if options.lang == "any"
            else options.lang
        )
        before = options.published_before_ts
        if options.past_only and source.published_ts is not None:
            before = source.published_ts if before is None else min(before, source.published_ts)
        return cls(
            sections=frozenset(_token("section", s) for s in options.section),
            tags=frozenset(_token("tag", t) for t in options.tag),
            lang=lang,
            after=options.published_after_ts,
            before=before,
            excluded_ids=frozenset(excluded_ids),
            excluded_keys=frozenset(excluded_keys),
        )

    def accepts(self, article: Article) -> bool:
        if article.id in self.excluded_ids:
            return False
        if self.sections and (not article.section or not self._has("section", article.section)):
            return False
        if self.tags and not any(self._has("tag", t) for t in article.tags):
            return False
        # A candidate of unknown language is allowed: nothing says it is in another one.
        if self.lang and article.lang and article.lang.lower() != self.lang.lower():
            return False
        published = article.published_ts
        if self.after is not None and (published is None or published < self.after):
            return False
        return not (self.before is not None and (published is None or published >= self.before))

    def _has(self, kind: str, value: str) -> bool:
        found = self._labels.get((kind, value))
        if found is None:
            tokens = self.sections if kind == "section" else self.tags
            found = self._labels[(kind, value)] = _token(kind, value) in tokens
        return found

    def mask(self, generation: Generation) -> npt.NDArray[np.bool_]:
        """The same rule over every row of `generation` (True = may be returned)."""
        n = len(generation)
        allowed = np.ones(n, dtype=bool)
        for tokens in (self.sections, self.tags):
            if tokens:
                allowed &= label_mask(generation, tokens)
        if self.lang:
            langs = np.asarray(generation.parts.langs)  # lowercased at build time
            allowed &= (langs == self.lang.lower()) | (langs == "")
        published = np.asarray(generation.parts.published)
        if self.after is not None:
            allowed &= np.nan_to_num(published, nan=-np.inf) >= self.after
        if self.before is not None:
            allowed &= np.nan_to_num(published, nan=np.inf) < self.before
        for key in self.excluded_keys:
            position = generation.position(key)
            if position is not None:
                allowed[position] = False
        return allowed


def label_mask(generation: Generation, tokens: frozenset[str]) -> npt.NDArray[np.bool_]:
    """Rows of `generation` that carry any of the label `tokens`."""
    vocabulary = generation.labels_model.vectorizer.vocabulary_
    columns = [vocabulary[t] for t in tokens if t in vocabulary]
    if not columns:
        return np.zeros(len(generation), dtype=bool)
    labels = generation.parts.matrices[LABEL_SIGNAL]
    return np.asarray(labels[:, columns].sum(axis=1)).ravel() > 0
