"""Rebuilds that follow ingestion (`service.build.auto_rebuild`): after a quiet period, on their own."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from service.build.auto_rebuild import decide
from service.config.settings import Settings
from service.generations.generation import CurrentGeneration
from service.store import ArticleStore
from tests.conftest import HTTP_TIMEOUT, Server, wait_for


def test_a_rebuild_is_due_only_after_a_quiet_period_and_only_when_articles_changed(
    sample_copy: Settings,
) -> None:
    settings = sample_copy.replace(auto_rebuild=30)
    store = ArticleStore(settings.db_path)
    generations = CurrentGeneration(settings.generations_dir)
    now = time.time()
    assert not decide(settings, store, generations, now).rebuild  # nothing changed
    store.set_pins("2026-03-02-heatwave-grid-record", [])  # editorial: no rebuild needed
    assert not decide(settings, store, generations, now).rebuild
    from service.article import Article

    with store.write() as writer:
        writer.upsert(Article(id="fresh", title="A fresh article", body="Trams at night."))
    written = store.written_at() or 0.0
    soon = decide(settings, store, generations, written + 5)
    assert not soon.rebuild and "written" in soon.why
    later = decide(settings, store, generations, written + 31)
    assert later.rebuild and "1 articles changed" in later.why
    assert not decide(settings.replace(auto_rebuild=0), store, generations, written + 99).rebuild


def test_the_server_rebuilds_by_itself_after_an_ingest(
    sample_copy: Settings, start_server: Callable[..., Server]
) -> None:
    server = start_server(sample_copy.data_dir, env={"RELATED_AUTO_REBUILD": "1"})
    before = requests.get(server.url("/index"), timeout=HTTP_TIMEOUT).json()["generation"]
    article = {"title": "Night trams extended to Sundays", "body": "Trams run all night."}
    assert requests.put(server.url("/articles/sunday-trams"), json=article, timeout=HTTP_TIMEOUT).ok
    live = requests.get(server.url("/articles/sunday-trams/related"), timeout=HTTP_TIMEOUT).json()
    assert live["source"] == "live"
    state: dict[str, Any] = {}

    def rebuilt() -> bool:
        state.update(requests.get(server.url("/index"), timeout=HTTP_TIMEOUT).json())
        return bool(state["generation"] != before and state["changed_since_build"] == 0)

    wait_for(rebuilt, "the automatic rebuild")
    assert state["generation"] != before, state
    body = requests.get(server.url("/articles/sunday-trams/related"), timeout=HTTP_TIMEOUT).json()
    assert body["source"] == "index"
