"""Parsed options kept per process (`service.web.related_options`): the same options as a
fresh parse, the visitor key apart, and never an error or a non-text value kept."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest

from service.config.options import RelatedOptions, parse_options
from service.config.settings import Settings
from service.errors import InvalidParameter
from service.web.related_options import ParsedOptionsCache, cache_key

SETTINGS = Settings()


class CountingParser:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, raw: Mapping[str, Any]) -> RelatedOptions:
        self.calls += 1
        return parse_options(raw, SETTINGS)


def test_the_same_raw_options_are_parsed_once_and_equal_a_fresh_parse() -> None:
    cache, parse = ParsedOptionsCache(), CountingParser()
    raw = {"k": "7", "section": ["Sport", "City"], "visitor": "4f9c"}
    first, again = cache.get(parse, raw), cache.get(parse, dict(raw))
    assert again == first and again.json is first.json and parse.calls == 1
    fresh = parse_options(raw, SETTINGS)
    assert first.options == replace(fresh, visitor=None) and first.visitor == "4f9c"
    assert first.json == first.options.to_json()
    # Every reader's key is another: the rest is still parsed once.
    other = cache.get(parse, {**raw, "visitor": " other "})
    assert other.visitor == "other" and other.options is first.options and parse.calls == 1
    assert cache.get(parse, {**raw, "visitor": ""}).visitor is None


def test_a_bad_visitor_key_is_reported_as_a_fresh_parse_reports_it() -> None:
    cache, parse = ParsedOptionsCache(), CountingParser()
    for raw in ({"visitor": "x" * 65}, {"visitor": "x" * 65, "k": "3"}, {"k": "0", "visitor": "v"}):
        with pytest.raises(InvalidParameter) as fresh:
            parse_options(raw, SETTINGS)
        with pytest.raises(InvalidParameter) as cached:
            cache.get(parse, raw)
        assert str(cached.value) == str(fresh.value)


def test_an_error_is_raised_every_time_and_never_kept() -> None:
    cache, parse = ParsedOptionsCache(), CountingParser()
    for _ in range(2):
        with pytest.raises(InvalidParameter, match="'k'"):
            cache.get(parse, {"k": "0"})
    assert parse.calls == 2 and len(cache) == 0


def test_only_text_values_are_kept_and_the_cache_is_bounded() -> None:
    assert cache_key({"k": 7}) is None and cache_key({"tag": ["a", 1]}) is None
    assert cache_key({"k": "7"}) != cache_key({"k": ["7"]})
    cache, parse = ParsedOptionsCache(size=2), CountingParser()
    assert cache.get(parse, {"k": 7}).options.k == 7 and len(cache) == 0
    for k in ("1", "2", "3"):
        cache.get(parse, {"k": k})
    assert len(cache) <= 2
