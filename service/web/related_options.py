"""A related list's options as a request gives them, parsed once per process.

Pages ask for related lists with a handful of option sets (a widget's `k`, a theme's
`fields`), and parsing them, removing the visitor key and spelling the options' JSON for the
ETag and the recommendation id cost more than finding them again. `ParsedOptionsCache` keeps
those, by the raw values, for requests whose values are all text (a query string's; a JSON
body with numbers or booleans is parsed every time); an error is never kept, so a bad value
is reported exactly as before. The parsed options don't depend on anything but the raw values
and the settings, which are fixed for the process.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from service.config.options import RelatedOptions

PARSED_OPTIONS = 4096
"""Distinct raw option sets kept per process (then it starts afresh): a visitor key in them
makes them as many as readers, and each costs about a kilobyte."""


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
