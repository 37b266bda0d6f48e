"""The latest evaluation, kept in the data directory for the editors' page and the report.

`related evaluate` turns its `Evaluation` into one JSON document (`evaluation_document`): the
table, the options and the links it used, the counts, the curves, figures per section, one row
per source article (its recall and nDCG at the largest cut-off, what the list found and missed)
and a few examples with both lists titled. The document is written atomically to
`<data-dir>/evaluations/latest.json`; the page reads it through `GET /catalog/evaluation`, and
`related evaluate --report` renders the same document as HTML.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from service.article import Article
from service.disk.atomic import atomic_write_text
from service.quality.evaluate import Evaluation
from service.quality.glossary import describe_method, describe_metric, metric_name
from service.store import ArticleStore

FORMAT = 1
DIRECTORY = "evaluations"
LATEST = "latest.json"
NO_SECTION = ""
EXAMPLES = 4


def latest_path(data_dir: Path) -> Path:
    return data_dir / DIRECTORY / LATEST


def titled(store: ArticleStore, ids: Iterable[str]) -> dict[str, Article]:
    """The stored articles among `ids` (without bodies), by id; unknown ids are absent."""
    keys = store.keys_for(ids)
    by_key = store.get_by_keys(keys.values())
    return {article.id: article for article in by_key.values()}


def _ids(joined: Any) -> list[str]:
    return [part for part in str(joined).split("|") if part]


def source_rows(evaluation: Evaluation, store: ArticleStore) -> list[dict[str, Any]]:
    """One row per evaluated source: its section and date, the curated links and the list at
    the largest cut-off, what it found and missed, its recall and nDCG there."""
    top = max(evaluation.cutoffs)
    sources = titled(store, (row["source_id"] for row in evaluation.per_source))
    rows = []
    for row in evaluation.per_source:
        article = sources.get(row["source_id"])
        first = row["first_hit_rank"]
        rows.append(
            {
                "id": row["source_id"],
                "title": row["source_title"],
                "section": (article.section if article else None) or NO_SECTION,
                "published": article.published if article else None,
                "curated": _ids(row["curated"]),
                "service": _ids(row["system"]),
                "found": _ids(row["hits"]),
                "missed": _ids(row["missed"]),
                "first_hit_rank": first if isinstance(first, int) else None,
                "recall": float(row[f"recall@{top}"]),
                "ndcg": float(row[f"ndcg@{top}"]),
            }
        )
    return rows


def section_figures(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean recall, nDCG and hit rate of the service's lists per section, largest first."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["section"]].append(row)
    figures = []
    for section, members in grouped.items():
        n = len(members)
        figures.append(
            {
                "section": section,
                "sources": n,
                "links": sum(len(m["curated"]) for m in members),
                "recall": round(sum(m["recall"] for m in members) / n, 4),
                "ndcg": round(sum(m["ndcg"] for m in members) / n, 4),
                "hit_rate": round(sum(1 for m in members if m["found"]) / n, 4),
            }
        )
    figures.sort(key=lambda f: (-f["sources"], f["section"]))
    return figures


def worst_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Lowest recall first; among equals the lower nDCG, then the more links missed."""
    return sorted(rows, key=lambda r: (r["recall"], r["ndcg"], -len(r["missed"]), r["id"]))


def examples(
    rows: list[dict[str, Any]], store: ArticleStore, count: int = EXAMPLES
) -> list[dict[str, Any]]:
    """A few sources with both lists titled, side by side: the best served, one from the
    middle and the worst served (with the most curated links among equals)."""
    if not rows:
        return []
    ordered = worst_first(rows)
    picks = [ordered[-1], ordered[len(ordered) // 2], ordered[0]]
    if count > 3 and len(ordered) > 3:
        picks.insert(2, ordered[len(ordered) // 4])
    chosen = list({row["id"]: row for row in picks[:count]}.values())
    titles = titled(store, (i for row in chosen for i in row["curated"] + row["service"]))

    def item(article_id: str, **more: Any) -> dict[str, Any]:
        article = titles.get(article_id)
        return {
            "id": article_id,
            "title": article.title if article else None,
            "section": article.section if article else None,
            "published": article.published if article else None,
            **more,
        }

    out = []
    for row in chosen:
        service = row["service"]
        out.append(
            {
                "id": row["id"],
                "title": row["title"],
                "section": row["section"],
                "recall": row["recall"],
                "ndcg": row["ndcg"],
                "curated": [
                    item(t, rank=service.index(t) + 1 if t in service else None)
                    for t in row["curated"]
                ],
                "service": [item(t, curated=t in row["curated"]) for t in service],
            }
        )
    return out


def evaluation_document(
    evaluation: Evaluation, store: ArticleStore, *, links: dict[str, Any]
) -> dict[str, Any]:
    """Everything the page and the report show about one evaluation. `links` says where the
    curated links came from: {"kind": "file", "path": ...} or {"kind": "stored", ...}."""
    rows = source_rows(evaluation, store)
    columns = list(next(iter(evaluation.methods.values()))) if evaluation.methods else []
    return {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "links": links,
        "cutoffs": evaluation.cutoffs,
        "cutoff": max(evaluation.cutoffs),
        "past_only": evaluation.past_only,
        "options": evaluation.options,
        "counts": evaluation.counts,
        "methods": evaluation.methods,
        "best": evaluation.best() if evaluation.methods else {},
        "curves": evaluation.curves,
        "glossary": {
            "metrics": {metric_name(c): describe_metric(c) for c in columns if describe_metric(c)},
            "methods": {name: describe_method(name) for name in evaluation.methods},
        },
        "sections": section_figures(rows),
        "examples": examples(rows, store),
        "sources": rows,
    }


def save_latest(document: dict[str, Any], data_dir: Path) -> Path:
    """Replace the data directory's latest evaluation, atomically; returns where it went."""
    path = latest_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(document, ensure_ascii=False))
    return path


def read_latest(data_dir: Path) -> dict[str, Any] | None:
    """The latest evaluation document, or None when no evaluation has been saved."""
    try:
        text = latest_path(data_dir).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    document: dict[str, Any] = json.loads(text)
    return document
