"""One error family and one JSON shape for every error the service reports.

`{"ok": false, "status": 404, "code": "article_not_found", "error": "..."}`: a stable snake_case
code for programs and a sentence for people. Exceptions carry their HTTP status, so the CLI and
the API report the same failure the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


class RelatedError(Exception):
    """Base of every error this project raises on purpose."""

    status = 500
    code = "internal_error"

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


class InvalidArticles(RelatedError):
    """Input records that failed validation; `details` lists every problem found."""

    status = 400
    code = "invalid_articles"


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


class RebuildInProgress(RelatedError):
    status = 409
    code = "rebuild_in_progress"


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
        return respond(error.status, error.code, error.message, error.details)

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
        # The traceback goes to the log, never to the client.
        log.exception("unhandled error")
        return respond(500, "internal_error", "Internal server error; the details were logged")
