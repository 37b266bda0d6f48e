"""End to end over real HTTP (`service.web.server`): a `related serve` process on the built sample."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from click.testing import CliRunner

from service.cli import cli
from service.config.settings import Settings
from tests.conftest import HTTP_TIMEOUT, REAL_MODEL, Server, load_sample_related, wait_for


def test_curated_links_are_found_in_the_top_five_and_no_list_holds_its_own_article(
    real_sample_dir: Path, start_server: Callable[..., Server]
) -> None:
    server = start_server(real_sample_dir, model=REAL_MODEL)
    curated = load_sample_related()
    hits = 0
    for article_id, links in curated.items():
        response = requests.get(
            server.url(f"/articles/{article_id}/related?k=5"), timeout=HTTP_TIMEOUT
        )
        assert response.status_code == 200
        ids = [item["id"] for item in response.json()["related"]]
        assert article_id not in ids and len(ids) == 5
        hits += bool(set(ids) & set(links))
    assert hits / len(curated) >= 0.8, (
        f"only {hits} of {len(curated)} have a curated link in the top 5"
    )


def test_cli_related_gives_the_same_answer_as_http(
    sample_dir: Path, start_server: Callable[..., Server]
) -> None:
    server = start_server(sample_dir, workers=1)
    article_id = "2026-05-11-northport-fc-win-league"
    over_http = requests.get(
        server.url(f"/articles/{article_id}/related?k=4"), timeout=HTTP_TIMEOUT
    ).json()
    result = CliRunner(env={"RELATED_MODEL": "hashing"}).invoke(
        cli, ["related", article_id, "--k", "4", "--json", "--data-dir", str(sample_dir)]
    )
    assert result.exit_code == 0, result.output
    # The list is the same; `recommendation_id` and `variant` name an answer a server gave a
    # page (its settings and the experiment running there), which a command line is not.
    served = {k: v for k, v in over_http.items() if k not in ("recommendation_id", "variant")}
    assert over_http["variant"] == "defaults" and over_http["recommendation_id"]
    assert json.loads(result.output) == served


def test_readers_see_no_error_and_no_empty_answer_during_a_rebuild(
    sample_copy: Settings, start_server: Callable[..., Server]
) -> None:
    server = start_server(sample_copy.data_dir)
    ids = [
        "2026-03-02-heatwave-grid-record",
        "2026-05-11-northport-fc-win-league",
        "2026-09-29-measles-outbreak-schools",
    ]
    failures: list[str] = []
    answers = 0
    stop = threading.Event()

    def read() -> None:
        nonlocal answers
        while not stop.is_set():
            for article_id in ids:
                try:
                    response = requests.get(
                        server.url(f"/articles/{article_id}/related"), timeout=HTTP_TIMEOUT
                    )
                    related = response.json().get("related") if response.ok else None
                    if not related:
                        failures.append(f"{response.status_code} {response.text[:200]}")
                    answers += 1
                except requests.RequestException as exc:
                    failures.append(repr(exc))

    before = requests.get(server.url("/index"), timeout=HTTP_TIMEOUT).json()["generation"]
    posted = requests.post(
        server.url("/articles"),
        json=[
            {
                "id": "during-rebuild",
                "title": "Grid operator warns of winter shortages",
                "body": "The operator said electricity reserves would be tight in January.",
            }
        ],
        timeout=HTTP_TIMEOUT,
    )
    assert posted.status_code == 201
    reader = threading.Thread(target=read)
    reader.start()
    try:
        response = requests.post(server.url("/index/rebuild"), timeout=HTTP_TIMEOUT)
        assert response.status_code == 202 and response.json()["state"] == "started"
        state: dict[str, Any] = {}

        def rebuilt() -> bool:
            state.update(requests.get(server.url("/index"), timeout=HTTP_TIMEOUT).json())
            return bool(state["generation"] != before and not state["rebuild_running"])

        wait_for(rebuilt, "the rebuild's new generation")
        time.sleep(1)
    finally:
        stop.set()
        reader.join()
    assert failures == []
    assert answers > 10
    assert state["articles"] == 67 and state["changed_since_build"] == 0
    assert state["rebuild"]["state"] == "succeeded" and state["rebuild"]["result"]["encoded"] == 1
    # Every worker now answers the new article from the index, not live.
    for _ in range(6):
        body = requests.get(
            server.url("/articles/during-rebuild/related"), timeout=HTTP_TIMEOUT
        ).json()
        assert body["source"] == "index" and body["index"]["generation"] == state["generation"]
