"""An answer for a smaller k or fewer fields, cut from the build's stored default answer.

The build stores every article's answer for the default options (`service.related.precomputed`).
Two requests differ from that one only in what they leave out, and are made from it without
ranking:

- a smaller `k`: ranking chooses the items one at a time in rank order, so the shorter list is
  the longer one's first items. Only its duplicate count can differ, so an answer that
  suppressed a duplicate, or cut anything by a filter, is ranked instead;
- a `fields` list (the project's own embed asks for `title,url,section,published`): each item
  keeps its id, the fields asked for and what the ranking added (`score`, `pinned`, `filled`),
  and the source article its id and the fields asked for, each in its own order, as
  `RelatedItem.to_json` and `RelatedResult.to_json` pick them. A `fields` list with `body` in it
  asks for the source's body, which no stored answer holds.

Picking from the stored item equals picking from the article only when no article's metadata
uses a key the ranking adds to an item (`ITEM_KEYS`): the build says so per generation
(`MadeFrom.projectable`), and `fields` is ranked where it does not hold.

The bytes are those the ranked path gives for the same request (tests check both, per
article, on the bundled sample).
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any

from service.config.options import RelatedOptions
from service.related.recommender import ITEM_KEYS


@lru_cache(maxsize=1024)
def derivable(options: RelatedOptions, defaults: RelatedOptions) -> bool:
    """Whether `options` are the defaults but for a smaller k and/or fewer fields (kept per
    process by the options: a page's requests come with a handful of option sets)."""
    if options == defaults or defaults.fields or options.k > defaults.k:
        return False
    if "body" in options.fields:
        return False
    return replace(options, k=defaults.k, fields=()) == defaults


def derive(
    stored: dict[str, Any], options: RelatedOptions, projectable: bool
) -> dict[str, Any] | None:
    """The answer for `options` made from the stored default answer (`stored`, its decoded
    JSON: changed in place), or None when it can't be (then the request is ranked)."""
    if options.k < stored["k"]:
        if stored.get("suppressed_duplicates") or stored.get("cut"):
            return None
        stored["related"] = stored["related"][: options.k]
        stored["k"] = options.k
    if options.fields:
        if not projectable:
            return None
        wanted = set(options.fields).difference(ITEM_KEYS)
        wanted.add("id")
        stored["article"] = {
            name: value for name, value in stored["article"].items() if name in wanted
        }
        stored["related"] = [project_item(item, wanted) for item in stored["related"]]
    return stored


def project_item(item: dict[str, Any], wanted: set[str]) -> dict[str, Any]:
    """A stored item with only the `wanted` article fields, then what the ranking added."""
    kept = {name: value for name, value in item.items() if name in wanted}
    for name in ITEM_KEYS:
        if name in item:
            kept[name] = item[name]
    return kept
