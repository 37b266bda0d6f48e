"""What an HTML page declares about itself: canonical URL, title, dates, section, tags.

Read from the page's own declarations, most specific first: `<link rel=canonical>` and
`og:url` for the URL; Open Graph (`og:title`, `article:published_time`, `article:section`,
`article:tag`), then JSON-LD (`headline`, `datePublished`, `articleSection`, `keywords`), then
the markup (`<h1>`, `<title>`, `<time datetime>`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import trafilatura


def text_of(element: Any) -> str:
    """An element's text, its spacing collapsed."""
    return " ".join(element.text_content().split())


def absolute(href: str, base: str | None) -> str:
    """`href` resolved against `base`, without its fragment."""
    joined = urljoin(base or "", href.strip())
    parts = urlsplit(joined)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


@dataclass(frozen=True)
class PageMeta:
    """What a page declares about itself."""

    url: str | None
    title: str | None
    published: str | None
    section: str | None
    tags: tuple[str, ...]
    lang: str | None

    @classmethod
    def read(cls, tree: Any, url: str | None) -> PageMeta:
        props = _meta_properties(tree)
        ld = _json_ld_article(tree)
        canonical = _first(
            tree.xpath("//link[translate(@rel,'CANONICAL','canonical')='canonical']/@href")
        ) or props.get("og:url")
        page_url = absolute(canonical, url) if canonical else url
        title = (
            props.get("og:title")
            or _ld_text(ld.get("headline"))
            or _first(text_of(h) for h in tree.xpath("//h1"))
            or _first(text_of(t) for t in tree.xpath("//title"))
        )
        published = (
            props.get("article:published_time")
            or _ld_text(ld.get("datePublished"))
            or _first(tree.xpath("//time/@datetime"))
        )
        section = props.get("article:section") or _ld_text(ld.get("articleSection"))
        tags = props.get_all("article:tag") or _keywords(ld.get("keywords"))
        lang = _first(tree.xpath("/html/@lang"))
        return cls(
            url=page_url,
            title=title,
            published=_iso_date(published),
            section=section,
            tags=tuple(dict.fromkeys(t for t in tags if t)),
            lang=lang.strip() if lang else None,
        )


class _Props(dict[str, str]):
    """`<meta property|name=... content=...>`: the first value of each, and all of one."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__()
        self.pairs = pairs
        for name, value in pairs:
            self.setdefault(name, value)

    def get_all(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]


def _meta_properties(tree: Any) -> _Props:
    pairs = []
    for meta in tree.xpath("//meta[@content]"):
        name = (meta.get("property") or meta.get("name") or "").strip().lower()
        content = " ".join((meta.get("content") or "").split())
        if name and content:
            pairs.append((name, content))
    return _Props(pairs)


def _json_ld_article(tree: Any) -> dict[str, Any]:
    """The first JSON-LD object that is an article (NewsArticle, BlogPosting, ...), else {}."""
    for script in tree.xpath("//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        for item in _ld_items(data):
            kind = item.get("@type")
            kinds = kind if isinstance(kind, list) else [kind]
            if any(
                isinstance(k, str) and (k.endswith("Article") or k == "BlogPosting") for k in kinds
            ):
                return item
    return {}


def _ld_items(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _ld_items(item)
    elif isinstance(data, dict):
        yield data
        yield from _ld_items(data.get("@graph", []))


def _ld_text(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None


def _keywords(value: Any) -> list[str]:
    if isinstance(value, str):
        return [k.strip() for k in value.split(",") if k.strip()]
    if isinstance(value, list):
        return [k.strip() for k in value if isinstance(k, str) and k.strip()]
    return []


def _iso_date(value: str | None) -> str | None:
    """The date as the records want it: ISO 8601 (`2018-12-15T02:58:00+03:00` or a date)."""
    if not value:
        return None
    value = value.strip()
    if re.match(r"^\d{4}-\d{2}-\d{2}", value):
        return value.replace(" ", "T", 1) if re.match(r"^\d{4}-\d{2}-\d{2} \d", value) else value
    found = trafilatura.extract_metadata(
        f"<html><head><meta name='date' content='{value}'></head></html>"
    )
    return found.date if found is not None and found.date else None


def _first(values: Iterable[str]) -> str | None:
    for value in values:
        if value and str(value).strip():
            return str(value).strip()
    return None
