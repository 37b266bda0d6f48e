"""Request paths are UTF-8: a path whose percent-decoded bytes are not is refused with a 400
naming the byte, before routing. (WSGI hands PATH_INFO over as latin-1 text of the raw bytes,
and Werkzeug would otherwise decode it leniently: `/articles/%ff%fe` would name the id
"\\ufffd\\ufffd", a different article than the client asked for.)"""

from __future__ import annotations

from flask import Flask, request

from service.errors import InvalidParameter


def path_problem(path_info: str) -> str | None:
    """Why the WSGI `path_info` (latin-1 text of the decoded bytes) is not a UTF-8 path, else None."""
    raw = path_info.encode("latin-1", errors="replace")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        bad = raw[error.start : error.start + 1].hex()
        return (
            f"The path is not valid UTF-8 once percent-decoded: byte 0x{bad} at byte "
            f"{error.start} ({error.reason}); paths and article ids are UTF-8, percent-encoded"
        )
    return None


def register_path_check(app: Flask) -> None:
    """Refuse, before any route runs, a request whose path is not UTF-8."""

    @app.before_request
    def utf8_path() -> None:
        problem = path_problem(request.environ.get("PATH_INFO", ""))
        if problem is not None:
            raise InvalidParameter(problem)
