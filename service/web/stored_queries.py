"""The query strings of the build's stored variants, told apart before any parsing.

The project's embed sends the same query on every page view, `fields=` its four fields (as
`URLSearchParams` spells them, commas as `%2C`) and a reader's `visitor` key. The build stores
the answer to it (`service.related.precomputed.STORED_VARIANTS`), so in front of Flask such a
query is recognised by its bytes and answered with the stored body, without parsing the
options, like a request with no query at all. Anything else (another spelling, another
parameter, a visitor key that needs decoding or is refused) goes the usual way, which also
reports any error exactly as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from service.config.options import BY_NAME, RelatedOptions, parse_value
from service.generations.generation import Generation
from service.related.article_cache import Versions
from service.related.precomputed import PrecomputedAnswers
from service.web.caching import Answer, etag_for
from service.web.related_options import VISITOR

VISITOR_PREFIX = f"{VISITOR}=".encode()


@dataclass(frozen=True)
class StoredQueries:
    """Each stored variant's query parameter, in the spellings a client sends, to its index
    and the JSON of its options (what the ETag and recommendation id are made from)."""

    parts: Mapping[bytes, tuple[int, dict[str, Any]]]

    @classmethod
    def of(
        cls, variants: Sequence[Mapping[str, str]], options: Sequence[RelatedOptions]
    ) -> StoredQueries:
        parts: dict[bytes, tuple[int, dict[str, Any]]] = {}
        for index, (raw, parsed) in enumerate(zip(variants, options, strict=True)):
            if len(raw) != 1 or index == 0:
                continue  # the defaults have no query; one parameter a variant, or none
            ((name, value),) = raw.items()
            for safe in (",", ""):
                spelled = f"{name}={quote(value, safe=safe)}".encode()
                parts[spelled] = (index, parsed.to_json())
        return cls(parts)

    def match(self, query: bytes) -> tuple[int, dict[str, Any]] | None:
        """The stored variant `query` asks for (with at most a plain visitor key beside it),
        or None."""
        found = None
        pieces = query.split(b"&")
        if len(pieces) > 2:
            return None
        for piece in pieces:
            variant = self.parts.get(piece)
            if variant is not None and found is None:
                found = variant
            elif not (piece.startswith(VISITOR_PREFIX) and _plain_visitor(piece)):
                return None
        return found

    def answer(
        self,
        precomputed: PrecomputedAnswers,
        fingerprint: str,
        article_id: str,
        query: bytes,
        read: tuple[Generation, Versions],
    ) -> Answer | None:
        """The build's stored answer for a query recognised as a stored variant's, with the
        ETag the ranked path gives it (`fingerprint`: the settings'); None for any other."""
        found = self.match(query) if query else None
        if found is None:
            return None
        variant, named = found
        generation, versions = read
        body = precomputed.body(generation, versions, article_id, variant)
        if body is None:
            return None
        made_from = (generation.name, versions)
        etag = etag_for(made_from, article_id, named, fingerprint, None)
        return Answer(made_from, etag, body, "index")


def _plain_visitor(piece: bytes) -> bool:
    """A visitor key that needs no decoding and is one the options accept."""
    value = piece[len(VISITOR_PREFIX) :]
    if not value or b"%" in value or b"+" in value or not value.isascii():
        return False
    try:
        parse_value(BY_NAME[VISITOR], value.decode())
    except ValueError:
        return False
    return True
