"""What an article is, and the validation every record passes before it reaches the store.

Validation collects every problem of a record (not just the first) as `FieldProblem`s so that a
bad file is reported whole: which record, which field, why.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any

from embeddings.signals import ItemText
from service.ingest.json_input import problem as json_problem

KNOWN_FIELDS = ("id", "title", "body", "url", "published", "section", "tags", "lang")
MAX_ID_LENGTH = 512
SUBRESOURCES = ("related", "pins", "blocks", "curated")
"""Names under /articles/<id>/ in URLs: a path-like id may not end in one of them."""
_LANG = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True)
class FieldProblem:
    where: str
    """Where the record came from: 'line 3', 'index 0', 'row 5'."""
    field: str | None
    reason: str

    def __str__(self) -> str:
        if self.field:
            return f"{self.where}: field {self.field!r}: {self.reason}"
        return f"{self.where}: {self.reason}"

    def to_json(self) -> dict[str, Any]:
        return {"where": self.where, "field": self.field, "reason": self.reason}


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
        data.update((k, v) for k, v in self.extra.items() if k not in data)
        return data


def published_timestamp(value: str) -> float:
    """Seconds since the epoch (UTC) for a normalised `published` value; dates count as midnight."""
    parsed = _parse_published(value)
    if isinstance(parsed, datetime):
        return parsed.timestamp()
    return datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC).timestamp()


def _parse_published(value: str) -> date | datetime:
    text = value.strip()
    if len(text) == 10:
        return date.fromisoformat(text)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    # A datetime without a zone is taken as UTC so comparisons never mix naive and aware.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _type_name(value: Any) -> str:
    return {
        dict: "object",
        list: "array",
        str: "string",
        bool: "boolean",
        int: "number",
        float: "number",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _id_problem(article_id: str) -> str | None:
    """Why `article_id` can't be an id, else None. Ids are part of URLs (/articles/<id>/...), so
    a path-like id (`2024/05/title`) is fine, but not one URLs can't carry unambiguously."""
    if any(ord(c) < 32 or ord(c) == 127 for c in article_id):
        return "must not contain control characters (it is part of URLs)"
    if "/" not in article_id:
        return None
    segments = article_id.split("/")
    if "" in segments:
        return "must not start or end with '/' or contain '//'"
    if "." in segments or ".." in segments:
        return "must not have '.' or '..' between slashes (URLs would shorten the path)"
    if segments[-1] in SUBRESOURCES:
        return (
            f"must not end in '/{segments[-1]}': /articles/<id>/{segments[-1]} is the "
            "article's own sub-resource"
        )
    return None


def validate_record(
    raw: Any, where: str, *, csv_cells: bool = False
) -> Article | list[FieldProblem]:
    """Validate one input record; return the Article or every problem found.

    With `csv_cells`, values are strings from a CSV row: empty cells count as absent and `tags`
    is split on '|'.
    """
    if not isinstance(raw, dict):
        return [FieldProblem(where, None, f"expected a JSON object, got {_type_name(raw)}")]
    problems: list[FieldProblem] = []

    def problem(name: str | None, reason: str) -> None:
        problems.append(FieldProblem(where, name, reason))

    record = dict(raw)
    if csv_cells:
        record = {k: v for k, v in record.items() if v not in (None, "")}
        if isinstance(record.get("tags"), str):
            record["tags"] = [t.strip() for t in record["tags"].split("|") if t.strip()]

    def optional_string(name: str) -> str | None:
        value = record.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            problem(name, f"must be a string, got {_type_name(value)}")
            return None
        return value.strip() or None

    article_id = record.get("id")
    if article_id is None:
        problem("id", "is required")
    elif not isinstance(article_id, str):
        problem("id", f"must be a string, got {_type_name(article_id)}")
    elif not article_id.strip():
        problem("id", "must not be empty")
    elif article_id != article_id.strip():
        problem("id", "must not start or end with whitespace")
    elif len(article_id) > MAX_ID_LENGTH:
        problem("id", f"is longer than {MAX_ID_LENGTH} characters")
    else:
        id_problem = _id_problem(article_id)
        if id_problem:
            problem("id", id_problem)

    title = record.get("title")
    if title is None:
        problem("title", "is required")
    elif not isinstance(title, str):
        problem("title", f"must be a string, got {_type_name(title)}")
    elif not title.strip():
        problem("title", "must not be empty")

    body = record.get("body")
    if body is not None and not isinstance(body, str):
        problem("body", f"must be a string, got {_type_name(body)}")
        body = None
    url = optional_string("url")
    section = optional_string("section")
    lang = optional_string("lang")
    if lang is not None and not _LANG.match(lang):
        problem("lang", f"must be a language code such as 'en' or 'pt-BR', got {lang!r}")

    published = optional_string("published")
    if published is not None:
        try:
            published = _parse_published(published).isoformat()
        except ValueError:
            problem("published", f"must be an ISO 8601 date or datetime, got {published!r}")

    tags_value = record.get("tags")
    tags: list[str] = []
    if tags_value is not None:
        if not isinstance(tags_value, list):
            problem("tags", f"must be a list of strings, got {_type_name(tags_value)}")
        else:
            for i, tag in enumerate(tags_value):
                if not isinstance(tag, str):
                    problem("tags", f"item {i} must be a string, got {_type_name(tag)}")
                elif tag.strip() and tag.strip() not in tags:
                    tags.append(tag.strip())

    if not problems:
        refused = json_problem(record)
        if refused is not None:
            problem(None, refused)
    if problems:
        return problems
    assert isinstance(article_id, str) and isinstance(title, str)
    extra = {k: v for k, v in record.items() if k not in KNOWN_FIELDS}
    return Article(
        id=article_id,
        title=title.strip(),
        body=(body or "").strip(),
        url=url,
        published=published,
        section=section,
        tags=tuple(tags),
        lang=lang,
        extra=extra,
    )


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
    tags and the section, as 'tag:...' and 'section:...'."""
    labels = [f"tag:{tag}" for tag in article.tags]
    if article.section:
        labels.append(f"section:{article.section}")
    return ItemText(article.title, article.body, tuple(labels))


def text_hash(text: str) -> str:
    """Key of a text in the embedding cache (together with the encoder's identity)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
