"""JSON for the editors' page that the public API does not already give: finding articles, the
sections, one article's editorial state with titles, and the latest evaluation.

Reads only, so open like every read. Article ids are matched as paths (`<path:...>`), so ids
that hold a `/` work once percent-encoded.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from service.article import Article
from service.config.values import parse_int
from service.errors import ArticleNotFound, IndexMismatch, IndexNotReady, InvalidParameter
from service.quality.latest import read_latest, titled, worst_first
from service.services import Services

catalog = Blueprint("catalog", __name__, url_prefix="/catalog")

PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_QUERY_WORDS = 10


def services() -> Services:
    found: Services = current_app.extensions["related"]
    return found


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        return parse_int(raw, low, high)
    except ValueError as exc:
        raise InvalidParameter(f"Parameter {name!r} {exc}") from None


def paging() -> tuple[int, int]:
    return int_arg("page", 1, 1, 10**9), int_arg("per_page", PER_PAGE, 1, MAX_PER_PAGE)


def listed(article: Article, **more: Any) -> dict[str, Any]:
    data = article.to_json()
    del data["body"]
    return {**data, **more}


@catalog.get("/articles")
def search_articles() -> Response:
    """Articles by title words or id (`q`), in a `section`, newest first, a page at a time."""
    known = {"q", "section", "page", "per_page"}
    unknown = sorted(set(request.args) - known)
    if unknown:
        raise InvalidParameter(f"Unknown parameter {unknown[0]!r}; this takes {sorted(known)}")
    query = request.args.get("q", "").strip()
    words = query.split()
    if len(words) > MAX_QUERY_WORDS:
        raise InvalidParameter(f"Parameter 'q' may hold at most {MAX_QUERY_WORDS} words")
    section = request.args.get("section")
    page, per_page = paging()
    entries, total = services().store.search(
        words, section=section, limit=per_page, offset=(page - 1) * per_page
    )
    return jsonify(
        ok=True,
        q=query,
        section=section,
        page=page,
        per_page=per_page,
        total=total,
        pages=max(1, math.ceil(total / per_page)),
        articles=[listed(e.article, curated=e.curated, pins=e.pins) for e in entries],
    )


_sections: dict[Path, tuple[int, list[tuple[str, int]]]] = {}
"""Per store: the sections counted at a store revision (counting scans the table)."""
_sections_lock = threading.Lock()


@catalog.get("/sections")
def sections() -> Response:
    store = services().store
    revision = store.revision()
    with _sections_lock:
        cached = _sections.get(store.path)
    if cached is None or cached[0] != revision:
        cached = (revision, store.sections())
        with _sections_lock:
            _sections[store.path] = cached
    return jsonify(ok=True, sections=[{"name": name, "articles": n} for name, n in cached[1]])


def ranks(article_id: str) -> tuple[dict[str, int], dict[str, Any]]:
    """Each id's place in the article's list as served, as deep as RELATED_MAX_K; and the
    index's state (its generation, or why there is no list)."""
    s = services()
    recommender = s.recommender
    try:
        result = recommender.related(article_id, options=recommender.options(k=s.settings.max_k))
    except (IndexNotReady, IndexMismatch) as exc:
        return {}, {"ready": False, "code": exc.code, "problem": exc.message}
    places = {item.article.id: place for place, item in enumerate(result.items, start=1)}
    return places, {"ready": True, "generation": result.generation.name}


@catalog.get("/articles/<path:article_id>/review")
def review(article_id: str) -> Response:
    """The article, its curated links with titles and their place in its list, and its pins
    and blocks (and the global blocks) with titles."""
    s = services()
    store = s.store
    stored = store.get(article_id)
    if stored is None:
        raise ArticleNotFound(article_id)
    k = int_arg("k", s.settings.options.k, 1, s.settings.max_k)
    curated = store.curated(article_id)
    pins, blocks, global_blocks = store.pins(article_id), store.blocks(article_id), store.blocks("")
    articles = titled(store, [t for t, _ in curated] + pins + blocks + global_blocks)
    places, index = ranks(article_id)

    def entry(target: str, **more: Any) -> dict[str, Any]:
        found = articles.get(target)
        if found is None:
            return {"id": target, "in_store": False, **more}
        return listed(found, in_store=True, **more)

    links = [
        entry(t, grade=g, rank=places.get(t), found=places.get(t, k + 1) <= k) for t, g in curated
    ]
    return jsonify(
        ok=True,
        article=stored.article.to_json(),
        k=k,
        depth=s.settings.max_k,
        default_k=s.settings.options.k,
        index=index,
        curated=links,
        found=sum(1 for link in links if link["found"]),
        pins=[entry(t) for t in pins],
        blocks=[entry(t) for t in blocks],
        global_blocks=[entry(t) for t in global_blocks],
    )


@catalog.get("/evaluation")
def latest_evaluation() -> Response:
    """The latest `related evaluate`: everything but the per-source rows, and a page of the
    sources served worst against their curated links (lowest recall first)."""
    document = read_latest(services().settings.data_dir)
    if document is None:
        return jsonify(ok=True, evaluation=None)
    page, per_page = paging()
    rows = worst_first(document.pop("sources", []))
    start = (page - 1) * per_page
    document["worst"] = {
        "page": page,
        "per_page": per_page,
        "total": len(rows),
        "pages": max(1, math.ceil(len(rows) / per_page)),
        "sources": rows[start : start + per_page],
    }
    return jsonify(ok=True, evaluation=document)
