"""A related list's options as a request gives them (`query_options`), parsed once per
process, and the answer cache's key for them (`answer_key`).

Pages ask for related lists with a handful of option sets (a widget's `k`, a theme's
`fields`), and parsing them, removing the visitor key and spelling the options' JSON for the
ETag and the recommendation id cost more than finding them again. `ParsedOptionsCache` keeps
those, by the raw values, for requests whose values are all text (a query string's; a JSON
body with numbers or booleans is parsed every time); an error is never kept, so a bad value
is reported exactly as before. The parsed options don't depend on anything but the raw values
and the settings, which are fixed for the process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from flask import request

from service.config.options import BY_NAME, LIST_OPTIONS, RelatedOptions, parse_value
from service.errors import InvalidParameter

VISITOR = "visitor"
"""The option that only picks an experiment's variant (`RelatedOptions.visitor`)."""
PARSED_OPTIONS = 4096
"""Distinct raw option sets kept per process (then it starts afresh), each about a kilobyte;
kept without the visitor key, which is as many as readers."""


@dataclass(frozen=True)
class ParsedOptions:
    options: RelatedOptions
    """Without the visitor key."""
    visitor: str | None
    json: dict[str, Any]
    """`options.to_json()`, shared by every request that gives the same: never changed."""


class ParsedOptionsCache:
    def __init__(self, size: int = PARSED_OPTIONS) -> None:
        self.size = size
        self._parsed: dict[tuple[Any, ...], ParsedOptions] = {}

    def get(
        self, parse: Callable[[Mapping[str, Any]], RelatedOptions], raw: Mapping[str, Any]
    ) -> ParsedOptions:
        """`raw` options as `parse` reads them (the recommender's `options`: InvalidParameter
        for a bad one), from the cache if they were before. Threads share it: a lost update
        only parses again."""
        given = raw.get(VISITOR)
        if isinstance(given, str):
            # Every reader's key is another: the rest of the options are kept without it.
            rest = self.get(parse, {name: v for name, v in raw.items() if name != VISITOR})
            try:
                visitor = parse_value(BY_NAME[VISITOR], given)
            except ValueError as exc:
                parse(raw)  # the error, exactly as the whole request reports it
                raise InvalidParameter(f"Parameter {VISITOR!r} {exc}") from None
            return ParsedOptions(rest.options, visitor, rest.json)
        key = cache_key(raw)
        found = self._parsed.get(key) if key is not None else None
        if found is None:
            options = parse(raw)
            visitor = options.visitor
            if visitor is not None:
                options = replace(options, visitor=None)
            found = ParsedOptions(options, visitor, options.to_json())
            if key is not None:
                if len(self._parsed) >= self.size:
                    self._parsed.clear()
                self._parsed[key] = found
        return found

    def __len__(self) -> int:
        return len(self._parsed)


def cache_key(raw: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """`raw` as a key when every value is a string or a list of strings; else None."""
    key: list[tuple[str, Any]] = []
    for name, value in raw.items():
        if isinstance(value, list):
            if not all(isinstance(item, str) for item in value):
                return None
            key.append((name, tuple(value)))
        elif isinstance(value, str):
            key.append((name, value))
        else:
            return None
    return tuple(key)


def query_options() -> dict[str, Any]:
    """Query-string options as raw values (`raw_options`)."""
    return raw_options(request.args.items(multi=True))


def raw_options(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """A query's (name, value) pairs as raw options, in the order names first come: repeated
    list options are merged; any other option given twice is an error (which one was meant?)."""
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        values.setdefault(name, []).append(value)
    raw: dict[str, Any] = {}
    for name, given in values.items():
        if len(given) > 1 and name not in LIST_OPTIONS:
            raise InvalidParameter(f"Parameter {name!r} is given {len(given)} times; give it once")
        raw[name] = given if name in LIST_OPTIONS else given[-1]
    return raw


def answer_key(article_id: str, query_string: bytes, variant: str | None) -> tuple[Any, ...]:
    """The answer cache's key: the query without `visitor` (which only picks the variant), and
    the variant while an experiment runs (None otherwise)."""
    if b"visitor" in query_string:
        kept = [p for p in query_string.split(b"&") if p.split(b"=", 1)[0] != b"visitor"]
        query_string = b"&".join(kept)
    return (article_id, query_string, variant)
