"""Answers an incremental build carries over from the previous build instead of rendering them.

An article's stored answer is what the ranking makes of its stored list, the articles in it and
the editorial state. When none of those moved between two builds, the new answer differs from
the previous one only in its address: the generation's name and time (`index`) and the
`recommendation_id` made from them. At 100k articles rendering every answer again was four
fifths of an incremental build; carrying them over is a comparison of two arrays and, per
article, two byte replacements.

An article's answers (every variant) are carried over when all of these hold, and rendered
anew otherwise:

- the build is incremental (a full build refits what the lists and duplicate pairs come from);
- the previous answers were made under the same settings (`fingerprint`), with the same
  variants, at the editorial revision the new ones are made at (a pin or a block anywhere
  renders every answer), and no item of theirs needed ranking for fewer fields (`projectable`);
- its stored list is the same as far as the answer read it (`list_depth`): the same keys with
  the same scores, in order, up to the last item it shows when it shows a full list (ranking
  chooses in list order and stops there), the whole list otherwise;
- neither it nor any article of that part of its list was written or deleted since the
  previous answers' store revision (their text, display fields and titles, which the
  near-duplicate check reads, are those the previous answers show; pairs between unwritten rows
  are carried unchanged; an article deleted while the build ran is still in the lists);
- it depends on nothing but its list (`list_depth` is 0 otherwise): the default options
  neither reorder the pool (recency, diversity: those read below the last item) nor fill a
  short list (the newest articles of the store or section), and the article has no pins (a
  pinned article is not in the list, so its own changes are not followed);
- each body holds its old address exactly once, so the replacement can't touch anything else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from service.generations.answers import MadeFrom, StoredAnswers
from service.generations.generation import Generation
from service.related.recommender import RelatedResult
from service.related.variants import DEFAULT_VARIANT, recommendation_id
from service.store import ArticleStore

CHUNK = 65_536
"""Rows compared at once: (rows x neighbours) arrays of the two generations, bounded."""


def list_depth(result: RelatedResult, listed: npt.ArrayLike, pinned: bool) -> int:
    """How many entries of the article's stored list (`listed`: its keys, -1 pads) its
    answer depends on: up to its last item when it shows k items, all of them when it shows
    fewer (the whole list was read); 0 when it depends on more than the list: the article has
    pins (`pinned`), the options reorder the pool or fill a short list, or it shows an article
    from elsewhere."""
    options = result.options
    if pinned or options.reorders or options.fill != "none":
        return 0
    keys = np.asarray(listed)
    where = {int(key): i for i, key in enumerate(keys.tolist()) if key >= 0}
    found = [where.get(-1 if item.key is None else item.key) for item in result.items]
    if any(i is None for i in found):
        return 0
    if len(found) < result.k:
        return len(keys)
    return max(i for i in found if i is not None) + 1


def index_bytes(generation: Generation) -> bytes:
    """The `index` member of `generation`'s answers, as `answer_body` encodes it."""
    member = {"generation": generation.name, "built_at": generation.manifest.built_at}
    return b'"index":' + json.dumps(member, separators=(",", ":"), ensure_ascii=True).encode()


@dataclass(frozen=True)
class Reuse:
    """The previous build's answers that hold for the new generation, by its rows."""

    stored: StoredAnswers
    reusable: npt.NDArray[np.bool_]
    depths: npt.NDArray[np.int32]
    """Per new row, the depth its carried answers depend on (`list_depth`)."""
    old_index: bytes
    new_index: bytes
    old_made: tuple[Any, ...]
    new_made: tuple[Any, ...]

    @classmethod
    def plan(
        cls,
        previous: Generation | None,
        generation: Generation,
        store: ArticleStore,
        made: MadeFrom,
        variants: int,
    ) -> Reuse | None:
        """What `generation` (being written, its answers made as `made` says) can carry over
        from `previous`; None when nothing can."""
        stored = previous.answers if previous is not None else None
        if previous is None or stored is None:
            return None
        before = stored.made_from
        if (
            before.fingerprint != made.fingerprint
            or before.versions[1] != made.versions[1]
            or not before.projectable
            or stored.variants != variants
        ):
            return None
        moved = store.changed_keys(before.versions[0]) | store.deleted_keys(before.versions[0])
        written = np.fromiter(moved, dtype=np.int64)
        reusable, depths = _same_lists(previous, generation, stored.depths, written)
        if not reusable.any():
            return None
        return cls(
            stored,
            reusable,
            depths,
            index_bytes(previous),
            index_bytes(generation),
            (previous.name, before.versions),
            (generation.name, made.versions),
        )

    def depth(self, row: int) -> int:
        return int(self.depths[row])

    def bodies(
        self, row: int, article_id: str, options: Sequence[Mapping[str, Any]]
    ) -> list[bytes | None] | None:
        """The article's answers for each variant (`options`: their JSON), readdressed from
        the previous build's; None when they must be rendered."""
        if not self.reusable[row]:
            return None
        found: list[bytes | None] = []
        for variant, named in enumerate(options):
            body = self.stored.get(article_id, variant)
            if body is None:
                if variant == 0:
                    return None
                found.append(None)  # the cut was refused then, for reasons that still hold
                continue
            moved = self._readdressed(body, article_id, named)
            if moved is None:
                return None
            found.append(moved)
        return found

    def _readdressed(
        self, body: bytes, article_id: str, options: Mapping[str, Any]
    ) -> bytes | None:
        old = b'"recommendation_id":"%s"' % _id(self.old_made, article_id, options)
        new = b'"recommendation_id":"%s"' % _id(self.new_made, article_id, options)
        if body.count(self.old_index) != 1 or body.count(old) != 1:
            return None
        return body.replace(self.old_index, self.new_index).replace(old, new)


def _id(made_from: tuple[Any, ...], article_id: str, options: Mapping[str, Any]) -> bytes:
    return recommendation_id(made_from, article_id, options, DEFAULT_VARIANT).encode()


def _same_lists(
    previous: Generation,
    generation: Generation,
    old_depths: npt.NDArray[np.int32],
    written: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int32]]:
    """Per row of `generation`: whether the article was in `previous` with the same list (keys
    and scores) as deep as its answer read it, neither it nor any article of that part being
    in `written`; and that depth."""
    keys = np.asarray(generation.parts.keys)
    old_keys = np.asarray(previous.parts.keys)
    lists, scores = generation.parts.neighbour_keys, generation.parts.neighbour_scores
    old_lists, old_scores = previous.parts.neighbour_keys, previous.parts.neighbour_scores
    result = np.zeros(len(keys), dtype=bool)
    depths = np.zeros(len(keys), dtype=np.int32)
    width = lists.shape[1]
    if len(old_keys) == 0 or width != old_lists.shape[1] or len(old_depths) != len(old_keys):
        return result, depths
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        at = np.minimum(np.searchsorted(old_keys, chunk), len(old_keys) - 1)
        depth = np.asarray(old_depths)[at]
        read = np.arange(width) < depth[:, None]  # the entries each answer depends on
        listed = np.asarray(lists[start : start + CHUNK])
        same_keys = (listed == np.asarray(old_lists)[at]) | ~read
        same_scores = (
            np.asarray(scores[start : start + CHUNK]) == np.asarray(old_scores)[at]
        ) | ~read
        same = (
            (old_keys[at] == chunk) & (depth > 0) & same_keys.all(axis=1) & same_scores.all(axis=1)
        )
        if len(written):
            same &= ~np.isin(chunk, written) & ~(np.isin(listed, written) & read).any(axis=1)
        result[start : start + CHUNK] = same
        depths[start : start + CHUNK] = np.where(same, depth, 0)
    return result, depths
