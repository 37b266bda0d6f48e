"""Property-based fuzzing of a real server from its own OpenAPI document (schemathesis).

For every documented operation, schemathesis generates requests from the document: valid ones
(positive) and ones that break it on purpose (negative: wrong types, out-of-range numbers,
missing fields). Each answer must keep the contract: no 5xx, every error in the one shape with
its status repeated in the body, every 2xx valid JSON (strictly: no NaN), and everything the
document says about statuses, media types and bodies. Used by the test suite (bounded) and
`bench/bench_fuzz.py` (long).
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import hypothesis.errors
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

CODE = re.compile(r"^[a-z]+(_[a-z]+)*$")
EXCLUDED_CHECKS = [positive_data_acceptance]
"""A valid request may still name an article that does not exist (404): not a failure."""


def _strict_json(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def not_json(document: dict[str, Any]) -> set[tuple[str, str]]:
    """(method, path) of the operations whose success the document says is not JSON (a page,
    a file): their 2xx answers are checked for the media type only."""
    return {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if any(
            "application/json" not in (response.get("content") or {})
            for status, response in operation["responses"].items()
            if status.startswith("2")
        )
    }


def contract_problem(
    operation: tuple[str, str], response: requests.Response, pages: set[tuple[str, str]]
) -> str | None:
    """Why an answer to `operation` (method, path) breaks the contract, else None."""
    status = response.status_code
    if status >= 500:
        return f"{status}: {response.text[:300]}"
    if status < 300 and operation in pages:
        return None
    try:
        body = _strict_json(response.text)
    except ValueError as exc:
        return f"{status} is not valid JSON ({exc}): {response.text[:200]!r}"
    if status < 400:
        return None
    shaped = (
        isinstance(body, dict)
        and body.get("ok") is False
        and body.get("status") == status
        and isinstance(body.get("code"), str)
        and CODE.match(body["code"])
        and isinstance(body.get("error"), str)
        and body["error"]
    )
    return None if shaped else f"{status} not in the error shape: {response.text[:300]}"


@dataclass
class Tally:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items()))
        return (
            f"{self.requests} requests in {self.seconds:.1f}s, {len(self.failures)} failures; "
            f"statuses {statuses}"
        )


def fuzz(
    base_url: str,
    *,
    token: str,
    per_operation: int,
    modes: Iterable[GenerationMode] = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
    seed: int = 0,
    progress: Callable[[str, Tally], None] | None = None,
) -> Tally:
    """Fuzz every operation of the server at `base_url` (whose RELATED_API_TOKEN is `token`)
    with up to `per_operation` generated requests per generation mode. Requests carry the token,
    so writes are exercised; schemathesis also checks that a wrong one is refused. Failures are
    collected (not raised, so nothing shrinks)."""
    document = requests.get(f"{base_url}/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(document)
    tally = Tally()
    started = time.monotonic()
    session = requests.Session()
    pages = not_json(document)
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in modes:
            run = _runner(operation, mode, base_url, token, session, tally, pages)
            settings = hypothesis.settings(
                max_examples=per_operation,
                database=None,
                deadline=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
                print_blob=False,
            )
            test = hypothesis.seed(seed)(
                settings(hypothesis.given(case=operation.as_strategy(generation_mode=mode))(run))
            )
            with contextlib.suppress(hypothesis.errors.Unsatisfiable):
                test()  # Unsatisfiable: nothing to break on purpose in an operation without inputs
            if progress is not None:
                progress(f"{operation.method.upper()} {operation.path} ({mode.value})", tally)
    tally.seconds = time.monotonic() - started
    return tally


def _runner(
    operation: Any,
    mode: GenerationMode,
    base_url: str,
    token: str,
    session: requests.Session,
    tally: Tally,
    pages: set[tuple[str, str]],
) -> Callable[[schemathesis.Case], None]:
    authorization = {"Authorization": f"Bearer {token}"}

    def run(case: schemathesis.Case) -> None:
        response = case.call(base_url=base_url, session=session, headers=authorization, timeout=60)
        tally.requests += 1
        tally.statuses[response.status_code] += 1
        where = f"{case.method} {case.formatted_path} ({mode.value})"
        problem = contract_problem((case.method.upper(), operation.path), response, pages)
        if problem is None:
            try:
                case.validate_response(response, excluded_checks=EXCLUDED_CHECKS)
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis' failures
                problem = " ".join(str(exc).split())[:500]
        if problem is not None:
            tally.failures.append(f"{where}: {problem}")

    return run
