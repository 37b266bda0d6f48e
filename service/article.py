"""What an article is: its fields, its stored JSON, and the texts the ranking reads of it.

Every part of the service speaks of articles through this one type; `service.ingest.records`
says what a valid record is before it becomes one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

from embeddings.signals import ItemText
from service.config.values import published_timestamp


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    body: str = ""
    url: str | None = None
    published: str | None = None
    section: str | None = None
    tags: tuple[str, ...] = ()
    lang: str | None = None
    links: tuple[str, ...] = ()
    """Ids or URLs of other articles its body links to, in text order (not its related box)."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        """Hash of everything stored about the article: an unchanged upsert is a no-op."""
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()

    @cached_property
    def published_ts(self) -> float | None:
        return published_timestamp(self.published) if self.published else None

    def to_json(self) -> dict[str, Any]:
        """The article as the API returns it: known fields first, metadata after."""
        data: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "url": self.url,
            "published": self.published,
            "section": self.section,
            "tags": list(self.tags),
            "lang": self.lang,
        }
        if self.links:
            data["links"] = list(self.links)
        data.update((k, v) for k, v in self.extra.items() if k not in data)
        return data


KNOWN_FIELDS = tuple(f.name for f in fields(Article) if f.name != "extra")
"""The fields of a record with a meaning of their own; any other field is kept as metadata."""
OMITTED_WHEN_EMPTY = ("links",)
"""Known fields an article's JSON leaves out when they are empty (so are their hashes)."""


def article_from_json(data: dict[str, Any]) -> Article:
    """Rebuild an Article from its stored JSON (already validated when it was stored)."""
    extra = {k: v for k, v in data.items() if k not in KNOWN_FIELDS}
    return Article(
        id=data["id"],
        title=data["title"],
        body=data.get("body") or "",
        url=data.get("url"),
        published=data.get("published"),
        section=data.get("section"),
        tags=tuple(data.get("tags") or ()),
        lang=data.get("lang"),
        links=tuple(data.get("links") or ()),
        extra=extra,
    )


def embedding_text(article: Article, max_chars: int) -> str:
    """The text the model encodes: the title, then the body, cut to `max_chars`.

    The title states the subject in the fewest words and the lede usually restates it, so the
    start of the article carries most of what makes two articles related; the model reads 256
    tokens at most anyway, and cutting characters first keeps tokenizing cheap on long bodies.
    """
    title = article.title.strip()
    text = (
        f"{title}.\n{article.body}"
        if title and title[-1] not in ".?!:"
        else f"{title}\n{article.body}"
    )
    return text[:max_chars].strip()


def item_text(article: Article) -> ItemText:
    """What the ranking's sparse signals read of an article: title, body and its labels, the
    tags and the section, as 'tag:...' and 'section:...'; its names (id, URL) and body links."""
    labels = [f"tag:{tag}" for tag in article.tags]
    if article.section:
        labels.append(f"section:{article.section}")
    names = (article.id, article.url) if article.url else (article.id,)
    return ItemText(article.title, article.body, tuple(labels), names, article.links)


def text_hash(text: str) -> str:
    """Key of a text in the embedding cache (together with the encoder's identity)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
