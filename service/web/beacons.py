"""WSGI middleware: a well-formed `POST /events` batch is taken without going through Flask.

A page view sends one beacon beside its related read, and the read is usually answered by
`service.web.related_view.CachedAnswers` in front of Flask: a beacon through Flask's routing,
request context and hooks would cost more than the read it reports. This takes the batches it
can answer alone (a declared length within the limit, valid events) with the same parser and
the same `record` as the route (`service.web.events`), and adds the CORS headers the app's hook
would (`service.web.cors`). Anything else, an error above all, is handed to the app untouched
(its body put back), which answers it in the one error shape. Off on a read replica, where the
app refuses writes.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

from flask import Flask

from service.errors import RelatedError
from service.web.access_log import ROUTE_KEY
from service.web.cors import allowed_origins, cors_headers
from service.web.events import MAX_BODY_BYTES, measurement_of, parse_batch, record

PATH = "/events"


class Beacons:
    def __init__(self, app: Callable[..., Any], flask_app: Flask) -> None:
        self.app = app
        self.flask_app = flask_app
        settings = flask_app.extensions["related"].settings
        self.origins = allowed_origins(settings.cors_origins)
        self.enabled = not settings.follow

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if (
            not self.enabled
            or environ.get("PATH_INFO") != PATH
            or environ.get("REQUEST_METHOD") != "POST"
        ):
            return self.app(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            length = -1
        if not 0 < length <= MAX_BODY_BYTES:  # chunked, empty or too large: the app says so
            return self.app(environ, start_response)
        raw = environ["wsgi.input"].read(length)
        try:
            parsed = parse_batch(raw)
        except RelatedError:
            environ["wsgi.input"] = io.BytesIO(raw)
            return self.app(environ, start_response)
        address = environ.get("REMOTE_ADDR") or ""
        state = measurement_of(self.flask_app)
        accepted, dropped = record(state, parsed, address, environ.get("HTTP_USER_AGENT"))
        environ[ROUTE_KEY] = PATH
        body = (
            json.dumps(
                {"ok": True, "accepted": accepted, "dropped": dropped}, separators=(",", ":")
            ).encode()
            + b"\n"
        )
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        headers += cors_headers(self.origins, environ.get("HTTP_ORIGIN"), "POST")
        start_response("202 ACCEPTED", headers)
        return [body]
