"""What a valid record is: the rules every field passes before a record becomes an `Article`.

The fields are a table (`FIELDS`): each names its rule, which returns the field's clean value
and every reason it is wrong. Validation collects every problem of a record (not just the first)
as `FieldProblem`s, so that a bad file is reported whole: which record, which field, why.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from service.article import KNOWN_FIELDS, Article
from service.config.values import parse_published
from service.ingest.json_input import problem as json_problem

MAX_ID_LENGTH = 512
SUBRESOURCES = ("related", "related.html", "pins", "blocks", "curated")
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


Checked = tuple[Any, list[str]]
"""A rule's answer: the field's clean value (None: absent) and the reasons it is wrong."""


@dataclass(frozen=True)
class FieldRule:
    name: str
    check: Callable[[Any], Checked]
    """Called with the field's value when the record has one (not None)."""
    required: bool = False


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


def _not_a(kind: str, value: Any) -> Checked:
    return None, [f"must be {kind}, got {_type_name(value)}"]


def _string(value: Any) -> Checked:
    """An optional string: stripped, and absent when empty."""
    if not isinstance(value, str):
        return _not_a("a string", value)
    return value.strip() or None, []


def _id_problem(article_id: str) -> str | None:
    """Why `article_id` can't be an id, else None. Ids are part of URLs (/articles/<id>/...), so
    a path-like id (`2024/05/title`) is fine, but not one URLs can't carry unambiguously."""
    if not article_id.strip():
        return "must not be empty"
    if article_id != article_id.strip():
        return "must not start or end with whitespace"
    if len(article_id) > MAX_ID_LENGTH:
        return f"is longer than {MAX_ID_LENGTH} characters"
    if any(ord(c) < 32 or ord(c) == 127 for c in article_id):
        return "must not contain control characters (it is part of URLs)"
    segments = article_id.split("/")
    if "." in segments or ".." in segments:
        # Browsers and proxies resolve a `.`/`..` segment before sending (/articles/.. is
        # /), so such an id, alone or between slashes, could never be linked to.
        return "must not be '.' or '..' or have such a segment (URLs would shorten the path)"
    if len(segments) == 1:
        return None
    if "" in segments:
        return "must not start or end with '/' or contain '//'"
    if segments[-1] in SUBRESOURCES:
        return (
            f"must not end in '/{segments[-1]}': /articles/<id>/{segments[-1]} is the "
            "article's own sub-resource"
        )
    return None


def _id(value: Any) -> Checked:
    if not isinstance(value, str):
        return _not_a("a string", value)
    reason = _id_problem(value)
    return (None, [reason]) if reason else (value, [])


def _title(value: Any) -> Checked:
    if not isinstance(value, str):
        return _not_a("a string", value)
    return (value.strip(), []) if value.strip() else (None, ["must not be empty"])


def _body(value: Any) -> Checked:
    return (value.strip(), []) if isinstance(value, str) else _not_a("a string", value)


def _lang(value: Any) -> Checked:
    lang, reasons = _string(value)
    if lang is not None and not _LANG.match(lang):
        return None, [f"must be a language code such as 'en' or 'pt-BR', got {lang!r}"]
    return lang, reasons


def _published(value: Any) -> Checked:
    published, reasons = _string(value)
    if published is None:
        return None, reasons
    try:
        return parse_published(published).isoformat(), []
    except ValueError:
        return None, [f"must be an ISO 8601 date or datetime, got {published!r}"]


def _tags(value: Any) -> Checked:
    if not isinstance(value, list):
        return _not_a("a list of strings", value)
    tags: list[str] = []
    reasons: list[str] = []
    for i, tag in enumerate(value):
        if not isinstance(tag, str):
            reasons.append(f"item {i} must be a string, got {_type_name(tag)}")
        elif tag.strip() and tag.strip() not in tags:
            tags.append(tag.strip())
    return tuple(tags), reasons


MAX_LINKS = 1000


def _links(value: Any) -> Checked:
    if not isinstance(value, list):
        return _not_a("a list of strings (ids or URLs)", value)
    if len(value) > MAX_LINKS:
        return None, [f"has {len(value)} items; at most {MAX_LINKS}"]
    links: list[str] = []
    reasons: list[str] = []
    for i, link in enumerate(value):
        if not isinstance(link, str):
            reasons.append(f"item {i} must be a string, got {_type_name(link)}")
        elif link.strip() and link.strip() not in links:
            links.append(link.strip())
    return tuple(links), reasons


FIELDS = (
    FieldRule("id", _id, required=True),
    FieldRule("title", _title, required=True),
    FieldRule("body", _body),
    FieldRule("url", _string),
    FieldRule("section", _string),
    FieldRule("lang", _lang),
    FieldRule("published", _published),
    FieldRule("tags", _tags),
    FieldRule("links", _links),
)
"""Every field with a meaning of its own, in the order their problems are reported."""
LIST_FIELDS = ("tags", "links")
"""Fields whose value is a list of strings (one '|'-separated cell in CSV)."""
assert {rule.name for rule in FIELDS} == set(KNOWN_FIELDS)


def csv_record(row: dict[str, Any]) -> dict[str, Any]:
    """A CSV row as a record: empty cells are absent, and each list field (`tags`, `links`) is
    one cell split on '|'."""
    record = {k: v for k, v in row.items() if v not in (None, "")}
    for name in LIST_FIELDS:
        if isinstance(record.get(name), str):
            record[name] = [item.strip() for item in record[name].split("|") if item.strip()]
    return record


def validate_record(
    raw: Any, where: str, *, csv_cells: bool = False
) -> Article | list[FieldProblem]:
    """Validate one input record; return the Article or every problem found.

    With `csv_cells`, values are strings from a CSV row (see `csv_record`).
    """
    if not isinstance(raw, dict):
        return [FieldProblem(where, None, f"expected a JSON object, got {_type_name(raw)}")]
    record = csv_record(raw) if csv_cells else dict(raw)
    values: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    for rule in FIELDS:
        value = record.get(rule.name)
        if value is None:
            if rule.required:
                problems.append(FieldProblem(where, rule.name, "is required"))
            continue
        values[rule.name], reasons = rule.check(value)
        problems.extend(FieldProblem(where, rule.name, reason) for reason in reasons)
    if not problems:
        refused = json_problem(record)
        if refused is not None:
            problems.append(FieldProblem(where, None, refused))
    if problems:
        return problems
    extra = {k: v for k, v in record.items() if k not in KNOWN_FIELDS}
    return Article(**{k: v for k, v in values.items() if v is not None}, extra=extra)
