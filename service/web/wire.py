"""HTTP/1.1 answers as bytes: the head of an app's answer, and the server's own JSON errors."""

from __future__ import annotations

import json
import time
from email.utils import formatdate
from http import HTTPStatus

from service.errors import error_body

NO_BODY = (204, 304)
FRAMING = ("content-length", "transfer-encoding", "connection", "date")
_dates: dict[int, str] = {}


def http_date() -> str:
    """This second's Date header value (formatted once a second)."""
    now = int(time.time())
    if now not in _dates:
        _dates.clear()
        _dates[now] = formatdate(now, usegmt=True)
    return _dates[now]


def response_head(
    status: int,
    reason: str,
    headers: list[tuple[str, str]],
    length: int,
    head_only: bool,
    close: bool,
) -> bytes:
    """The status line and headers of an app's answer, its body `length` bytes (WSGI headers
    are text; the framing headers are ours). A header with a line break is an error."""
    lines = [f"HTTP/1.1 {status} {reason}\r\nDate: {http_date()}\r\n"]
    given_length = None
    for name, value in headers:
        if "\n" in value or "\r" in value or "\n" in name or "\r" in name:
            raise ValueError(f"header {name!r} has a line break")
        lowered = name.lower()
        if lowered in FRAMING:
            if lowered == "content-length":
                given_length = value
            continue
        lines.append(f"{name}: {value}\r\n")
    if status not in NO_BODY:
        # HEAD answers tell the length the GET would have (the app's header says it).
        shown = given_length if head_only and given_length is not None else length
        lines.append(f"Content-Length: {shown}\r\n")
    if close:
        lines.append("Connection: close\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("latin-1")


def error_reply(status: int, code: str, message: str, request_id: str) -> bytes:
    """A complete HTTP/1.1 error answer in the API's JSON shape, closing the connection."""
    body = json.dumps(error_body(status, code, message)).encode()
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        f"Date: {http_date()}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nX-Request-Id: {request_id}\r\n"
        "Cache-Control: no-store\r\nConnection: close\r\n"
    )
    if status == 503:
        head += "Retry-After: 1\r\n"
    return head.encode("latin-1") + b"\r\n" + body
