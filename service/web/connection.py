"""One client connection: read a whole request, hand it to the app, answer it.

The worker that accepted it (`service.web.worker.AsyncWorker`) is seen through `Host`, the few
things a connection needs of it, so this module does not import the worker.

idle -> head -> body -> app -> idle again (kept alive) or closed. The head must arrive within
RELATED_HEADER_TIMEOUT (from the connection's start, or from its first byte after a kept-alive
answer), the body within RELATED_BODY_TIMEOUT; an idle connection ends after RELATED_KEEPALIVE.
h11 parses HTTP/1.1 (framing, chunked bodies, keep-alive, pipelining). Only a complete request
is handed to the worker's threads, as a WSGI environ (PEP 3333) with the body in memory.

Whatever is refused before the app sees a request (a malformed or over-long request line, a
head or body over its limit, a timeout, too many connections) is answered in the API's one
JSON error shape; then the connection is closed gracefully: the rest of the request is read and
dropped for a moment, so the client gets the answer rather than a reset.
"""

from __future__ import annotations

import asyncio
import secrets
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol

import h11

from service.config.settings import Settings
from service.web.environ import wsgi_environ
from service.web.wire import NO_BODY, error_reply, response_head

MAX_REQUEST_LINE = 8190
"""Bytes of the request line (method, target, version): longer gets 414."""
MAX_HEAD = 65536
"""Bytes of the request line and headers together: more gets 431."""
LINGER_SECONDS = 2.0
"""After an error answer, how long the rest of the request is read and dropped."""

Reply = tuple[int, str, list[tuple[str, str]], bytes]
"""An answer of the app: status, reason, headers, body."""


@dataclass(frozen=True)
class Limits:
    header_timeout: float
    body_timeout: float
    keepalive: float
    body_bytes: int
    connections: int

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            header_timeout=settings.header_timeout,
            body_timeout=settings.body_timeout,
            keepalive=settings.keepalive,
            body_bytes=settings.max_body_bytes,
            connections=settings.max_connections,
        )


class Log(Protocol):
    def info(self, msg: str, *args: Any) -> None: ...

    def exception(self, msg: str, *args: Any) -> None: ...


class Host(Protocol):
    """What a connection needs of the worker that accepted it (`service.web.worker`)."""

    limits: Limits
    connections: set[Connection]
    loop: asyncio.AbstractEventLoop
    log: Log

    @property
    def alive(self) -> bool:
        """False once the worker is stopping: answer, then close."""
        ...

    @property
    def multiprocess(self) -> bool: ...

    def run_app(self, environ: dict[str, Any]) -> Future[Reply]:
        """Run the app on a whole request, off the event loop."""
        ...

    def answered(self) -> None:
        """One more request answered (the worker restarts after its max_requests)."""
        ...


class Connection(asyncio.Protocol):
    """One client connection: idle -> head -> body -> app -> idle (kept alive) or closed."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.limits = host.limits
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        self.transport: asyncio.Transport | None = None
        self.phase = "idle"
        self.timer: asyncio.TimerHandle | None = None
        self.write_timer: asyncio.TimerHandle | None = None
        self.request: h11.Request | None = None
        self.body = bytearray()
        self.head_bytes = 0
        self.line_complete = False
        self.answers = 0
        self.closing_when_idle = False
        self.peer_closed = False

    # -- transport callbacks ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.host.connections.add(self)
        if len(self.host.connections) > self.limits.connections:
            self.refuse(503, "server_busy", "The server has too many open connections; retry")
            return
        # A new connection must deliver its first request head within the header timeout.
        self.arm(self.limits.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self.phase = "closed"
        self.cancel_timers()
        self.host.connections.discard(self)

    def data_received(self, data: bytes) -> None:
        if self.phase in ("closing", "closed"):
            return  # the rest of a refused request: dropped
        if self.phase == "idle":
            self.phase = "head"
            if self.answers:  # a kept-alive connection: the next head has the header timeout
                self.arm(self.limits.header_timeout)
        if self.phase == "head" and not self.line_complete:
            newline = data.find(b"\n")
            if self.head_bytes + (len(data) if newline < 0 else newline) > MAX_REQUEST_LINE:
                self.refuse(
                    414, "uri_too_long", f"The request line is longer than {MAX_REQUEST_LINE} bytes"
                )
                return
            self.line_complete = newline >= 0
            self.head_bytes += len(data)
        self.h11.receive_data(data)
        if self.phase != "app":
            self.advance()

    def eof_received(self) -> bool | None:
        if self.phase == "app":
            # The client sent its request and half-closed: answer it, then close.
            self.peer_closed = True
            return True
        self.h11.receive_data(b"")
        if self.phase in ("idle", "head", "body"):
            self.advance()
        return None  # close our side too, once written

    def pause_writing(self) -> None:
        # The client reads its answer too slowly: give it the body timeout, then drop it.
        if self.write_timer is None:
            self.write_timer = self.host.loop.call_later(self.limits.body_timeout, self.abort)

    def resume_writing(self) -> None:
        if self.write_timer is not None:
            self.write_timer.cancel()
            self.write_timer = None

    # -- reading a request -----------------------------------------------------------------

    def advance(self) -> None:
        """Take every complete event h11 has; dispatch a request once all of it is here."""
        while self.phase in ("idle", "head", "body"):
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                if exc.error_status_hint == 431:
                    self.refuse(
                        431, "headers_too_large", f"The request head is over {MAX_HEAD} bytes"
                    )
                else:
                    self.refuse(400, "bad_request", f"Malformed HTTP request: {exc}")
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                self.received(event)
            elif isinstance(event, h11.Data):
                self.body += event.data
                if len(self.body) > self.limits.body_bytes:
                    self.too_large()
            elif isinstance(event, h11.EndOfMessage):
                self.dispatch()
            elif isinstance(event, h11.ConnectionClosed):
                self.close()

    def received(self, request: h11.Request) -> None:
        self.request = request
        self.phase = "body"
        # h11 bounds a head that arrives in pieces; one that arrived whole is measured here.
        size = len(request.target) + sum(len(k) + len(v) + 4 for k, v in request.headers)
        if size > MAX_HEAD:
            self.refuse(431, "headers_too_large", f"The request head is over {MAX_HEAD} bytes")
            return
        self.arm(self.limits.body_timeout)
        length = next((v for k, v in request.headers if k == b"content-length"), b"0")
        if int(length) > self.limits.body_bytes:
            self.too_large()
        elif self.h11.they_are_waiting_for_100_continue:
            self.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def too_large(self) -> None:
        message = f"Request body is larger than {self.limits.body_bytes} bytes"
        self.refuse(413, "payload_too_large", message)

    # -- running the app and answering -----------------------------------------------------

    def dispatch(self) -> None:
        assert self.transport is not None and self.request is not None
        self.phase = "app"
        self.cancel_timers()
        self.transport.pause_reading()  # one request at a time per connection
        future: Future[Reply] = self.host.run_app(self.environ())
        asyncio.wrap_future(future, loop=self.host.loop).add_done_callback(self.respond)

    def respond(self, future: asyncio.Future[Reply]) -> None:
        if self.phase == "closed":
            return
        assert self.request is not None
        head_only = self.request.method == b"HEAD"
        try:
            status, reason, headers, body = future.result()
            close = self.must_close(headers)
            data = response_head(status, reason, headers, len(body), head_only, close)
        except Exception:
            self.host.log.exception("error handling %s", self.request.target)
            request_id = secrets.token_hex(8)
            self.refuse(
                500, "internal_error", "Internal server error; the details were logged", request_id
            )
            return
        if body and not head_only and status not in NO_BODY:
            data += body
        self.write(data)
        self.answers += 1
        self.host.answered()
        if close:
            self.close()
        else:
            self.next_request()

    def must_close(self, headers: list[tuple[str, str]]) -> bool:
        """Whether this answer ends the connection: the client or the app asked for it, an
        HTTP/1.0 client, keep-alive off, or the worker stopping."""
        assert self.request is not None
        if self.closing_when_idle or not self.host.alive or not self.limits.keepalive:
            return True
        if self.peer_closed or self.request.http_version != b"1.1":
            return True
        for name, value in self.request.headers:
            if name == b"connection" and b"close" in value.lower():
                return True
        return any(k.lower() == "connection" and "close" in v.lower() for k, v in headers)

    def next_request(self) -> None:
        assert self.transport is not None
        # A fresh parser per request: h11 tracks both directions, and we write answers
        # ourselves (faster than h11's checked serialisation). A pipelined request already
        # read moves over to it.
        pipelined, _ = self.h11.trailing_data
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        self.phase, self.request, self.body = "idle", None, bytearray()
        self.head_bytes, self.line_complete = 0, False
        self.arm(self.limits.keepalive)
        if pipelined:
            self.h11.receive_data(pipelined)
            self.advance()
        if self.phase in ("idle", "head", "body"):
            self.transport.resume_reading()

    def environ(self) -> dict[str, Any]:
        """The WSGI environ of the complete request (PEP 3333)."""
        assert self.transport is not None and self.request is not None
        return wsgi_environ(self.request, bytes(self.body), self.transport, self.host.multiprocess)

    # -- timers, errors and closing --------------------------------------------------------

    def arm(self, seconds: float) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer = self.host.loop.call_later(seconds, self.timed_out)

    def cancel_timers(self) -> None:
        for timer in (self.timer, self.write_timer):
            if timer is not None:
                timer.cancel()
        self.timer = self.write_timer = None

    def timed_out(self) -> None:
        """A deadline passed. Never raises, whatever the socket's state: a client that went
        away meanwhile (closed, reset) leaves nothing to answer, so the connection is dropped."""
        self.timer = None
        try:
            self.deadline_passed()
        except OSError:
            self.abort()
        except Exception:
            self.host.log.exception("error at a connection's deadline; dropped it")
            self.abort()

    def deadline_passed(self) -> None:
        if self.phase == "idle":
            self.close()  # an idle connection (new or kept alive) just ends
        elif self.phase in ("head", "body"):
            limit = self.limits.header_timeout if self.phase == "head" else self.limits.body_timeout
            message = f"The request {self.phase} did not arrive within {limit:g} s"
            self.refuse(408, "request_timeout", message)
        elif self.phase == "closing":
            self.abort()

    def refuse(self, status: int, code: str, message: str, request_id: str | None = None) -> None:
        """Answer an error the app never saw, then close gracefully."""
        if self.transport is None or self.phase in ("closing", "closed"):
            return
        request_id = request_id or secrets.token_hex(8)
        peer = (self.transport.get_extra_info("peername") or ("?",))[0]
        self.host.log.info("refused a request from %s: %s %s (%s)", peer, status, code, request_id)
        self.phase = "closing"
        try:
            self.write(error_reply(status, code, message, request_id))
            self.transport.resume_reading()  # read and drop the rest for a moment
            if self.transport.can_write_eof():
                self.transport.write_eof()
        except OSError:
            # The client is gone (on loopback our answer meets its reset at once, and the
            # shutdown then finds no connection: ENOTCONN): no one is left to linger for.
            self.abort()
            return
        self.arm(LINGER_SECONDS)

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def close_when_idle(self) -> None:
        self.closing_when_idle = True
        if self.phase == "idle":
            self.close()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        self.phase = "closed"
        self.cancel_timers()
        self.host.connections.discard(self)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()
        self.phase = "closed"
        self.cancel_timers()
        self.host.connections.discard(self)
