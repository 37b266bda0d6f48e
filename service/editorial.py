"""Editing pins and blocks: the rules, the same for the HTTP API and the CLI.

Pins are ordered ids shown first under an article; blocks are ids never shown, under one
article or (article None) everywhere. Setting a list replaces it; ids are stripped and
de-duplicated in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from service.errors import ArticleNotFound, InvalidParameter
from service.store import GLOBAL_BLOCKS, ArticleStore

Kind = Literal["pins", "blocks"]


def _owner(store: ArticleStore, kind: Kind, article_id: str | None) -> str:
    if article_id is None:
        if kind == "pins":
            raise InvalidParameter("Pins belong to an article: name one")
        return GLOBAL_BLOCKS
    if store.get(article_id) is None:
        raise ArticleNotFound(article_id)
    return article_id


def read_list(store: ArticleStore, kind: Kind, article_id: str | None) -> list[str]:
    """The pins or blocks of `article_id` (None: the global block list)."""
    owner = _owner(store, kind, article_id)
    return store.pins(owner) if kind == "pins" else store.blocks(owner)


def write_list(
    store: ArticleStore, kind: Kind, article_id: str | None, ids: Sequence[str]
) -> list[str]:
    """Replace the pins or blocks of `article_id` (None: the global block list) with `ids`;
    return the list as stored."""
    owner = _owner(store, kind, article_id)
    cleaned = list(dict.fromkeys(i.strip() for i in ids if i.strip()))
    if kind == "pins" and owner in cleaned:
        raise InvalidParameter("An article cannot be pinned under itself")
    if kind == "pins":
        store.set_pins(owner, cleaned)
    else:
        store.set_blocks(owner, cleaned)
    return cleaned
