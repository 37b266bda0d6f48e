"""`GET /articles/<id>?view=ranked` and `related articles show --view ranked`: the article with
its body as the ranking read it, over a real server and through the CLI, on the sample site
ingested as scraped text (the body stored as sent)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from embeddings.encoder import Encoder
from service.build.builder import build
from service.cli import cli
from service.ingest.harvest import ingest_harvests
from service.ingest.page import Harvest
from service.store import ArticleStore
from tests.conftest import HASHING, HTTP_TIMEOUT, Server, make_settings
from tests.sitegen import Site, load_site, scraped_records


@pytest.fixture(scope="module")
def site() -> Site:
    return load_site()


@pytest.fixture(scope="module")
def scraped_dir(site: Site, tmp_path_factory: pytest.TempPathFactory, hashing: Encoder) -> Path:
    settings = make_settings(tmp_path_factory.mktemp("scraped") / "data")
    with ArticleStore(settings.db_path) as store:
        harvests = [Harvest(r, (), r["id"]) for r in scraped_records(site)]
        ingest_harvests(store, harvests)
        build(settings, store, hashing)
    return settings.data_dir


def test_the_ranked_view_over_http_shows_the_text_without_chrome(
    site: Site, scraped_dir: Path, start_server: Callable[..., Server]
) -> None:
    server = start_server(scraped_dir, workers=1)
    for article in site.articles[:10]:
        url = server.url(f"/articles/{article.page_id}")
        stored = requests.get(url, timeout=HTTP_TIMEOUT).json()
        assert "Listen Live" in stored["article"]["body"]
        ranked = requests.get(url, params={"view": "ranked"}, timeout=HTTP_TIMEOUT).json()
        assert ranked["ok"] is True and ranked["view"] == "ranked"
        assert ranked["article"]["body"] == article.clean_body
        assert {k: v for k, v in ranked["article"].items() if k != "body"} == {
            k: v for k, v in stored["article"].items() if k != "body"
        }
    response = requests.get(
        server.url(f"/articles/{site.articles[0].page_id}"),
        params={"view": "tokens"},
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 400
    assert response.json() == {
        "ok": False,
        "status": 400,
        "code": "invalid_parameter",
        "error": "Parameter 'view' must be one of stored, ranked, got 'tokens'",
    }


def test_the_cli_shows_the_same_ranked_view(site: Site, scraped_dir: Path) -> None:
    article = site.articles[3]
    runner = CliRunner(env={"RELATED_MODEL": HASHING})
    args = ["articles", "show", article.page_id, "--data-dir", str(scraped_dir)]
    ranked = runner.invoke(cli, [*args, "--view", "ranked"])
    assert ranked.exit_code == 0, ranked.output
    assert json.loads(ranked.output)["body"] == article.clean_body
    stored = runner.invoke(cli, args)
    assert "Get short URL" in json.loads(stored.output)["body"]
