"""A ranked answer's bytes, with each related article's display fields serialised once.

`answer_body(shaped_answer(result, ...))` builds every item's dict from its article (all of
its fields, the body dropped, the asked `fields` picked) and encodes them all, on every
request: about a third of a ranked answer's CPU, while an article's display fields only
change when the article does. `DisplayCache` keeps each article's display fields as the JSON
text an answer spells them in, by store key and `fields`, for as long as the article object is
the one the article cache holds (a write replaces that object: the next answer spells the new
one); `answer_bytes` joins those texts with each item's own score and marks, and encodes the
rest of the answer as before. The bytes are exactly `answer_body`'s, which is the definition:
an article whose metadata holds a key an item adds itself (`score`, `pinned`, ...) is encoded
whole, as it always was.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from service.article import Article
from service.related.recommender import ITEM_KEYS, RelatedItem, RelatedResult, pick
from service.related.sized import SizedLRU

DISPLAY_SHARE = 4
"""The display texts may hold a quarter of RELATED_ARTICLE_CACHE_BYTES: without the body, an
article's JSON text is well under its cached object's estimated size."""

_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True).encode
"""As `service.related.precomputed.answer_body` encodes (compact, ASCII escapes)."""


def display_fields(article: Article, fields: tuple[str, ...]) -> dict[str, Any]:
    """The article as a related item shows it, before its score: no body, `fields` picked."""
    data = article.to_json()
    del data["body"]
    return pick(data, fields) if fields else data


class DisplayCache:
    """Display texts by (store key, fields), least recently used out first. Threads share it:
    a lost update only encodes again."""

    def __init__(self, size: int, max_bytes: int) -> None:
        self._texts: SizedLRU[tuple[int, tuple[str, ...]], tuple[Article, str | None]] = SizedLRU(
            size, max_bytes // DISPLAY_SHARE
        )

    def text(self, key: int, article: Article, fields: tuple[str, ...]) -> str | None:
        """`article`'s display fields as JSON; None when they hold a key an item adds."""
        found = self._texts.peek((key, fields))
        if found is not None and found[0] is article:
            return found[1]
        data = display_fields(article, fields)
        text = None if not data.keys().isdisjoint(ITEM_KEYS) else _encode(data)
        self._texts.put((key, fields), (article, text), sys.getsizeof(text) + 64)
        return text

    def __len__(self) -> int:
        return len(self._texts)


def number(value: float) -> str:
    """A float as JSON spells it: its shortest repr when finite (`float.__repr__`, also for
    numpy's floats), else `json`'s own NaN and Infinity."""
    return float.__repr__(value) if math.isfinite(value) else _encode(value)


def item_text(item: RelatedItem, fields: tuple[str, ...], display: DisplayCache) -> str:
    """`item.to_json(fields)` encoded."""
    text = display.text(item.key, item.article, fields) if item.key is not None else None
    if text is None:
        return _encode(item.to_json(fields))
    score = "null" if item.score is None else number(round(item.score, 6))
    parts = [text[:-1], ',"score":', score]
    if item.pinned:
        parts.append(',"pinned":true')
    if item.filled:
        parts.append(',"filled":true')
    if item.explanation is not None:
        parts += [',"explanation":', _encode(item.explanation)]
    parts.append("}")
    return "".join(parts)


def answer_bytes(result: RelatedResult, named: str, variant: str, display: DisplayCache) -> bytes:
    """`answer_body(shaped_answer(result, named, variant))`, with the items' display fields
    from `display`."""
    fields = result.options.fields
    head = result.to_json(items=False)
    article = _encode(head.pop("article"))
    del head["related"]
    items = ",".join(item_text(item, fields, display) for item in result.items)
    rest = _encode({**head, "recommendation_id": named, "variant": variant})
    return f'{{"ok":true,"article":{article},"related":[{items}],{rest[1:]}\n'.encode()
