"""Precomputed first answers: every article's default answer, rendered at build time.

A page view of an article no worker has answered since the last deploy or build used to be
ranked through Flask (the pool, the duplicate pass, the display fields: 0.6-0.95 ms of CPU
against the floor's 0.34). The build renders each article's answer for the default options,
exactly as a server would (`Recommender.related` over the new generation, then `answer_body`),
and stores the bytes with the generation (`service.generations.answers`). A server sends them
for a request with the default options while:

- it serves that generation (the answers are part of it);
- the store's versions are those the answers were made at: any write of an article, a pin or a
  block moves them, and every answer is ranked again until the next build, so an editorial
  change shows at once, as with the per-process answer cache;
- the settings that shape an answer (the options' defaults, k's bound, the text and candidate
  limits) are the build's, by `fingerprint`.

Beside it, each article's answer to the project's embed (`STORED_VARIANTS`: four `fields`, with
a reader's `visitor` key, which is no option), cut from the default one at build time as the
server would cut it, so the embed's page views cost a look-up too. Any other request for a
smaller k or fewer `fields` and nothing else is made from the stored default answer per request
(`service.related.projection`). Options that change the list (filters, explain, drafts, the
body, a larger k) always go the ranked path, as does every request to a read replica (its
versions are its own).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from embeddings.encoder import Encoder
from service.config.options import RelatedOptions
from service.config.settings import Settings
from service.errors import RelatedError
from service.generations.answers import AnswerWriter, MadeFrom
from service.generations.generation import CurrentGeneration, Generation
from service.related.answer_reuse import Reuse, list_depth
from service.related.article_cache import Versions
from service.related.projection import derive
from service.related.recommender import ITEM_KEYS, Recommender, RelatedResult
from service.related.variants import DEFAULT_VARIANT, recommendation_id, shaped_answer
from service.store import ArticleStore

Progress = Callable[[str, int, int], None]
PROGRESS_EVERY = 1000
ANSWER_RULES = 2
"""Bump when this code would choose or shape another answer from the same generation and
settings (2: near-duplicates judged with their titles): answers stored by older code are then
ranked until the next build instead of served."""
EMBED_FIELDS = ("title", "url", "section", "published")
"""The fields the project's embed asks for (`service/web/embed/embed.js` sends them)."""
STORED_VARIANTS: tuple[Mapping[str, str], ...] = ({}, {"fields": ",".join(EMBED_FIELDS)})
"""The requests every build stores each article's answer to, as their queries' options: the
defaults (variant 0) and the embed's request."""
STORED_SOURCES = ("index",)
"""Answers made from the generation's lists (with any pins); the rest are ranked on request."""


def answer_body(shaped: Mapping[str, Any]) -> bytes:
    """The bytes of a related answer, as the server sends them (keys in their order, compact
    separators, ASCII escapes)."""
    body = json.dumps(shaped, separators=(",", ":"), ensure_ascii=True)
    return body.encode() + b"\n"


def fingerprint(settings: Settings) -> str:
    """Stands for every setting that shapes a default answer: another value, another answer."""
    shaping = (
        ANSWER_RULES,
        settings.options,
        settings.max_k,
        settings.max_text_chars,
        settings.candidates,
        settings.weights,
        STORED_VARIANTS,
    )
    return repr(shaping)


def variant_options(recommender: Recommender) -> list[RelatedOptions]:
    """`STORED_VARIANTS` as the options a request for each parses to."""
    return [recommender.options(dict(variant)) for variant in STORED_VARIANTS]


def render_answers(
    settings: Settings,
    store: ArticleStore,
    encoder: Encoder,
    generation: Generation,
    progress: Progress,
    previous: Generation | None = None,
) -> tuple[int, int]:
    """Store every indexed article's answers in `generation`'s directory (being written);
    how many articles have them, and how many of those were carried over from `previous`
    (the generation an incremental build started from: `service.related.answer_reuse`). An
    answer that would not come from the stored list (an article written during the build is
    answered live) is left to the ranked path."""
    recommender = Recommender(settings, store, CurrentGeneration(generation.path), encoder)
    # Read before any answer is rendered: what a later write changes is then never served
    # under these versions, since the versions only move forward.
    versions = recommender.article_cache.versions()
    made = MadeFrom(versions, fingerprint(settings))
    writer = AnswerWriter(generation.path, made, len(STORED_VARIANTS), len(generation.parts.keys))
    options, *others = variant_options(recommender)
    defaults = options.to_json()
    named_options = [o.to_json() for o in (options, *others)]
    reuse = Reuse.plan(previous, generation, store, made, len(STORED_VARIANTS))
    keys = generation.parts.keys
    total = len(keys)
    made_from = (generation.name, versions)
    projectable = True
    reused = 0
    try:
        for start in range(0, total, PROGRESS_EVERY):
            chunk = [int(k) for k in keys[start : start + PROGRESS_EVERY]]
            found = recommender.article_cache.articles(chunk, versions)
            for row, key in enumerate(chunk, start):
                article = found.get(key)
                if article is None:
                    continue  # deleted since the build read it: the ranked path says so
                if reuse is not None:
                    carried = reuse.bodies(row, article.id, named_options)
                    if carried is not None:
                        writer.add(article.id, carried, row, reuse.depth(row))
                        reused += 1
                        continue
                try:
                    result = recommender.related(
                        article.id, options=options, generation=generation, versions=versions
                    )
                except RelatedError:
                    continue  # deleted since the build read it: the ranked path says so
                if result.source in STORED_SOURCES:
                    named = recommendation_id(made_from, article.id, defaults, DEFAULT_VARIANT)
                    body = answer_body(shaped_answer(result, named, DEFAULT_VARIANT))
                    clean = _projectable(result)
                    variants = [_variant(body, o, made_from, article.id, clean) for o in others]
                    pins = recommender.article_cache.editorial(article.id, versions).pins
                    depth = list_depth(result, generation.parts.neighbour_keys[row], bool(pins))
                    writer.add(article.id, [body, *variants], row, depth)
                    projectable = projectable and clean
            progress("answers", min(start + PROGRESS_EVERY, total), total)
    except BaseException:
        writer.abandon()
        raise
    return writer.finish(projectable), reused


def _projectable(result: RelatedResult) -> bool:
    """No item's metadata uses a key the ranking adds (`MadeFrom.projectable`)."""
    return all(item.article.extra.keys().isdisjoint(ITEM_KEYS) for item in result.items)


def _variant(
    body: bytes,
    options: RelatedOptions,
    made_from: tuple[Any, ...],
    article_id: str,
    projectable: bool,
) -> bytes | None:
    """A variant's answer, cut from the default answer's `body` exactly as a server cuts it
    per request (`service.web.related_view`); None where that would be ranked."""
    derived = derive(json.loads(body), options, projectable)
    if derived is None:
        return None
    derived["recommendation_id"] = recommendation_id(
        made_from, article_id, options.to_json(), DEFAULT_VARIANT
    )
    return answer_body(derived)


class PrecomputedAnswers:
    """The server's side: the stored answer for a request with the default options, if valid."""

    def __init__(self, settings: Settings) -> None:
        self.fingerprint = fingerprint(settings)
        # A read replica's versions are numbers of its own (`service.store.replica`), never the
        # primary store's the answers were made at: it ranks, as before.
        self.enabled = not settings.follow

    def body(
        self, generation: Generation, versions: Versions, article_id: str, variant: int = 0
    ) -> bytes | None:
        """The stored answer for `article_id` with the options of `variant` (an index into
        `STORED_VARIANTS`; 0 the defaults), or None: the build stored none, or it no longer
        holds (another store or editorial version, other settings)."""
        stored = generation.answers if self.enabled else None
        if stored is None:
            return None
        made_from = stored.made_from
        if made_from.versions != versions or made_from.fingerprint != self.fingerprint:
            return None
        return stored.get(article_id, variant)

    @staticmethod
    def projectable(generation: Generation) -> bool:
        """Whether answers for fewer `fields` may be picked from `generation`'s stored ones."""
        stored = generation.answers
        return stored is not None and stored.made_from.projectable
