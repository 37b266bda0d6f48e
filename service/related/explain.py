"""Why an article is related: shared labels, the strongest shared terms, each part of the score.

The parts add up: each signal contributes `points` (its weight times its z-score), their sum is
the fused score, and the shown `score` is the fused score times the recency factor (applied to
positive scores only).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from embeddings.features import similarities
from embeddings.fusion import score_parts
from embeddings.lexical import strongest_shared_terms
from embeddings.signals import SIGNALS, Weights
from service.article import Article
from service.related.source import Source


def explanations(
    source: Source,
    related: list[tuple[Article, int | None, float]],
    weights: Weights,
) -> list[dict[str, Any]]:
    """One explanation per (article, generation row, recency factor) in `related`; a row of
    None (not indexed) gets the shared labels only."""
    generation = source.generation
    corpus = generation.corpus
    known = np.asarray([row for _, row, _ in related if row is not None], dtype=np.int64)
    parts = score_parts(similarities(source.query, corpus, known[None, :]), source.stats, weights)
    terms = generation.text_terms
    origin = source.article
    out = []
    index = 0
    for article, row, factor in related:
        explanation: dict[str, Any] = {
            "shared_tags": sorted(set(origin.tags) & set(article.tags)),
            "same_section": bool(origin.section)
            and (origin.section or "").lower() == (article.section or "").lower(),
        }
        if row is not None:
            explanation["shared_terms"] = strongest_shared_terms(
                source.query.text, corpus.text[row], terms
            )
            explanation["parts"] = {
                signal.name: {
                    "similarity": round(float(parts[signal.name]["similarity"][0, index]), 4),
                    "z": round(float(parts[signal.name]["z"][0, index]), 4),
                    "weight": weights[signal.name],
                    "points": round(float(parts[signal.name]["points"][0, index]), 4),
                }
                for signal in SIGNALS
            }
            fused = float(sum(parts[s.name]["points"][0, index] for s in SIGNALS))
            explanation["fused"] = round(fused, 4)
            explanation["recency"] = round(factor if fused > 0 else 1.0, 4)
            explanation["score"] = round(fused * factor if fused > 0 else fused, 4)
            index += 1
        out.append(explanation)
    return out
