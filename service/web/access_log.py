"""One access-log line per request, a request id on every answer, and the request metrics.

`Observed` wraps the WSGI app. Each request gets an id: the client's `X-Request-Id` when it
is a plain token (letters, digits, `.`, `_`, `-`, up to 128), else a new random one; it is
echoed in the answer's `X-Request-Id` and written in the request's log line, so a page
renderer's log and ours can be joined. The line (RELATED_ACCESS_LOG: `text`, `json` or `off`)
goes to the server's stderr, written in batches every 0.2 s, with the value of any query
parameter named like a secret replaced by `[redacted]` (`service.web.log_redaction`):

    2026-11-26T03:40:00Z 127.0.0.1 "GET /articles/a/related?k=5 HTTP/1.1" 200 1834 2.31ms id=4f1c0e9a7b2d3c5e "curl/8.5.0"
    {"time": "2026-11-26T03:40:00Z", "request_id": "4f1c...", "remote": "127.0.0.1", "method": "GET", "path": "/articles/a/related", "query": "k=5", "route": "/articles/<path:article_id>/related", "status": 200, "bytes": 1834, "ms": 2.31, "user_agent": "curl/8.5.0"}

The time runs from the moment the whole request had arrived (the worker sets
`related.received`), so waiting for a free thread counts.
"""

from __future__ import annotations

import atexit
import json
import logging
import re
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from service.web.log_redaction import redacted_query
from service.web.prometheus import Metrics

log = logging.getLogger("related.access")
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
ROUTE_KEY = "related.route"
"""Set by the app to the matched route's rule (metrics group by it, not by raw path)."""
RECEIVED_KEY = "related.received"
"""Set by the worker: time.perf_counter() when the whole request had arrived."""

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class BufferedLines:
    """Access lines written in batches: a line costs a list append on the request's thread,
    and a background thread writes what has gathered every `FLUSH_SECONDS` (and at exit).
    A write and flush per request cost a trivial request a third of its time."""

    FLUSH_SECONDS = 0.2

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.lines: list[str] = []
        self.lock = threading.Lock()  # around the list: appends and the swap
        self.writing = threading.Lock()  # around the stream: the thread and the exit
        threading.Thread(target=self._run, name="access-log", daemon=True).start()
        atexit.register(self.flush)

    def write(self, line: str) -> None:
        with self.lock:
            self.lines.append(line)

    def flush(self) -> None:
        with self.writing:
            with self.lock:
                lines, self.lines = self.lines, []
            if lines:
                self.stream.write("\n".join(lines) + "\n")
                self.stream.flush()

    def _run(self) -> None:
        while True:
            time.sleep(self.FLUSH_SECONDS)
            try:
                self.flush()
            except Exception:  # a closed or full stream must not end the thread
                log.exception("could not write the access log")


_writer: BufferedLines | None = None


def configure_access_log(fmt: str) -> None:
    """In a server process: access lines go to stderr as they are (they carry their own time),
    in batches. Elsewhere (an app in process) they go to the `related.access` logger."""
    global _writer
    if fmt != "off" and _writer is None:
        _writer = BufferedLines(sys.stderr)


def _emit(line: str) -> None:
    if _writer is not None:
        _writer.write(line)
    elif log.isEnabledFor(logging.INFO):
        log.info(line)


def request_id(given: str | None) -> str:
    return given if given and REQUEST_ID.fullmatch(given) else secrets.token_hex(8)


class Observed:
    """WSGI middleware: request id, access line and request metrics for every request."""

    def __init__(self, app: WSGIApp, fmt: str, metrics: Metrics) -> None:
        self.app = app
        self.fmt = fmt
        self.metrics = metrics

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = environ.get(RECEIVED_KEY) or time.perf_counter()
        rid = request_id(environ.get("HTTP_X_REQUEST_ID"))
        environ["related.request_id"] = rid
        seen: dict[str, Any] = {}

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers.append(("X-Request-Id", rid))
            seen["status"] = status
            seen["headers"] = headers
            return start_response(status, headers, exc_info)

        body = self.app(environ, start)
        seconds = time.perf_counter() - started
        status = int(str(seen.get("status", "500")).split(" ", 1)[0])
        route = environ.get(ROUTE_KEY) or "unmatched"
        method = environ.get("REQUEST_METHOD", "")
        self.metrics.observe(route, method, status, seconds)
        if self.fmt != "off":
            length = next(
                (v for k, v in seen.get("headers", ()) if k.lower() == "content-length"), "-"
            )
            _emit(self.line(environ, rid, route, status, length, seconds))
        return body

    def line(
        self,
        environ: dict[str, Any],
        rid: str,
        route: str,
        status: int,
        length: str,
        seconds: float,
    ) -> str:
        now = _now()
        remote = environ.get("REMOTE_ADDR", "-")
        method = environ.get("REQUEST_METHOD", "-")
        path = environ.get("PATH_INFO", "")
        query = redacted_query(environ.get("QUERY_STRING", ""))
        agent = environ.get("HTTP_USER_AGENT", "")
        ms = round(seconds * 1000, 2)
        if self.fmt == "json":
            return json.dumps(
                {
                    "time": now,
                    "request_id": rid,
                    "remote": remote,
                    "method": method,
                    "path": path,
                    "query": query,
                    "route": route,
                    "status": status,
                    "bytes": int(length) if length.isdigit() else None,
                    "ms": ms,
                    "user_agent": agent,
                },
                ensure_ascii=False,
            )
        raw = environ.get("RAW_URI")
        if raw:
            raw_path, mark, raw_query = raw.partition("?")
            target = raw_path + mark + redacted_query(raw_query)
        else:
            target = path + ("?" + query if query else "")
        protocol = environ.get("SERVER_PROTOCOL", "HTTP/1.1")
        return (
            f'{now} {remote} "{method} {_quoted(target)} {protocol}" {status} {length} {ms}ms '
            f'id={rid} "{_quoted(agent)}"'
        )


_times: dict[int, str] = {}


def _now() -> str:
    """This second, as the log shows it (formatted once a second)."""
    second = int(time.time())
    if second not in _times:
        _times.clear()
        _times[second] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
    return _times[second]


def _quoted(text: str) -> str:
    """`text` with quotes, backslashes and control characters escaped: a client can't forge a
    line or a field."""
    return json.dumps(text)[1:-1]
