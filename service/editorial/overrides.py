"""Editing pins and blocks: the rules, the same for the HTTP API and the CLI.

Pins are ordered ids shown first under an article; blocks are ids never shown, under one
article or (article None) everywhere. Setting a list replaces it; ids are stripped and
de-duplicated in order, and each must name a stored article (a typo would otherwise be
accepted and silently do nothing).

Blocks win over pins: a blocked id never appears, pinned or not, so a global block (a legal
takedown, a retracted story) holds everywhere without hunting down every pin. Pinning an id
that is blocked under the same article or globally is refused, so the conflict is seen when it
is made; blocking an id that is pinned somewhere hides it there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from service.errors import ArticleNotFound, InvalidParameter, UnknownArticles
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
    if owner in cleaned:
        verb = "pinned" if kind == "pins" else "blocked"
        raise InvalidParameter(f"An article cannot be {verb} under itself ({owner!r})")
    known = store.keys_for(cleaned)
    unknown = [i for i in cleaned if i not in known]
    if unknown:
        shown = ", ".join(repr(i) for i in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise UnknownArticles(
            f"Field 'ids' names {len(unknown)} id(s) no stored article has: {shown}",
            details=unknown[:100],
        )
    if kind == "pins":
        blocked = set(store.blocks(owner)) | set(store.blocks(GLOBAL_BLOCKS))
        conflicts = [i for i in cleaned if i in blocked]
        if conflicts:
            raise InvalidParameter(
                f"Field 'ids': {conflicts[0]!r} is blocked (under this article or globally), "
                "and blocks win over pins: unblock it first"
            )
        store.set_pins(owner, cleaned)
    else:
        store.set_blocks(owner, cleaned)
    return cleaned
