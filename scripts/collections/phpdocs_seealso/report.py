"""Output of `convert.py`: the collection's files and the summary counts it prints."""

from __future__ import annotations

import collections
import json
import os
import re
from collections.abc import Sequence
from typing import Any


def write(
    out: str,
    pages: dict[str, dict[str, Any]],
    related: dict[str, list[str]],
    dropped: list[tuple[str, str, str]],
    unresolved: list[tuple[str, str, str, str]],
    body_unres: collections.Counter[tuple[str, str, str]],
) -> None:
    with open(os.path.join(out, "articles.jsonl"), "w", encoding="utf-8") as fh:
        for pid in sorted(pages):
            p = pages[pid]
            rec = {k: p[k] for k in ("id", "title", "body", "url", "section")}
            rec.update(lang="en", links=p["links"])
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    with open(os.path.join(out, "related.jsonl"), "w", encoding="utf-8") as fh:
        for s in sorted(related):
            fh.write(json.dumps({"id": s, "related": related[s]}, ensure_ascii=False) + "\n")
    tables: dict[str, tuple[str, Sequence[tuple[str, ...]]]] = {
        "dropped_pages.tsv": ("id\tpath\treason", dropped),
        "unresolved_related.tsv": ("source_id\telement\traw_entry\treason", unresolved),
        "unresolved_body_links.tsv": (
            "element\traw_entry\treason\tcount",
            [(*k, str(c)) for k, c in body_unres.most_common()],
        ),
    }
    for name, (head, rows) in tables.items():
        with open(os.path.join(out, name), "w", encoding="utf-8") as fh:
            fh.write(head + "\n")
            for row in rows:
                fh.write("\t".join(re.sub(r"\s+", " ", c) for c in row) + "\n")


def summary(pages: dict[str, dict[str, Any]], related: dict[str, list[str]]) -> dict[str, Any]:
    lens = sorted(len(p["body"]) for p in pages.values())
    nl = [len(v) for v in related.values()]
    pairs = {(a, b) for a, lst in related.items() for b in lst}
    words = {pid: set(re.findall(r"[a-z0-9]+", p["title"].lower())) for pid, p in pages.items()}
    shared = sum(1 for a, b in pairs if words[a] & words[b])
    in_body = sum(1 for a, b in pairs if b in pages[a]["links"])
    with_links = [p for p in pages.values() if p["links"]]
    return {
        "articles": len(pages),
        "articles_by_section_top": dict(
            collections.Counter(p["section"] for p in pages.values()).most_common(10)
        ),
        "articles_by_kind": dict(collections.Counter(p["kind"] for p in pages.values())),
        "sources_by_kind": dict(collections.Counter(pages[s]["kind"] for s in related)),
        "undocumented_stubs": sum("currently not documented" in p["body"] for p in pages.values()),
        "sources": len(related),
        "share_with_see_also": round(len(related) / len(pages), 3),
        "links_kept": sum(nl),
        "mean_links": round(sum(nl) / max(1, len(nl)), 2),
        "max_links": max(nl, default=0),
        "distinct_targets": len({b for _, b in pairs}),
        "reciprocal_links": sum(1 for a, b in pairs if (b, a) in pairs),
        "same_section_links": sum(
            1 for a, b in pairs if pages[a]["section"] == pages[b]["section"]
        ),
        "targets_sharing_title_word": shared,
        "targets_in_source_body_links": in_body,
        "pages_with_body_links": len(with_links),
        "body_links_kept": sum(len(p["links"]) for p in with_links),
        "mean_body_links": round(sum(len(p["links"]) for p in pages.values()) / len(pages), 2),
        "body_chars_mean": round(sum(lens) / len(lens)),
        "body_chars_median": lens[len(lens) // 2],
        "body_chars_p90": lens[int(0.9 * (len(lens) - 1))],
        "body_chars_max": lens[-1],
    }
