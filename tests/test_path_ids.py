"""Path-like article ids (`2024/05/title`, `Web/API/Fetch`): accepted everywhere an id goes,
written as a path or percent-encoded, over HTTP and on the CLI (`service.ingest.records`)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from service.cli import cli
from service.config.settings import Settings
from tests.conftest import HEATWAVE

SLUG = "2024/05/heatwave-grid-record"
ARTICLE = {
    "title": "Heatwave pushes the grid to a record",
    "body": "Electricity demand across the region hit an all-time high as the heat went on.",
    "section": "Climate",
}


@pytest.mark.parametrize("written", [SLUG, quote(SLUG, safe="")])
def test_a_path_like_id_works_in_every_route_as_a_path_or_percent_encoded(
    client: FlaskClient, written: str
) -> None:
    assert client.put(f"/articles/{written}", json=ARTICLE).status_code == 201
    assert client.get(f"/articles/{written}").get_json()["article"]["id"] == SLUG
    related = client.get(f"/articles/{written}/related?k=3").get_json()
    assert related["article"]["id"] == SLUG and len(related["related"]) == 3
    assert client.post(f"/articles/{written}/related", json={"k": 2}).status_code == 200
    pins = client.put(f"/articles/{written}/pins", json={"ids": [HEATWAVE]}).get_json()
    assert pins == {"ok": True, "article": SLUG, "ids": [HEATWAVE]}
    assert client.put(f"/articles/{HEATWAVE}/blocks", json={"ids": [SLUG]}).status_code == 200
    assert client.get(f"/articles/{written}/blocks").get_json()["ids"] == []
    assert client.put(f"/articles/{written}/curated", json={"ids": [HEATWAVE]}).status_code == 200
    assert client.get(f"/articles/{written}/curated").get_json()["links"][0]["id"] == HEATWAVE
    assert client.delete(f"/articles/{written}").get_json() == {"ok": True, "deleted": SLUG}
    assert client.get(f"/articles/{written}").status_code == 404


@pytest.mark.parametrize(
    ("article_id", "reason"),
    [
        ("/leading", "must not start or end with '/'"),
        ("trailing/", "must not start or end with '/'"),
        ("a//b", "contain '//'"),
        ("a/./b", "'.' or '..'"),
        ("a/../b", "'.' or '..'"),
        ("news/related", "must not end in '/related'"),
        ("news/pins", "must not end in '/pins'"),
        ("tab\there", "control characters"),
    ],
)
def test_ids_urls_could_not_carry_are_refused_with_the_reason(
    client: FlaskClient, article_id: str, reason: str
) -> None:
    response = client.post("/articles", json={"id": article_id, "title": "t"})
    assert response.status_code == 400 and reason in response.get_json()["error"]


def test_the_cli_takes_path_like_ids(settings: Settings) -> None:
    runner = CliRunner(env={"RELATED_MODEL": "hashing"})
    d = ["--data-dir", str(settings.data_dir)]
    source = settings.data_dir.parent / "slug.jsonl"
    source.write_text('{"id": "Web/API/Fetch", "title": "The Fetch API", "body": "fetch"}\n')
    assert runner.invoke(cli, ["ingest", str(source), "--quiet", *d]).exit_code == 0
    shown = runner.invoke(cli, ["articles", "show", "Web/API/Fetch", *d])
    assert shown.exit_code == 0 and '"id": "Web/API/Fetch"' in shown.output
    related = runner.invoke(cli, ["related", "Web/API/Fetch", "--k", "2", *d])
    assert related.exit_code == 0 and related.output.startswith("Web/API/Fetch: The Fetch API")
    pinned = runner.invoke(cli, ["pins", HEATWAVE, "Web/API/Fetch", *d])
    assert pinned.output.strip() == "Web/API/Fetch"
