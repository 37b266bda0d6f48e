"""`GET /articles/<id>/related` over HTTP: conditional, cached and compressed.

The order of work is what makes a page view cheap (see `service.http_cache`):

1. the store's versions (one statement) and the generation served (one `stat`);
2. this process's cached answer for the same URL, if made from those: sent as it is, or 304
   when the client's `If-None-Match` holds its ETag;
3. else the options are parsed and the ETag computed: a matching `If-None-Match` is a 304
   without ranking anything;
4. else the recommender ranks, and the encoded answer is cached for the next request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response, current_app, request

from service.http_cache import (
    Answer,
    AnswerCache,
    accepts_gzip,
    cache_control,
    etag_for,
    etag_matches,
)
from service.metrics import Metrics
from service.options import LIST_OPTIONS
from service.services import Services

EXTENSION = "related.http"


@dataclass(frozen=True)
class RelatedHTTP:
    """What the view keeps per app: the answer cache and the settings' fingerprint."""

    answers: AnswerCache
    fingerprint: str
    """Stands for the settings in ETags: the same URL under other defaults is another answer."""
    max_age: int

    @classmethod
    def for_services(cls, services: Services) -> RelatedHTTP:
        settings = services.settings
        return cls(
            AnswerCache(settings.response_cache), etag_for(repr(settings)), settings.cache_seconds
        )


def query_options() -> dict[str, Any]:
    """Query-string options as raw values: repeated list options are merged."""
    raw: dict[str, Any] = {}
    for name in request.args:
        values = request.args.getlist(name)
        raw[name] = values if name in LIST_OPTIONS else values[-1]
    return raw


def related_response(services: Services, metrics: Metrics, article_id: str) -> Response:
    state: RelatedHTTP = current_app.extensions[EXTENSION]
    recommender = services.recommender
    versions = recommender.catalog.versions()
    generation = recommender.generation()
    made_from = (generation.name, versions)
    key = (article_id, request.query_string)
    if_none_match = request.headers.get("If-None-Match")
    answer = state.answers.get(key, made_from)
    if answer is None:
        options = recommender.options(query_options())
        etag = etag_for(made_from, article_id, options.to_json(), state.fingerprint)
        if etag_matches(if_none_match, etag):
            return not_modified(etag, state.max_age)
        result = recommender.related(
            article_id, options=options, generation=generation, versions=versions
        )
        body = current_app.json.dumps({"ok": True, **result.to_json()}, separators=(",", ":"))
        answer = Answer(made_from, etag, body.encode() + b"\n", result.source)
        state.answers.put(key, answer)
    elif etag_matches(if_none_match, answer.etag):
        return not_modified(answer.etag, state.max_age)
    metrics.answered(answer.source)
    payload, gzipped = answer.encoded(accepts_gzip(request.headers.get("Accept-Encoding")))
    response = Response(payload, mimetype="application/json")
    response.headers["ETag"] = answer.etag
    response.headers["Cache-Control"] = cache_control(state.max_age)
    response.headers["Vary"] = "Accept-Encoding"
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    return response


def not_modified(etag: str, max_age: int) -> Response:
    response = Response(status=304)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = cache_control(max_age)
    response.headers["Vary"] = "Accept-Encoding"
    return response
