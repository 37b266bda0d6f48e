"""The server's worker (`service.web.worker`, `service.web.connection`) over real sockets:
slow clients hold no thread, protocol errors are JSON, timeouts, keep-alive and pipelining,
and metrics and the access log across workers."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from service.web.server import spawn
from service.web.worker import AsyncWorker
from tests.conftest import HEATWAVE, HTTP_TIMEOUT, Server, wait_for


@pytest.fixture(scope="module")
def strict_server(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One worker with short timeouts and a small body limit, shared by this module's tests."""
    log = tmp_path_factory.mktemp("strict") / "server.log"
    env = {
        "RELATED_MODEL": "hashing",
        "RELATED_PRELOAD_MODEL": "0",
        "RELATED_HEADER_TIMEOUT": "1",
        "RELATED_BODY_TIMEOUT": "1",
        "RELATED_MAX_BODY_BYTES": "1000",
    }
    process, base = spawn(sample_dir, workers=1, env=env, log=log)
    server = Server(process, base, log)
    yield server
    server.stop()


def address(server: Server) -> tuple[str, int]:
    parts = urlsplit(server.base)
    return parts.hostname or "127.0.0.1", parts.port or 80


def exchange(server: Server, data: bytes, wait: float = 10.0, half_close: bool = False) -> bytes:
    """Send `data` on a new connection (then shut our side if `half_close`) and read until the
    server closes it (or `wait`)."""
    with socket.create_connection(address(server), timeout=wait) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    return received


def json_error(raw: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"Content-Type: application/json" in head, head
    return status, json.loads(body)


@contextmanager
def held_connections(server: Server, payloads: list[bytes]) -> Iterator[None]:
    sockets = []
    try:
        for payload in payloads:
            sock = socket.create_connection(address(server), timeout=10)
            if payload:
                sock.sendall(payload)
            sockets.append(sock)
        yield
    finally:
        for sock in sockets:
            sock.close()


def test_slow_and_idle_clients_hold_no_thread(
    sample_dir: Path, start_server: Callable[..., Server]
) -> None:
    # One worker, two threads: half a request on two connections would block it for good if a
    # thread waited on each connection.
    server = start_server(sample_dir, workers=1, env={"RELATED_THREADS": "2"})
    partial = [b"GET /heal"] * 10 + [b"GET /healthz HTTP/1.1\r\nHost: x\r\n"] * 10
    body = [b'POST /related HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{"title"'] * 10
    with held_connections(server, [b""] * 20 + partial + body):
        for _ in range(3):
            assert requests.get(server.url("/healthz"), timeout=HTTP_TIMEOUT).status_code == 200
            related = requests.get(
                server.url(f"/articles/{HEATWAVE}/related"), timeout=HTTP_TIMEOUT
            )
            assert related.status_code == 200 and related.json()["related"]


def test_requests_that_never_finish_get_a_408_in_json(strict_server: Server) -> None:
    server = strict_server
    status, body = json_error(exchange(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n"))
    assert status == 408 and body["code"] == "request_timeout" and "head" in body["error"]
    slow_body = b"POST /articles HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n[{"
    status, body = json_error(exchange(server, slow_body))
    assert status == 408 and "body" in body["error"]
    # An idle connection is just closed, with no answer.
    assert exchange(server, b"") == b""


def test_protocol_errors_are_json_in_the_one_error_shape(strict_server: Server) -> None:
    server = strict_server
    cases = [
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
        (b"NOT A REQUEST\r\n\r\n", 400, "bad_request"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 70000 + b"\r\n\r\n", 431, None),
        (b"POST /articles HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n", 413, None),
        (b"GET /articles/a//related HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404, None),
    ]
    for request, expected, code in cases:
        status, body = json_error(exchange(server, request))
        assert status == expected and body["ok"] is False and body["status"] == expected
        assert code is None or body["code"] == code
    chunked = (
        b"POST /articles HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"400\r\n"
        + b"x" * 1024
        + b"\r\n"
        + b"400\r\n"
        + b"x" * 1024
        + b"\r\n0\r\n\r\n"
    )
    status, body = json_error(exchange(server, chunked))
    assert status == 413 and body["code"] == "payload_too_large"


def test_keep_alive_pipelining_and_head(strict_server: Server) -> None:
    server = strict_server
    two = (
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        b"HEAD /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    raw = exchange(server, two)
    assert raw.count(b"HTTP/1.1 200 OK") == 2
    assert raw.endswith(b"Connection: close\r\n\r\n")  # the HEAD answer: headers, no body
    half_closed = exchange(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", half_close=True)
    assert half_closed.startswith(b"HTTP/1.1 200 OK") and half_closed.endswith(b'{"ok":true}\n')
    with requests.Session() as session:
        for _ in range(5):
            assert session.get(server.url("/healthz"), timeout=HTTP_TIMEOUT).json() == {"ok": True}


def test_metrics_count_every_worker_and_each_request_is_logged_with_its_id(
    sample_dir: Path, start_server: Callable[..., Server]
) -> None:
    server = start_server(sample_dir, workers=2)
    ids = []
    for _ in range(20):  # new connections, so both workers answer some
        response = requests.get(
            server.url(f"/articles/{HEATWAVE}/related"),
            headers={"Connection": "close"},
            timeout=HTTP_TIMEOUT,
        )
        ids.append(response.headers["X-Request-Id"])
    text = requests.get(server.url("/metrics"), timeout=HTTP_TIMEOUT).text
    count = re.search(
        r'related_http_requests_total\{method="GET",route="/articles/<path:article_id>/related",'
        r'status="200"\} ([\d.]+)',
        text,
    )
    assert count is not None and float(count.group(1)) == 20
    assert 'related_answers_total{source="index"} 20.0' in text
    # Access lines are written in batches.
    wait_for(lambda: all(f"id={i}" in server.log.read_text() for i in ids), "the access lines")
    log = server.log.read_text()
    assert all(f"id={request_id}" in log for request_id in ids)
    assert f'"GET /articles/{HEATWAVE}/related HTTP/1.1" 200' in log


def test_a_worker_takes_one_queued_connection_per_wake_up() -> None:
    """Workers share the listening socket: each takes one connection when woken and leaves the
    rest queued, so a burst of connections is spread over every woken worker rather than all
    taken by the first."""
    listener = socket.create_server(("127.0.0.1", 0))
    clients = [socket.create_connection(listener.getsockname()) for _ in range(3)]
    loop = asyncio.new_event_loop()
    taken: list[socket.socket] = []
    left: list[socket.socket] = []

    async def record(factory: Callable[[], Any], sock: socket.socket) -> tuple[None, None]:
        taken.append(sock)
        return None, None

    worker = AsyncWorker.__new__(AsyncWorker)  # no gunicorn: only the accepting part
    worker.loop, worker.accepting, worker.log = loop, set(), logging.getLogger(__name__)
    loop.connect_accepted_socket = record  # type: ignore[method-assign,assignment]
    try:
        listener.setblocking(False)
        worker.accept_one(listener)
        loop.run_until_complete(asyncio.sleep(0))
        assert len(taken) == 1 and not worker.accepting
        left = [listener.accept()[0] for _ in range(2)]  # the other two are still queued
        worker.accept_one(listener)  # nothing queued: another worker took it; no error
        assert len(taken) == 1
    finally:
        for sock in [*taken, *left, *clients, listener]:
            sock.close()
        loop.close()
