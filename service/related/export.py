"""`related export`: every article's related list, streamed, for static sites and CDN caches."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import replace
from typing import TextIO

from service.config.options import RelatedOptions
from service.errors import InvalidParameter
from service.services import Services


def export_related(
    services: Services,
    options: RelatedOptions,
    out: TextIO,
    fmt: str = "jsonl",
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write one related list per stored article to `out`; return how many were written.

    jsonl: one {"id", "related": [...], ...} object per line. csv: one row per (article,
    related article) pair with rank and score. Articles are read in batches, never all at once.
    """
    if fmt not in ("jsonl", "csv"):
        raise InvalidParameter(f"Parameter 'format' must be jsonl or csv, got {fmt!r}")
    writer = None
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(["id", "rank", "related_id", "score", "pinned", "title", "url"])
    count = 0
    recommender = services.recommender
    for stored in services.store.iter_articles():
        article_id = stored.article.id
        options_here = options
        if options.past_only and stored.article.published_ts is None:
            options_here = replace(options, past_only=False)  # undated: no "past" to keep to
        result = recommender.related(article_id, options=options_here)
        if writer is None:
            body = result.to_json()
            out.write(
                json.dumps(
                    {
                        "id": article_id,
                        "related": body["related"],
                        "source": body["source"],
                        "generation": body["index"]["generation"],
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
        else:
            for rank, item in enumerate(result.items, start=1):
                writer.writerow(
                    [
                        article_id,
                        rank,
                        item.article.id,
                        "" if item.score is None else round(item.score, 6),
                        int(item.pinned),
                        item.article.title,
                        item.article.url or "",
                    ]
                )
        count += 1
        if progress is not None:
            progress(1)
    return count
