"""The WSGI environ (PEP 3333) of a complete request read by `service.web.connection`."""

from __future__ import annotations

import asyncio
import io
import sys
import time
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

import h11

TRUSTED_PROXIES = ("127.0.0.1", "::1")
"""Peers whose X-Forwarded-Proto is believed (a proxy on the same machine)."""


def wsgi_environ(
    request: h11.Request, body: bytes, transport: asyncio.BaseTransport, multiprocess: bool
) -> dict[str, Any]:
    """The environ of `request`, its whole (de-chunked) `body` in memory. PATH_INFO is the
    percent-decoded bytes as latin-1 text, as PEP 3333 has it (`service.web.paths` refuses
    those that are not UTF-8)."""
    target = request.target
    path, _, query = target.partition(b"?")
    if not path.startswith(b"/") and b"://" in path:  # absolute form, as to a proxy
        path = urlsplit(path).path or b"/"
    peer = transport.get_extra_info("peername") or ("", 0)
    local = transport.get_extra_info("sockname") or ("", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method.decode("ascii"),
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
        "QUERY_STRING": query.decode("latin-1"),
        "RAW_URI": target.decode("latin-1"),
        "SERVER_PROTOCOL": "HTTP/" + request.http_version.decode("ascii"),
        "SERVER_NAME": str(local[0]),
        "SERVER_PORT": str(local[1]),
        "REMOTE_ADDR": str(peer[0]),
        "REMOTE_PORT": str(peer[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": multiprocess,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
        "related.received": time.perf_counter(),  # the access log's clock starts here
    }
    for raw_name, raw_value in request.headers:
        if b"_" in raw_name:  # ambiguous with '-' once in the environ: dropped, as gunicorn does
            continue
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = "HTTP_" + name
        environ[name] = f"{environ[name]},{value}" if name in environ else value
    # The body is here whole (de-chunked): its length is known.
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    if body or "CONTENT_LENGTH" in environ:
        environ["CONTENT_LENGTH"] = str(len(body))
    forwarded = environ.get("HTTP_X_FORWARDED_PROTO", "").lower()
    if forwarded == "https" and peer[0] in TRUSTED_PROXIES:
        environ["wsgi.url_scheme"] = "https"
    return environ
