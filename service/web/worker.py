"""The server's worker: an event loop reads every request whole, a thread pool runs the app.

gunicorn's threaded worker hands a connection to a thread as soon as it is accepted, and the
thread then blocks reading the request: 8 clients that send half a request line hold every
thread of 2 workers x 4 threads, and nothing times slow headers out. Here no thread is given to
a request before all of it has arrived. Each worker's asyncio loop reads every connection (h11
parses HTTP/1.1) with a deadline for the head (RELATED_HEADER_TIMEOUT, from the connection's
start or its first byte after a kept-alive answer) and one for the body (RELATED_BODY_TIMEOUT),
so an idle or slow connection costs a socket and a few objects, never a thread. A complete
request goes to the worker's pool of RELATED_THREADS threads, which run the WSGI app (Flask).

Whatever is refused before the app sees a request (a malformed or over-long request line, a
head or body over its limit, a timeout, too many connections) is answered in the API's one
JSON error shape, then the connection is closed gracefully (the rest of the request is read
and dropped for a moment, so the client gets the answer rather than a reset).

gunicorn still runs the processes: the master forks RELATED_WORKERS workers, restarts any that
die or miss its heartbeat, and stops them gracefully on SIGTERM. The workers share the listening
socket, and each accepts one connection per wake-up: asyncio's own server accepts everything
queued at once, so a burst of keep-alive connections (a load balancer's pool, a renderer's) all
went to whichever worker woke first, and the other cores idled (bench/bench_http.py: half the
requests/s in such runs). One at a time, every woken worker takes its share, and a busy worker,
slower back to its loop, takes fewer.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from gunicorn.workers.base import Worker

from service.config.settings import Settings
from service.web.connection import Connection, Limits, Reply

ACCEPT_RETRY_S = 1.0


class AsyncWorker(Worker):  # type: ignore[misc]
    """A gunicorn worker: one asyncio loop for the connections, a thread pool for the app."""

    def init_process(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.connections: set[Connection] = set()
        self.accepting: set[asyncio.Task[Any]] = set()
        self.stopping = asyncio.Event()
        self.quick = False
        settings = getattr(self.app, "settings", None)
        self.limits = Limits.of(settings if isinstance(settings, Settings) else Settings())
        super().init_process()  # loads the app, then calls run()

    def init_signals(self) -> None:
        for sig in self.SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        self.loop.add_signal_handler(signal.SIGTERM, self.stop, False)
        self.loop.add_signal_handler(signal.SIGQUIT, self.stop, True)
        self.loop.add_signal_handler(signal.SIGINT, self.stop, True)
        self.loop.add_signal_handler(signal.SIGUSR1, self.log.reopen_files)
        self.loop.add_signal_handler(signal.SIGWINCH, lambda: None)
        self.loop.add_signal_handler(signal.SIGABRT, self.abort)

    def stop(self, quick: bool) -> None:
        self.alive = False
        self.quick = self.quick or quick
        if quick:
            self.cfg.worker_int(self)
        self.stopping.set()

    def abort(self) -> None:
        self.alive = False
        self.cfg.worker_abort(self)
        sys.exit(1)

    def run(self) -> None:
        self.pool = ThreadPoolExecutor(max(1, self.cfg.threads), thread_name_prefix="request")
        try:
            self.loop.run_until_complete(self.serve())
        finally:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.loop.close()

    async def serve(self) -> None:
        listeners = [listener.sock for listener in self.sockets]
        for sock in listeners:
            self.listen(sock)
        while self.alive:
            self.notify()  # the master's heartbeat: a worker that stops notifying is replaced
            if self.ppid != os.getppid():
                self.log.info("Parent changed, shutting down: %s", self)
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), timeout=1.0)
        for sock in listeners:
            self.loop.remove_reader(sock.fileno())
        deadline = self.loop.time() + self.cfg.graceful_timeout
        for connection in list(self.connections):
            connection.close_when_idle()
        while self.connections and not self.quick and self.loop.time() < deadline:
            self.notify()
            await asyncio.sleep(0.05)
        for connection in list(self.connections):
            connection.abort()

    def listen(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.loop.add_reader(sock.fileno(), self.accept_one, sock)

    def accept_one(self, sock: socket.socket) -> None:
        """Take one queued connection, if another worker has not: the rest wait for the next
        turn of the loop, where every worker that was woken competes for them again."""
        try:
            conn, _ = sock.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return  # another worker took it, or the client gave up
        except OSError as exc:
            if exc.errno not in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                raise
            # Out of descriptors or memory: stop accepting for a moment, as asyncio does.
            self.log.error("Cannot accept a connection (%s); retrying in 1 s", exc)
            self.loop.remove_reader(sock.fileno())
            self.loop.call_later(ACCEPT_RETRY_S, self.listen, sock)
            return
        conn.setblocking(False)
        task = self.loop.create_task(
            self.loop.connect_accepted_socket(lambda: Connection(self), conn)
        )
        self.accepting.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(self.accepted)

    def accepted(self, task: asyncio.Task[Any]) -> None:
        self.accepting.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.log.warning("A connection failed as it opened: %s", task.exception())

    @property
    def multiprocess(self) -> bool:
        return bool(self.cfg.workers > 1)

    def run_app(self, environ: dict[str, Any]) -> Future[Reply]:
        return self.pool.submit(self.call_app, environ)

    def call_app(self, environ: dict[str, Any]) -> Reply:
        """Run the WSGI app on one request (in a pool thread) and collect its answer."""
        started: list[Any] = []
        chunks: list[bytes] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            if exc_info and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [status, headers]
            return chunks.append

        result: Iterable[bytes] = self.wsgi(environ, start_response)
        try:
            chunks.extend(chunk for chunk in result if chunk)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, headers = started
        code, _, reason = status.partition(" ")
        return int(code), reason, headers, b"".join(chunks)

    def answered(self) -> None:
        self.nr += 1
        if self.nr >= self.max_requests and self.alive:
            self.log.info("Autorestarting worker after current request.")
            self.stop(False)
