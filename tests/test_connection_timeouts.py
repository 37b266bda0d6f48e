"""A connection's deadline (`service.web.connection.Connection.timed_out`) never raises and
always ends the connection, whatever the client did to its socket just before: closed it,
reset it or half-closed it, at each step of a request (new and idle, part of the head, part of
the body, kept alive after an answer, lingering after an error answer). On loopback a 408 sent
to a client that has just closed meets its reset at once, and the shutdown that followed raised
ENOTCONN out of the timer, skipping the linger."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

import pytest

from service.web.connection import Connection, Limits, Log, Reply

LIMITS = Limits(header_timeout=60, body_timeout=60, keepalive=60, body_bytes=1000, connections=8)
"""Long deadlines: the test fires each one itself, at the moment it chooses."""


class LoopbackHost:
    """The worker as a connection sees it (`service.web.connection.Host`), answering `{}`."""

    limits = LIMITS
    alive = True
    multiprocess = False

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.connections: set[Connection] = set()
        self.log: Log = logging.getLogger("tests.connection")

    def run_app(self, environ: dict[str, Any]) -> Future[Reply]:
        future: Future[Reply] = Future()
        future.set_result((200, "OK", [("Content-Type", "application/json")], b"{}"))
        return future

    def answered(self) -> None:
        pass


def _close(client: socket.socket) -> None:
    client.close()


def _reset(client: socket.socket) -> None:
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()


def _half_close(client: socket.socket) -> None:
    client.shutdown(socket.SHUT_WR)


LEAVINGS: dict[str, Callable[[socket.socket], None]] = {
    "close": _close,
    "reset": _reset,
    "half-close": _half_close,
}

STEPS: dict[str, bytes] = {
    "new": b"",
    "head": b"GET /healthz HTTP/1.1\r\nHo",
    "body": b'POST /related HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{"a',
    "kept-alive": b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    "lingering": b"GET /healthz HTTP/1.1\r\nHo",  # then a first deadline: the 408, then linger
}
PHASES = {"new": "idle", "head": "head", "body": "body", "kept-alive": "idle"}
PHASES["lingering"] = "closing"


class Rig:
    """A real loopback TCP connection whose server side is a Connection on a test loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.errors: list[dict[str, Any]] = []
        self.loop.set_exception_handler(lambda _, context: self.errors.append(context))
        self.host = LoopbackHost(self.loop)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.client = socket.create_connection(self.listener.getsockname())
        accepted, _ = self.listener.accept()
        made: list[Connection] = []

        def factory() -> Connection:
            made.append(Connection(self.host))
            return made[0]

        self.loop.run_until_complete(self.loop.connect_accepted_socket(factory, accepted))
        self.connection = made[0]

    def turn(self, seconds: float = 0.05) -> None:
        self.loop.run_until_complete(asyncio.sleep(seconds))

    def shut(self) -> None:
        self.connection.abort()
        self.turn(0)
        self.client.close()
        self.listener.close()
        self.loop.close()


@pytest.fixture
def rig() -> Iterator[Rig]:
    made = Rig()
    yield made
    made.shut()


@pytest.mark.parametrize("seen_first", [False, True], ids=["before-the-loop-sees-it", "after"])
@pytest.mark.parametrize("leaving", sorted(LEAVINGS))
@pytest.mark.parametrize("step", list(STEPS))
def test_a_deadline_never_raises_and_ends_the_connection_whatever_the_client_did(
    rig: Rig, step: str, leaving: str, seen_first: bool
) -> None:
    if STEPS[step]:
        rig.client.sendall(STEPS[step])
    rig.turn()
    if step == "lingering":
        rig.connection.timed_out()  # the head's deadline: a 408, then the linger timer
        assert rig.connection.timer is not None
        assert rig.client.recv(65536).startswith(b"HTTP/1.1 408")
    elif step == "kept-alive":
        assert rig.client.recv(65536).startswith(b"HTTP/1.1 200")
    assert rig.connection.phase == PHASES[step]
    LEAVINGS[leaving](rig.client)
    time.sleep(0.02)  # the kernel has the client's FIN or RST; the loop may not have read it
    if seen_first:
        rig.turn()
    rig.connection.timed_out()
    rig.turn()
    if rig.connection.phase == "closing":  # answered a 408 to a half-closed client: it lingers
        assert rig.connection.timer is not None
        rig.connection.timed_out()
        rig.turn()
    assert rig.connection.phase == "closed"
    assert rig.connection.timer is None and rig.connection.write_timer is None
    assert rig.host.connections == set()
    assert rig.errors == []


def test_a_client_still_there_gets_the_408_and_the_connection_lingers(rig: Rig) -> None:
    rig.client.sendall(STEPS["head"])
    rig.turn()
    rig.connection.timed_out()
    assert rig.connection.phase == "closing" and rig.connection.timer is not None
    rig.turn()
    answer = rig.client.recv(65536)
    assert answer.startswith(b"HTTP/1.1 408") and b'"code": "request_timeout"' in answer
    assert rig.client.recv(65536) == b""  # our side is shut: the answer is whole
    assert rig.errors == []
