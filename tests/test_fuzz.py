"""Property-based fuzzing of a real server from its OpenAPI document (`tests.fuzzing`): over a
thousand generated requests, valid and broken on purpose, and not one answer outside the
contract. `bench/bench_fuzz.py` runs the same for ten thousand and more."""

from __future__ import annotations

from collections.abc import Callable

import requests

from service.config.settings import Settings
from tests.conftest import HTTP_TIMEOUT, Server, wait_until_idle
from tests.fuzzing import fuzz

TOKEN = "fuzz-token"
PER_OPERATION = 32
"""Generated requests per operation and mode; with every operation this makes over 1,000."""


def test_a_thousand_generated_requests_get_no_5xx_and_no_answer_outside_the_contract(
    sample_copy: Settings, start_server: Callable[..., Server]
) -> None:
    server = start_server(sample_copy.data_dir, env={"RELATED_API_TOKEN": TOKEN})
    try:
        tally = fuzz(server.base, token=TOKEN, per_operation=PER_OPERATION)
    finally:
        # Rebuilds the fuzzer asked for run as child processes: let them finish.
        wait_until_idle(lambda: requests.get(server.url("/index"), timeout=HTTP_TIMEOUT).json())
    assert tally.requests >= 1000, tally.summary()
    assert tally.failures == [], tally.summary()
    assert {400, 401, 404} <= set(tally.statuses), "the fuzzer should reach errors of each kind"
