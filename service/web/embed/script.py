"""`GET /embed.js`: the one dependency-free script a page loads to show its related list.

The file ships in this package (`embed.js`) and is read once per process; it goes out with a
strong ETag of its bytes (a 304 for a browser that has it), gzipped to clients that accept it,
and with the related lists' `Cache-Control` (RELATED_CACHE_SECONDS). A `<script src>` needs no
CORS; the requests the script makes go through the CORS setting like any other.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, current_app, request

from service.services import Services
from service.web.caching import Answer, accepts_gzip, cache_control, etag_matches

SCRIPT = Path(__file__).with_name("embed.js")
CONTENT_TYPE = "text/javascript; charset=utf-8"

script = Blueprint("embed", __name__)


@lru_cache(maxsize=1)
def script_answer() -> Answer:
    body = SCRIPT.read_bytes()
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    return Answer((), etag, body, "embed")


@script.get("/embed.js")
def embed_js() -> Response:
    services: Services = current_app.extensions["related"]
    answer = script_answer()
    headers = {
        "ETag": answer.etag,
        "Cache-Control": cache_control(services.settings.cache_seconds),
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if etag_matches(request.headers.get("If-None-Match"), answer.etag):
        return Response(status=304, headers=headers)
    payload, gzipped = answer.encoded(accepts_gzip(request.headers.get("Accept-Encoding")))
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    return Response(payload, headers=headers, content_type=CONTENT_TYPE)
