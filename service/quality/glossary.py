"""What each evaluation metric and method means, in words for editors.

Written once and read by both the HTML report (`service.quality.report`) and the editors' page (through
the saved evaluation, `service.quality.latest`), so the two never explain a figure differently.
"""

from __future__ import annotations

METRICS: dict[str, str] = {
    "precision": "Of the first k articles in the list, the share that editors had linked.",
    "recall": "Of the articles editors linked, the share found in the first k of the list.",
    "ndcg": (
        "Recall that also rewards order: a curated link near the top counts more than one "
        "further down (graded links count by their grade). 1.0 is the editors' own order."
    ),
    "hit_rate": "The share of articles whose first k hold at least one curated link.",
    "mrr": (
        "Mean reciprocal rank: 1 when the first curated link found is at the top, 1/2 when it "
        "is second, and so on; 0 when none is in the first k."
    ),
    "map": (
        "Mean average precision: precision taken at the place of every curated link found, "
        "averaged; high when the links come early and together."
    ),
    "coverage": (
        "The share of the catalogue that appears in at least one article's first k: low "
        "coverage means the same few articles are recommended everywhere."
    ),
}

METHODS: dict[str, str] = {
    "random": "Articles drawn at random: the floor every method must beat.",
    "most-recent": "The newest articles first, whatever their subject.",
    "bm25-mlt": (
        "Elasticsearch's More Like This with its defaults: the article's 25 most telling "
        "words as a BM25 search."
    ),
    "tfidf": "Articles sharing the most (and the rarest) words with the title and body.",
    "dense": "The embedding model's similarity alone: what the article is about, in any words.",
    "service": (
        "This service's lists, as the site gets them: embeddings, shared words and shared tags "
        "and section fused, with the configured options (recency, near-duplicates, ...)."
    ),
}


def metric_name(column: str) -> str:
    """'ndcg@10' -> 'ndcg'."""
    return column.split("@", 1)[0]


def describe_metric(column: str) -> str:
    return METRICS.get(metric_name(column), "")


def describe_method(name: str) -> str:
    return METHODS.get(name, "")
