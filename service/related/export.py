"""`related export` as one stream (JSONL or CSV): every article's related list, for CDN caches and
other programs. Static-site data files (Hugo, Jekyll, a folder of JSON) are
`service.related.static_export`."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TextIO

from service.config.options import RelatedOptions
from service.errors import InvalidParameter
from service.related.recommender import RelatedResult
from service.services import Services


def every_list(services: Services, options: RelatedOptions) -> Iterator[tuple[str, RelatedResult]]:
    """Each stored article's id and related list under `options`, in store order, articles read
    in batches (never all at once). `past_only` is dropped for an undated article (it has no
    past to keep to)."""
    recommender = services.recommender
    for stored in services.store.iter_articles():
        options_here = options
        if options.past_only and stored.article.published_ts is None:
            options_here = replace(options, past_only=False)
        yield stored.article.id, recommender.related(stored.article.id, options=options_here)


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
    for article_id, result in every_list(services, options):
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
