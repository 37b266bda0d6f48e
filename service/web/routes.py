"""HTTP only: parse and validate requests, call the recommender or the store, shape the JSON."""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from service.article import Article
from service.build.rebuild import is_pending, request_rebuild
from service.build.state import ACTIVE_STATES, read_status
from service.config.options import OPTION_NAMES, parse_options
from service.editorial.curated import read_curated, write_curated
from service.editorial.overrides import Kind, read_list, write_list
from service.errors import (
    ArticleNotFound,
    Forbidden,
    IndexMismatch,
    InvalidJSON,
    InvalidParameter,
    PayloadTooLarge,
    Unauthorized,
)
from service.ingest import json_input
from service.ingest.chrome import VIEWS, ranked_view
from service.ingest.load import ingest, ingest_one
from service.ingest.records import validate_record
from service.ingest.sync import site_summary
from service.services import Services
from service.web.prometheus import Metrics
from service.web.related_view import (
    EXTENSION,
    RELATED_RULE,
    RelatedHTTP,
    answer_json,
    prepare,
    related_response,
)

api = Blueprint("api", __name__)

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def services() -> Services:
    found: Services = current_app.extensions["related"]
    return found


def metrics() -> Metrics:
    found: Metrics = current_app.extensions["related.metrics"]
    return found


OPEN_POSTS = ("api.related_to_draft", "api.related_with_body", "events.post_events")
"""POSTs open without the token: those that only read (a draft, a long option list sent as a
body), and readers' impressions and clicks (`service.web.events`: validated and rate-limited)."""

BODY_CHUNK = 64 * 1024


@api.before_app_request
def require_token_for_writes() -> None:
    token = services().settings.api_token
    if not token or request.method not in WRITE_METHODS or request.endpoint in OPEN_POSTS:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise Unauthorized("This endpoint needs an 'Authorization: Bearer <token>' header")
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise Forbidden("The bearer token is not valid")


def json_body() -> Any:
    """The request body as JSON, read strictly (`service.ingest.json_input`): 413 past the size limit
    whether or not the client declared a length (a chunked body is counted as it arrives),
    400 `invalid_json` for anything that is not JSON this service accepts."""
    limit = services().settings.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"Request body is larger than {limit} bytes")
    stream, parts, size = request.stream, [], 0
    while chunk := stream.read(BODY_CHUNK):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"Request body is larger than {limit} bytes")
        parts.append(chunk)
    raw = b"".join(parts)
    if not raw.strip():
        raise InvalidJSON("The request body is empty; send JSON")
    try:
        return json_input.loads(raw)
    except json_input.JSONRefused as exc:
        raise InvalidJSON(f"The request body is not valid JSON: {exc}") from None


@api.get("/healthz")
def healthz() -> Response:
    return jsonify(ok=True)


@api.get("/readyz")
def readyz() -> Response:
    generation = services().recommender.generation()
    return jsonify(ok=True, generation=generation.name, articles=len(generation))


@api.get("/index")
def index_state() -> Response:
    s = services()
    body: dict[str, Any] = {
        "ok": True,
        "articles_in_store": s.store.count(),
        "rebuild": (status := read_status(s.settings.data_dir)),
        "rebuild_running": (status or {}).get("state") in ACTIVE_STATES,
        "rebuild_queued": is_pending(s.settings.data_dir),
        "curated": dict(zip(("sources", "links"), s.store.curated_counts(), strict=True)),
        "sites": site_summary(s.settings.data_dir),
    }
    try:
        generation = s.generations.get()
    except IndexMismatch as exc:
        body.update(generation=None, changed_since_build=None, problem=exc.message)
        return jsonify(body)
    if generation is None:
        body.update(generation=None, changed_since_build=None)
        return jsonify(body)
    body.update(
        generation.summary(),
        changed_since_build=s.store.changes_since(generation.manifest.store_revision),
    )
    return jsonify(body)


@api.post("/index/rebuild")
def rebuild() -> tuple[Response, int]:
    outcome = request_rebuild(services().settings, services().store)
    return jsonify(ok=True, **outcome), 202


@api.get("/articles/<path:article_id>")
def get_article(article_id: str) -> Response:
    view = request.args.get("view", "stored")
    if view not in VIEWS:
        raise InvalidParameter(f"Parameter 'view' must be one of {', '.join(VIEWS)}, got {view!r}")
    store = services().store
    stored = store.get(article_id)
    if stored is None:
        raise ArticleNotFound(article_id)
    if view == "ranked":
        generation = services().generations.get()
        chrome = generation.parts.chrome if generation is not None else None
        return jsonify(ok=True, view=view, article=ranked_view(stored.article, store, chrome))
    return jsonify(ok=True, article=stored.article.to_json())


@api.get(RELATED_RULE)
def related(article_id: str) -> Response:
    return related_response(services(), metrics(), article_id)


@api.post("/articles/<path:article_id>/related")
def related_with_body(article_id: str) -> Response:
    """The same list with its options in a JSON object: for option lists too long for a URL
    (an `exclude` of hundreds of ids). A read: it needs no token."""
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidParameter("POST /articles/<id>/related takes one JSON object of options")
    parse_options(body, services().settings, json=True)  # a body's values must be JSON-typed
    # The same identity as the GET answer: its recommendation id and the visitor's variant.
    state: RelatedHTTP = current_app.extensions[EXTENSION]
    return jsonify(answer_json(services(), prepare(services(), state, article_id, body)))


@api.post("/related")
def related_to_draft() -> Response:
    """Related articles for a draft (text that is not stored).

    `{"article": {draft fields}, ...options}`; or, in short, the draft's fields and the options
    side by side, where `section` and `lang` then mean the filters of those names.
    """
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidParameter(
            "POST /related takes one JSON object: the draft's fields and options"
        )
    if "article" in body:
        fields = body.pop("article")
        if not isinstance(fields, dict):
            raise InvalidParameter("Field 'article' must be an object with the draft's fields")
        option_values = body
    else:
        option_values = {name: body.pop(name) for name in list(body) if name in OPTION_NAMES}
        fields = body
    fields = {**fields, "id": "draft"}
    draft = validate_record(fields, "draft")
    if not isinstance(draft, Article):
        first = draft[0]
        raise InvalidParameter(
            f"Field {first.field!r} of the draft {first.reason}",
            details=[p.to_json() for p in draft],
        )
    recommender = services().recommender
    options = parse_options(option_values, services().settings, json=True)
    result = recommender.related_to_draft(draft, options)
    metrics().answered(result.source)
    return jsonify(ok=True, **result.to_json())


def id_list_body() -> list[str]:
    body = json_body()
    ids = body.get("ids") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) and i.strip() for i in ids):
        raise InvalidParameter("Send {\"ids\": [article ids]}: field 'ids' must be a list of ids")
    return ids


@api.route("/articles/<path:article_id>/<any(pins, blocks):kind>", methods=["GET", "PUT", "DELETE"])
def editorial_list(article_id: str, kind: Kind) -> Response:
    store = services().store
    if request.method == "GET":
        ids = read_list(store, kind, article_id)
    else:
        ids = write_list(store, kind, article_id, id_list_body() if request.method == "PUT" else [])
    return jsonify(ok=True, article=article_id, ids=ids)


@api.route("/articles/<path:article_id>/curated", methods=["GET", "PUT", "DELETE"])
def curated_links(article_id: str) -> Response:
    store = services().store
    if request.method == "GET":
        links = read_curated(store, article_id)
    elif request.method == "DELETE":
        links = write_curated(store, article_id, [], None)
    else:
        body = json_body()
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise InvalidParameter(
                'Send {"ids": [article ids], "grades": [numbers]?}: field \'ids\' must be a '
                "list of ids"
            )
        grades = body.get("grades")
        if grades is not None and not isinstance(grades, list):
            raise InvalidParameter("Field 'grades' must be a list of numbers, one per id")
        links = write_curated(store, article_id, ids, grades)
    return jsonify(ok=True, article=article_id, links=[{"id": t, "grade": g} for t, g in links])


@api.get("/blocks")
def get_global_blocks() -> Response:
    return jsonify(ok=True, ids=read_list(services().store, "blocks", None))


@api.put("/blocks")
def put_global_blocks() -> Response:
    return jsonify(ok=True, ids=write_list(services().store, "blocks", None, id_list_body()))


@api.delete("/blocks")
def delete_global_blocks() -> Response:
    return jsonify(ok=True, ids=write_list(services().store, "blocks", None, []))


@api.post("/articles")
def post_articles() -> tuple[Response, int]:
    body = json_body()
    records = body if isinstance(body, list) else [body]
    where = "index {}" if isinstance(body, list) else "body{}"
    report = ingest(
        services().store,
        ((where.format(i if isinstance(body, list) else ""), r) for i, r in enumerate(records)),
    )
    status = 201 if report.inserted else 200
    return jsonify(ok=True, **report.to_json()), status


@api.put("/articles/<path:article_id>")
def put_article(article_id: str) -> tuple[Response, int]:
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidParameter("PUT /articles/<id> takes one JSON object")
    if body.setdefault("id", article_id) != article_id:
        raise InvalidParameter(
            f"Field 'id' ({body['id']!r}) does not match the URL ({article_id!r})"
        )
    outcome, article = ingest_one(services().store, body)
    return jsonify(ok=True, outcome=outcome, article=article.to_json()), (
        201 if outcome == "inserted" else 200
    )


@api.delete("/articles/<path:article_id>")
def delete_article(article_id: str) -> Response:
    with services().store.write() as writer:
        if not writer.delete(article_id):
            raise ArticleNotFound(article_id)
    return jsonify(ok=True, deleted=article_id)
