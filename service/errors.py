"""One error family and one JSON shape for every error the service reports.

`{"ok": false, "status": 404, "code": "article_not_found", "error": "..."}`: a stable snake_case
code for programs and a sentence for people. Exceptions carry their HTTP status, so the CLI and
the API report the same failure the same way.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


class RelatedError(Exception):
    """Base of every error this project raises on purpose."""

    status = 500
    code = "internal_error"
    retry_after: int | None = None
    """Seconds a client should wait before trying again (sent as `Retry-After`), if any."""

    def __init__(self, message: str, *, details: list[Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ConfigError(RelatedError):
    status = 500
    code = "invalid_configuration"


class InvalidParameter(RelatedError):
    status = 400
    code = "invalid_parameter"


class InvalidJSON(RelatedError):
    """A request body (or a line of a file) that is not JSON this service accepts."""

    status = 400
    code = "invalid_json"


class UnknownArticles(RelatedError):
    """Ids given as pins or blocks that name no stored article."""

    status = 400
    code = "unknown_articles"


class PayloadTooLarge(RelatedError):
    status = 413
    code = "payload_too_large"


class InvalidArticles(RelatedError):
    """Input records that failed validation; `details` lists every problem found."""

    status = 400
    code = "invalid_articles"


class NotASource(RelatedError):
    """A source (a URL or a file) that is not what it was read as: a "feed" that is an HTML
    page, a "sitemap" that is JSON; the message names it and what it is instead."""

    status = 400
    code = "invalid_source"


class Unauthorized(RelatedError):
    status = 401
    code = "unauthorized"


class Forbidden(RelatedError):
    status = 403
    code = "forbidden"


class ArticleNotFound(RelatedError):
    status = 404
    code = "article_not_found"

    def __init__(self, article_id: str) -> None:
        super().__init__(f"Article {article_id!r} does not exist")
        self.article_id = article_id


class ExperimentNotFound(RelatedError):
    status = 404
    code = "experiment_not_found"


class ExperimentConflict(RelatedError):
    """Starting an experiment while another runs, or under a name already used."""

    status = 409
    code = "experiment_conflict"


class NoURL(RelatedError):
    """A click-through to an article without a stored http(s) URL: nothing to redirect to."""

    status = 404
    code = "no_url"


class RebuildInProgress(RelatedError):
    status = 409
    code = "rebuild_in_progress"


class NoStore(RelatedError):
    """A read of a data directory that holds no article store (a typo in --data-dir?)."""

    status = 404
    code = "no_store"


class StorageFull(RelatedError):
    """The disk under the data directory is full: nothing was written."""

    status = 507
    code = "storage_full"


DISK_FULL = "The disk under the data directory is full: nothing was written; free space and retry"


class StoreBusy(RelatedError):
    """Another write held the store for longer than a write may wait."""

    status = 503
    code = "store_busy"
    retry_after = 2


class LiveBusy(RelatedError):
    """Every slot for encoding an article that is not in the index yet is taken."""

    status = 503
    code = "live_busy"
    retry_after = 1


class IndexNotReady(RelatedError):
    status = 503
    code = "index_not_ready"

    def __init__(
        self,
        message: str = "No index has been built yet: run `related build` or POST /index/rebuild",
    ) -> None:
        super().__init__(message)


class IndexMismatch(RelatedError):
    """The index on disk was built with another model or dimension than configured."""

    status = 503
    code = "index_mismatch"


class EngineFailed(RelatedError):
    """A distributed build lost workers beyond its retries (the served generation is untouched)."""

    status = 500
    code = "build_failed"


class ReadOnlyReplica(RelatedError):
    """A write (or a draft, which needs the model) sent to a read replica."""

    status = 403
    code = "read_only_replica"


class PublishFailed(RelatedError):
    """A generation could not be published to, or fetched from, a shared location."""

    status = 502
    code = "publish_failed"


ERROR_CODES: tuple[tuple[int, str, str], ...] = (
    (400, "invalid_parameter", "a bad parameter, option or field: the message names it"),
    (
        400,
        "invalid_json",
        "the body is not JSON this service takes: malformed, nested deeper than 64, a lone "
        "surrogate, NaN or Infinity, or an integer of more than 4,300 digits",
    ),
    (
        400,
        "invalid_articles",
        "records that failed validation, with `details`: where, field, reason",
    ),
    (400, "unknown_articles", "pins or blocks that name ids no stored article has"),
    (400, "invalid_links", "a curated-links file with bad lines"),
    (400, "invalid_source", "a source that is not what it was read as (a feed that is a page)"),
    (400, "bad_request", "a request the HTTP layer could not read"),
    (401, "unauthorized", "a write without `Authorization: Bearer <token>`"),
    (403, "forbidden", "a write with a wrong token"),
    (403, "read_only_replica", "a write or a draft sent to a read replica (names the primary)"),
    (404, "article_not_found", "no stored article has this id"),
    (404, "not_found", "no such route"),
    (404, "experiment_not_found", "no experiment has this name"),
    (404, "no_url", "a click-through (`/go/...`) to an article without a stored http(s) URL"),
    (404, "no_store", "(CLI) the data directory holds no article store"),
    (405, "method_not_allowed", "the route exists, not with this method (`Allow` lists them)"),
    (409, "no_articles", "a build or rebuild of an empty store"),
    (
        409,
        "experiment_conflict",
        "an experiment start while another runs, or under a name already used",
    ),
    (409, "rebuild_in_progress", "(CLI) `related build` while another build of the directory runs"),
    (413, "payload_too_large", "a body over `RELATED_MAX_BODY_BYTES`, chunked or not"),
    (500, "internal_error", "a bug: the traceback is logged, never sent"),
    (500, "invalid_configuration", "a bad RELATED_* value (the message names it)"),
    (500, "build_failed", "a Ray build lost workers beyond its retries (nothing was published)"),
    (
        502,
        "publish_failed",
        "publishing or fetching a generation failed, or a checksum did not match",
    ),
    (503, "index_not_ready", "nothing built yet"),
    (503, "index_mismatch", "the index was built with another model or format: rebuild"),
    (503, "store_busy", "another write held the store too long; `Retry-After` says when to retry"),
    (
        503,
        "live_busy",
        "every slot for encoding an article newer than the index is taken; `Retry-After`",
    ),
    (507, "storage_full", "the disk is full: nothing was written; free space and retry"),
)
"""Every error code the service and the CLI report: (status, code, when). The errors
table (docs/http-api.md) and the OpenAPI document are checked against it."""


def error_body(
    status: int, code: str, message: str, details: list[Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "status": status, "code": code, "error": message}
    if details:
        body["details"] = details
    return body


def register_error_handlers(app: Flask) -> None:
    """Make every error the app can produce, routing 404/405 and crashes included, one JSON shape."""
    import logging

    from flask import jsonify
    from werkzeug.exceptions import HTTPException

    log = logging.getLogger("related.errors")
    http_codes = {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "payload_too_large",
        415: "unsupported_media_type",
    }

    def respond(status: int, code: str, message: str, details: list[Any] | None = None) -> Any:
        response = jsonify(error_body(status, code, message, details))
        response.status_code = status
        return response

    @app.errorhandler(RelatedError)
    def handle_related(error: RelatedError) -> Any:
        if error.status >= 500:
            log.error("%s: %s", error.code, error.message)
        response = respond(error.status, error.code, error.message, error.details)
        if error.retry_after is not None:
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(HTTPException)
    def handle_http(error: HTTPException) -> Any:
        status = error.code or 500
        message = error.description or error.name
        if status == 413:
            message = f"Request body is larger than {app.config['MAX_CONTENT_LENGTH']} bytes"
        response = respond(
            status, http_codes.get(status, error.name.lower().replace(" ", "_")), message
        )
        valid_methods = getattr(error, "valid_methods", None)  # set on MethodNotAllowed
        if status == 405 and valid_methods:
            response.headers["Allow"] = ", ".join(valid_methods)
        return response

    @app.errorhandler(Exception)
    def handle_crash(error: Exception) -> Any:
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            return handle_related(StorageFull(DISK_FULL))
        # The traceback goes to the log, never to the client.
        log.exception("unhandled error")
        return respond(500, "internal_error", "Internal server error; the details were logged")
