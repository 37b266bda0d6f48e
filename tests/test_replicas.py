"""A primary and two read replicas on loopback, each with its own data directory, sharing only
the published location: an ingest and a rebuild on the primary reach every replica, and so do
pins; a replica whose follower dies mid-download keeps serving its last complete generation, and
its restarted follower finishes the job. (How fast they arrive is bench/bench_replicas.py's.)"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from service.config.settings import Settings
from tests.conftest import HEATWAVE, HTTP_TIMEOUT, Server, wait_for

FAST = {"RELATED_SYNC_INTERVAL": "0.3"}
NEW = [
    {
        "id": f"grid-follow-up-{i}",
        "title": f"Grid operator warns of a second heatwave peak, part {i}",
        "body": "Electricity demand and the grid: air conditioners, reserve margins, demand "
        "response and factories paid to switch off during the heatwave peak.",
        "section": "Climate",
        "tags": ["heatwave", "electricity", "grid"],
        "published": "2026-03-10",
        "lang": "en",
    }
    for i in range(3)
]


def generation_of(server: Server) -> str | None:
    response = requests.get(server.url("/readyz"), timeout=HTTP_TIMEOUT)
    return response.json().get("generation") if response.status_code == 200 else None


def related(server: Server, article_id: str) -> dict[str, Any]:
    response = requests.get(server.url(f"/articles/{article_id}/related?k=6"), timeout=HTTP_TIMEOUT)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body["related"]]


def test_replicas_on_loopback_serve_what_the_primary_builds_and_pins(
    sample_copy: Settings, tmp_path: Path, start_server: Callable[..., Server]
) -> None:
    location = tmp_path / "published"
    primary = start_server(sample_copy.data_dir, env={"RELATED_PUBLISH": str(location), **FAST})
    armed = tmp_path / "follower-died"
    armed.touch()  # the failpoint fires only once this file is gone
    replicas = [
        start_server(
            tmp_path / name,
            workers=1,
            env={
                "RELATED_FOLLOW": str(location),
                "RELATED_PRIMARY_URL": primary.base,
                **FAST,
                **extra,
            },
        )
        for name, extra in (
            ("replica-a", {}),
            (
                "replica-b",
                {
                    "RELATED_FAILPOINT": "replica-mid-download",
                    "RELATED_FAILPOINT_ONCE": str(armed),
                },
            ),
        )
    ]
    first = generation_of(primary)
    wait_for(lambda: all(generation_of(r) == first for r in replicas), "the first generation")
    for replica in replicas:
        assert ids(related(replica, HEATWAVE)) == ids(related(primary, HEATWAVE))
        refused = requests.put(
            replica.url(f"/articles/{HEATWAVE}/pins"), json={"ids": ["x"]}, timeout=HTTP_TIMEOUT
        )
        assert refused.status_code == 403
        assert refused.json()["code"] == "read_only_replica"
        assert primary.base in refused.json()["error"]

    # An ingest and a rebuild on the primary; replica B's follower dies mid-download.
    armed.unlink()
    assert (
        requests.post(primary.url("/articles"), json=NEW, timeout=HTTP_TIMEOUT).status_code == 201
    )
    assert requests.post(primary.url("/index/rebuild"), timeout=HTTP_TIMEOUT).status_code == 202
    wait_for(lambda: generation_of(primary) not in (None, first), "the primary's rebuild")
    second = generation_of(primary)

    def caught_up() -> bool:
        for replica in replicas:
            # Never a partial generation: the first one answers until the second is complete.
            assert related(replica, HEATWAVE)["index"]["generation"] in (first, second)
        return all(generation_of(r) == second for r in replicas)

    wait_for(caught_up, "every replica on the rebuilt generation")
    assert armed.exists()  # B's follower did die, and its restart finished the download
    assert not list((tmp_path / "replica-b" / "generations").glob(".download-*"))
    for replica in replicas:
        assert ids(related(replica, NEW[0]["id"])) == ids(related(primary, NEW[0]["id"]))

    # Pins change without a rebuild: the primary publishes them, replicas apply them.
    pinned = NEW[2]["id"]
    response = requests.put(
        primary.url(f"/articles/{HEATWAVE}/pins"), json={"ids": [pinned]}, timeout=HTTP_TIMEOUT
    )
    assert response.status_code == 200
    wait_for(
        lambda: all(ids(related(r, HEATWAVE))[0] == pinned for r in replicas),
        "the pin on every replica",
    )
