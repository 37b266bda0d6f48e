"""Why an article is related: shared labels, the strongest shared terms, each part of the score."""

from __future__ import annotations

from typing import Any

import numpy as np

from embeddings.lexical import strongest_shared_terms
from embeddings.ranking import Queries, Weights, score_parts
from service.articles import Article
from service.generations import Generation


def explanations(
    source: Article,
    query: Queries,
    generation: Generation,
    related: list[tuple[Article, int | None]],
    weights: Weights,
) -> list[dict[str, Any]]:
    """One explanation per (article, generation row) in `related`; a row of None (not indexed)
    gets the shared labels only."""
    known = np.asarray([row for _, row in related if row is not None], dtype=np.int64)
    parts = score_parts(generation.corpus, query, known)
    terms = generation.text_terms
    out = []
    index = 0
    for article, row in related:
        explanation: dict[str, Any] = {
            "shared_tags": sorted(set(source.tags) & set(article.tags)),
            "same_section": bool(source.section)
            and (source.section or "").lower() == (article.section or "").lower(),
        }
        if row is not None:
            explanation["shared_terms"] = strongest_shared_terms(
                query.text, generation.corpus.text[row], terms
            )
            explanation["parts"] = {
                name: {
                    "similarity": round(float(parts[name][index]), 4),
                    "z": round(float(parts[f"{name}_z"][index]), 4),
                    "weight": getattr(weights, name),
                }
                for name in ("dense", "lexical", "labels")
            }
            index += 1
        out.append(explanation)
    return out
