"""A ranked answer's bytes from display texts encoded once (`service.related.display`): the
same bytes as encoding the whole answer, whatever the options, the pins, the fill, an
explanation or an article's metadata."""

from __future__ import annotations

from dataclasses import replace

import pytest

from embeddings.hashing import HashingEncoder
from service.config.settings import Settings
from service.related.display import DisplayCache, answer_bytes
from service.related.precomputed import answer_body
from service.related.recommender import RelatedResult
from service.related.variants import shaped_answer
from service.web.app import create_app
from tests.conftest import GERMAN, HEATWAVE, UNDATED

OPTION_SETS = [
    {},
    {"k": "9", "fields": "title,url"},
    {"fields": "tags,score", "include_body": "true"},
    {"explain": "true", "k": "3"},
    {"section": "Health", "fill": "section", "k": "8"},
    {"min_score": "1000", "fill": "recent"},
]


def encoded_whole(result: RelatedResult, named: str, variant: str) -> bytes:
    return answer_body(shaped_answer(result, named, variant))


@pytest.mark.parametrize("raw", OPTION_SETS)
def test_the_bytes_are_those_of_the_whole_answer_encoded(
    settings: Settings, hashing: HashingEncoder, raw: dict[str, str]
) -> None:
    client = create_app(settings, encoder=hashing).test_client()
    pins = ["2026-10-20-jazz-festival-lineup", UNDATED]
    assert client.put(f"/articles/{HEATWAVE}/pins", json={"ids": pins}).status_code == 200
    recommender = client.application.extensions["related"].recommender
    display = DisplayCache(100, 1 << 20)
    for article_id in (HEATWAVE, GERMAN, UNDATED):
        result = recommender.related(article_id, options=recommender.options(raw))
        for _ in range(2):  # encoded, then from the display texts
            body = answer_bytes(result, "0123456789abcdef", "defaults", display)
            assert body == encoded_whole(result, "0123456789abcdef", "defaults")
    assert len(display) > 0


def test_an_article_whose_metadata_holds_an_items_key_is_encoded_whole(
    settings: Settings, hashing: HashingEncoder
) -> None:
    recommender = create_app(settings, encoder=hashing).extensions["related"].recommender
    display = DisplayCache(100, 1 << 20)
    result = recommender.related(HEATWAVE, options=recommender.options({"k": "3"}))
    clashing = {"score": 99, "image": "x.png"}
    items = [replace(i, article=replace(i.article, extra=clashing)) for i in result.items]
    # The same keys with other article objects: an edit's new copy is encoded anew.
    for changed in (result, replace(result, items=items), result):
        assert answer_bytes(changed, "n", "v", display) == encoded_whole(changed, "n", "v")
