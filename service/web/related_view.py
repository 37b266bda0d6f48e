"""`GET /articles/<id>/related` over HTTP: conditional, cached and compressed.

The order of work is what makes a page view cheap (see `service.web.caching`):

1. the store's versions (one statement) and the generation served (one `stat`);
2. this process's cached answer for the same URL, if made from those: sent as it is, or 304
   when the client's `If-None-Match` holds its ETag;
3. else the options are parsed and the ETag computed (a 304 for a matching `If-None-Match`);
4. else, with no experiment running, the answer the build stored with the generation for
   the defaults or the embed's request, if still valid (`service.related.precomputed`), or
   one cut from it for a smaller k or fewer fields (`service.related.projection`);
5. else the recommender ranks, and the encoded answer is cached for the next request.

`CachedAnswers` does steps 2 and 4 in front of Flask, for the requests it can answer alone;
the embed's query it knows by its bytes, before parsing (`service.web.stored_queries`).

Every answer names itself for impressions and clicks: `recommendation_id`, a short hash of
what it was made from (generation, store and editorial versions, article, options) and of the
variant (`service.related.variants.recommendation_id`, which the build's stored answers use
too), and `variant` (`defaults` unless an experiment runs, see
`service.quality.experiments`). The reader's `visitor` key only picks the variant: it is left
out of the options, the ETag and the cache key, so readers share cached answers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask, Response, current_app, request

from service.config.options import RelatedOptions
from service.generations.generation import Generation
from service.quality.experiments import Experiment, Experiments
from service.related.article_cache import Versions
from service.related.display import DisplayCache, answer_bytes
from service.related.precomputed import (
    STORED_VARIANTS,
    PrecomputedAnswers,
    answer_body,
    variant_options,
)
from service.related.projection import derivable, derive
from service.related.recommender import RelatedResult
from service.related.variants import (
    DEFAULT_VARIANT,
    recommendation_id,
    related_for_variant,
    shaped_answer,
)
from service.services import Services
from service.web.access_log import ROUTE_KEY
from service.web.caching import (
    Answer,
    AnswerCache,
    accepts_gzip,
    cache_control,
    etag_for,
    etag_matches,
)
from service.web.prometheus import Metrics
from service.web.related_options import (
    ParsedOptionsCache,
    answer_key,
    query_options,
    raw_options,
)
from service.web.stored_queries import StoredQueries

EXTENSION = "related.http"
RELATED_RULE = "/articles/<path:article_id>/related"
READ_KEY = "related.read"
"""(generation, versions) as `CachedAnswers` read them for this request, with no experiment
running: `prepare` reads neither again (one statement and two `stat`s, not twice that)."""
RELATED_PATH = re.compile(r"/articles/(.+)/related")
QUERY_ERRORS = "werkzeug.url_quote"
"""How werkzeug decodes a query's invalid bytes (they stay percent-encoded): `CachedAnswers`
reads a query exactly as `request.args` does."""


@dataclass(frozen=True)
class RelatedHTTP:
    """What the view keeps per app: the answer cache and the settings' fingerprint."""

    answers: AnswerCache
    fingerprint: str
    """Stands for the settings in ETags: the same URL under other defaults is another answer."""
    max_age: int
    experiments: Experiments
    precomputed: PrecomputedAnswers
    defaults: RelatedOptions
    """The options of a request that gives none: those the build's stored answers are for."""
    display: DisplayCache
    """Related articles' display fields as JSON text, encoded once (`answer_bytes`)."""
    variants: Mapping[RelatedOptions, int]
    """The options of each request the build stores answers to, and its variant's index
    (`service.related.precomputed.STORED_VARIANTS`)."""
    queries: StoredQueries
    """Their query strings, recognised before parsing (`service.web.stored_queries`)."""
    parsed: ParsedOptionsCache = field(default_factory=ParsedOptionsCache)

    @classmethod
    def for_services(cls, services: Services) -> RelatedHTTP:
        settings = services.settings
        variants = variant_options(services.recommender)
        return cls(
            AnswerCache(settings.response_cache, settings.response_cache_bytes),
            etag_for(repr(settings)),
            settings.cache_seconds,
            Experiments(settings.data_dir),
            PrecomputedAnswers(settings),
            services.recommender.options({}),
            DisplayCache(settings.article_cache, settings.article_cache_bytes),
            {o: i for i, o in enumerate(variants) if i},
            StoredQueries.of(STORED_VARIANTS, variants),
        )

    def stored_answer(
        self, article_id: str, generation_name: str, body: bytes | None, versions: Versions
    ) -> Answer | None:
        """The build's answer for the default options as an Answer (its ETag the one the
        ranked path gives), cached for the next request like a ranked one."""
        if body is None:
            return None
        made_from = (generation_name, versions)
        etag = etag_for(made_from, article_id, self.defaults.to_json(), self.fingerprint, None)
        return Answer(made_from, etag, body, "index")

    def stored_for(self, prepared: Prepared) -> Answer | None:
        """The build's stored answer for the request, as it is for the default options or
        cut to a smaller k or fewer fields (`service.related.projection`); None: it must be
        ranked."""
        if prepared.experiment is not None:
            return None
        if prepared.options == self.defaults:
            generation, versions = prepared.generation, prepared.versions
            stored = self.precomputed.body(generation, versions, prepared.article_id)
            return self.stored_answer(prepared.article_id, generation.name, stored, versions)
        if not derivable(prepared.options, self.defaults):
            return None
        variant = self.variants.get(prepared.options)
        if variant is not None:
            generation, versions = prepared.generation, prepared.versions
            body = self.precomputed.body(generation, versions, prepared.article_id, variant)
            if body is not None:
                return Answer(prepared.made_from, prepared.etag, body, "index")
        shaped = self.stored_json(prepared)
        if shaped is None:
            return None
        return Answer(prepared.made_from, prepared.etag, answer_body(shaped), "index")

    def stored_json(self, prepared: Prepared) -> dict[str, Any] | None:
        """The answer's JSON object made from the build's stored answer, for the default
        options or ones it can be cut to; None when it must be ranked."""
        options = prepared.options
        if prepared.experiment is not None:
            return None
        if options != self.defaults and not derivable(options, self.defaults):
            return None
        generation = prepared.generation
        body = self.precomputed.body(generation, prepared.versions, prepared.article_id)
        if body is None:
            return None
        shaped: dict[str, Any] = json.loads(body)
        if options == self.defaults:
            return shaped
        derived = derive(shaped, options, self.precomputed.projectable(generation))
        if derived is not None:
            derived["recommendation_id"] = prepared.recommendation_id
        return derived


@dataclass(frozen=True)
class Prepared:
    """What an answer is, known before any ranking: enough for a 304 or a cache hit."""

    article_id: str
    options: RelatedOptions
    """The request's options, without the visitor key."""
    variant: str
    experiment: Experiment | None
    etag: str
    recommendation_id: str
    generation: Generation
    versions: Versions
    made_from: tuple[Any, ...]
    key: tuple[Any, ...]
    """The answer cache's key."""


def prepare(
    services: Services, state: RelatedHTTP, article_id: str, raw: Mapping[str, Any]
) -> Prepared:
    """The answer's identity for `raw` options (the visitor key among them), without ranking."""
    recommender = services.recommender
    read: tuple[Generation, Versions] | None = request.environ.get(READ_KEY)
    experiment: Experiment | None
    if read is None:
        generation = recommender.generation()
        versions = recommender.article_cache.versions()
        experiment = state.experiments.running()
    else:  # what `CachedAnswers` read when it missed, with no experiment running then
        generation, versions = read
        generation.check_compatible(recommender.encoder.identity)
        experiment = None
    return prepared_for(
        state,
        recommender.options,
        article_id,
        raw,
        (generation, versions, experiment),
        request.query_string,
    )


def prepared_for(
    state: RelatedHTTP,
    parse: Callable[[Mapping[str, Any]], RelatedOptions],
    article_id: str,
    raw: Mapping[str, Any],
    read: tuple[Generation, Versions, Experiment | None],
    query_string: bytes,
) -> Prepared:
    """`prepare` once the generation, the versions and the experiment running are read."""
    generation, versions, experiment = read
    made_from = (generation.name, versions)
    parsed = state.parsed.get(parse, raw)
    variant = experiment.variant_for(parsed.visitor) if experiment else DEFAULT_VARIANT
    assignment = (experiment.name, variant) if experiment else None
    etag = etag_for(made_from, article_id, parsed.json, state.fingerprint, assignment)
    named = recommendation_id(made_from, article_id, parsed.json, variant)
    key = answer_key(article_id, query_string, variant if experiment else None)
    return Prepared(
        article_id,
        parsed.options,
        variant,
        experiment,
        etag,
        named,
        generation,
        versions,
        made_from,
        key,
    )


def answer_json(services: Services, prepared: Prepared) -> dict[str, Any]:
    """The answer's JSON object: the variant's list, its recommendation id and variant."""
    result = answer_result(services, prepared)
    return shaped_answer(result, prepared.recommendation_id, prepared.variant)


def answer_result(services: Services, prepared: Prepared) -> RelatedResult:
    """The variant's list. With no experiment running, the list the service serves (the
    generation's own lists)."""
    experiment = prepared.experiment
    if experiment is None:
        return services.recommender.related(
            prepared.article_id,
            options=prepared.options,
            generation=prepared.generation,
            versions=prepared.versions,
        )
    return related_for_variant(
        services.recommender,
        prepared.variant,
        prepared.article_id,
        prepared.options,
        prepared.generation,
        prepared.versions,
        experiment.profile,
    )


def related_response(services: Services, metrics: Metrics, article_id: str) -> Response:
    state: RelatedHTTP = current_app.extensions[EXTENSION]
    prepared = prepare(services, state, article_id, query_options())
    key, made_from = prepared.key, prepared.made_from
    if_none_match = request.headers.get("If-None-Match")
    answer = state.answers.get(key, made_from)
    if answer is None:
        # An answer made now is cached for the next request (and for `CachedAnswers`).
        if etag_matches(if_none_match, prepared.etag):
            return not_modified(prepared.etag, state.max_age)
        answer = state.stored_for(prepared)
        if answer is None:
            result = answer_result(services, prepared)
            named, variant = prepared.recommendation_id, prepared.variant
            body = answer_bytes(result, named, variant, state.display)
            answer = Answer(made_from, prepared.etag, body, result.source)
        state.answers.put(key, answer)
    elif etag_matches(if_none_match, answer.etag):
        return not_modified(answer.etag, state.max_age)
    metrics.answered(answer.source)
    gzip = accepts_gzip(request.headers.get("Accept-Encoding"))
    status, headers, payload = answer_parts(answer, gzip, state.max_age)
    return Response(payload, status=status, headers=headers)


def not_modified(etag: str, max_age: int) -> Response:
    return Response(status=304, headers=cache_headers(etag, max_age))


def cache_headers(etag: str, max_age: int) -> list[tuple[str, str]]:
    return [("ETag", etag), ("Cache-Control", cache_control(max_age)), ("Vary", "Accept-Encoding")]


def answer_parts(
    answer: Answer, gzip: bool, max_age: int
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body of a 200 carrying `answer`."""
    payload, gzipped = answer.encoded(gzip)
    headers = [("Content-Type", "application/json"), *cache_headers(answer.etag, max_age)]
    if gzipped:
        headers.append(("Content-Encoding", "gzip"))
    headers.append(("Content-Length", str(len(payload))))
    return 200, headers, payload


class CachedAnswers:
    """WSGI middleware: a related list this process has already made, and that is still
    current, is sent without going through Flask (routing, request context, hooks: about half
    the cost of such a request). Anything else, and every answer when CORS is on (its headers
    come from Flask's hooks), goes to the app. It reads the cache the view fills, with the same
    key and the same check, so the two can't disagree: a mismatch is only a miss."""

    def __init__(self, app: Callable[..., Any], flask_app: Flask) -> None:
        self.app = app
        self.services: Services = flask_app.extensions["related"]
        self.metrics: Metrics = flask_app.extensions["related.metrics"]
        self.state: RelatedHTTP = flask_app.extensions[EXTENSION]
        self.enabled = not self.services.settings.cors_origins.strip()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self.enabled and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            match = RELATED_PATH.fullmatch(environ.get("PATH_INFO", ""))
            answer = self.lookup(match.group(1), environ) if match else None
            if answer is not None:
                environ[ROUTE_KEY] = RELATED_RULE
                return self.send(answer, environ, start_response)
        return self.app(environ, start_response)

    def lookup(self, article_id: str, environ: dict[str, Any]) -> Answer | None:
        recommender = self.services.recommender
        if self.state.experiments.running() is not None:
            return None  # while an experiment runs, the app picks the reader's variant
        try:
            generation = recommender.generations.get()
            versions = recommender.article_cache.versions()
        except Exception:  # the app answers the error in its own shape
            return None
        if generation is None:
            return None
        environ[READ_KEY] = (generation, versions)
        query = environ.get("QUERY_STRING", "").encode("latin-1")
        key = answer_key(article_id, query, None)
        answer = self.state.answers.get(key, (generation.name, versions))
        if answer is not None:
            return answer
        state = self.state
        try:
            generation.check_compatible(recommender.encoder.identity)
            # The embed's request: its stored answer, known by the query's bytes.
            now = (generation, versions)
            answer = state.queries.answer(
                state.precomputed, state.fingerprint, article_id, query, now
            )
            if query and answer is None:
                # As Flask reads the query (`request.args`); a bad one is the app's to report.
                pairs = parse_qsl(query.decode(), keep_blank_values=True, errors=QUERY_ERRORS)
                read = (generation, versions, None)
                prepared = prepared_for(
                    state, recommender.options, article_id, raw_options(pairs), read, query
                )
                answer = state.stored_for(prepared)
        except Exception:  # the app answers the error in its own shape
            return None
        if not query:  # the defaults: nothing to parse, the ETag is the stored answer's
            stored = state.precomputed.body(generation, versions, article_id)
            answer = state.stored_answer(article_id, generation.name, stored, versions)
        if answer is not None:
            self.state.answers.put(key, answer)
        return answer

    def send(
        self, answer: Answer, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> list[bytes]:
        max_age = self.state.max_age
        if etag_matches(environ.get("HTTP_IF_NONE_MATCH"), answer.etag):
            start_response("304 NOT MODIFIED", cache_headers(answer.etag, max_age))
            return []
        self.metrics.answered(answer.source)
        gzip = accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING"))
        _, headers, payload = answer_parts(answer, gzip, max_age)
        start_response("200 OK", headers)
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [payload]
