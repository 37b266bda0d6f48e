"""CORS for browsers on other origins (RELATED_CORS_ORIGINS), off by default.

With origins configured, an answer to a request whose `Origin` is allowed carries
`Access-Control-Allow-Origin` (that origin, or `*` when any is allowed) and exposes the
`ETag` and `X-Request-Id` headers; a preflight (`OPTIONS` with `Access-Control-Request-Method`)
is answered 204 with the methods and headers the API takes. Answers vary by `Origin` unless
every origin is allowed, so a shared cache never serves one origin's answer to another.
"""

from __future__ import annotations

from flask import Flask, Response, request

ALLOWED_METHODS = "GET, HEAD, POST, PUT, DELETE, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type, If-None-Match, X-Request-Id"
EXPOSED_HEADERS = "ETag, X-Request-Id"
PREFLIGHT_MAX_AGE = "600"


def allowed_origins(setting: str) -> set[str]:
    return {origin.strip().rstrip("/") for origin in setting.split(",") if origin.strip()}


def cors_headers(origins: set[str], origin: str | None, method: str) -> list[tuple[str, str]]:
    """The CORS headers of an answer to a request from `origin` (none when CORS is off): what
    the app's hook adds, and what a middleware answering alone must add too."""
    if not origins:
        return []
    any_origin = "*" in origins
    headers = [] if any_origin else [("Vary", "Origin")]
    if origin is None or not (any_origin or origin.rstrip("/") in origins):
        return headers
    headers.append(("Access-Control-Allow-Origin", "*" if any_origin else origin))
    headers.append(("Access-Control-Expose-Headers", EXPOSED_HEADERS))
    if method == "OPTIONS":
        headers.append(("Access-Control-Allow-Methods", ALLOWED_METHODS))
        headers.append(("Access-Control-Allow-Headers", ALLOWED_HEADERS))
        headers.append(("Access-Control-Max-Age", PREFLIGHT_MAX_AGE))
    return headers


def register_cors(app: Flask, setting: str) -> None:
    origins = allowed_origins(setting)
    if not origins:
        return

    @app.before_request
    def preflight() -> Response | None:
        if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
            return None
        return Response(status=204)

    @app.after_request
    def allow(response: Response) -> Response:
        for name, value in cors_headers(origins, request.headers.get("Origin"), request.method):
            if name == "Vary":
                response.vary.add(value)
            else:
                response.headers[name] = value
        return response
