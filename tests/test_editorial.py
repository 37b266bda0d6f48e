"""Pins and blocks (`service.editorial.overrides`) over HTTP and the CLI."""

from __future__ import annotations

from click.testing import CliRunner
from flask.testing import FlaskClient

from service.cli import cli
from service.config.settings import Settings
from tests.conftest import HEATWAVE
from tests.lists import ids, related


def test_pins_come_first_in_order_and_blocked_never(client: FlaskClient) -> None:
    pins = ["2026-10-20-jazz-festival-lineup", "2026-05-11-northport-fc-win-league"]
    assert client.put(f"/articles/{HEATWAVE}/pins", json={"ids": pins}).status_code == 200
    first = ids(related(client, k=5))[0:2]
    blocked = ids(related(client, k=5))[2]
    client.put(f"/articles/{HEATWAVE}/blocks", json={"ids": [blocked]})
    client.put("/blocks", json={"ids": ["2026-03-04-heat-health-warning-elderly"]})
    body = related(client, k=5)
    assert first == pins and ids(body)[:2] == pins and body["related"][0]["pinned"] is True
    assert blocked not in ids(body) and "2026-03-04-heat-health-warning-elderly" not in ids(body)
    assert len(body["related"]) == 5
    assert client.get(f"/articles/{HEATWAVE}/pins").get_json()["ids"] == pins


def test_when_pins_fill_k_no_search_is_made(client: FlaskClient) -> None:
    pins = ["2026-10-20-jazz-festival-lineup", "2026-05-11-northport-fc-win-league"]
    client.put(f"/articles/{HEATWAVE}/pins", json={"ids": pins})
    body = related(client, k=2)
    assert body["source"] == "pins" and ids(body) == pins


def test_pins_need_a_list_of_ids_and_an_existing_article(client: FlaskClient) -> None:
    assert client.put(f"/articles/{HEATWAVE}/pins", json={"ids": "x"}).status_code == 400
    assert client.put(f"/articles/{HEATWAVE}/pins", json={"ids": [HEATWAVE]}).status_code == 400
    assert client.put("/articles/nope/pins", json={"ids": ["a"]}).status_code == 404


def test_cli_pins_and_blocks(settings: Settings) -> None:
    runner, d = CliRunner(env={"RELATED_MODEL": "hashing"}), str(settings.data_dir)
    result = runner.invoke(
        cli, ["pins", HEATWAVE, "2026-10-20-jazz-festival-lineup", "--data-dir", d]
    )
    assert result.exit_code == 0 and result.output.strip() == "2026-10-20-jazz-festival-lineup"
    blocked = ["2026-05-11-northport-fc-win-league", "2026-09-29-measles-outbreak-schools"]
    assert runner.invoke(cli, ["blocks", *blocked, "--data-dir", d]).output.split() == blocked
    out = runner.invoke(cli, ["related", HEATWAVE, "--k", "2", "--data-dir", d]).output
    assert "pinned  2026-10-20-jazz-festival-lineup" in out


JAZZ = "2026-10-20-jazz-festival-lineup"
LEAGUE = "2026-05-11-northport-fc-win-league"


def test_pins_and_blocks_of_ids_that_do_not_exist_are_refused(client: FlaskClient) -> None:
    for path in (f"/articles/{HEATWAVE}/pins", f"/articles/{HEATWAVE}/blocks", "/blocks"):
        response = client.put(path, json={"ids": [JAZZ, "no-such-article"]})
        body = response.get_json()
        assert response.status_code == 400 and body["code"] == "unknown_articles"
        assert "'no-such-article'" in body["error"] and body["details"] == ["no-such-article"]
        assert client.get(path).get_json()["ids"] == []  # nothing changed


def test_an_article_cannot_be_blocked_under_itself(client: FlaskClient) -> None:
    response = client.put(f"/articles/{HEATWAVE}/blocks", json={"ids": [HEATWAVE]})
    assert response.status_code == 400 and "blocked under itself" in response.get_json()["error"]


def test_blocks_win_over_pins(client: FlaskClient) -> None:
    assert client.put(f"/articles/{HEATWAVE}/pins", json={"ids": [JAZZ, LEAGUE]}).status_code == 200
    assert ids(related(client, k=5))[:2] == [JAZZ, LEAGUE]
    # A global block added after the pin hides it...
    assert client.put("/blocks", json={"ids": [JAZZ]}).status_code == 200
    body = related(client, k=5)
    assert JAZZ not in ids(body) and ids(body)[0] == LEAGUE and len(body["related"]) == 5
    # ...and pinning a blocked id is refused, globally blocked or under the article.
    response = client.put(f"/articles/{HEATWAVE}/pins", json={"ids": [JAZZ]})
    assert response.status_code == 400 and "blocks win over pins" in response.get_json()["error"]
    assert client.delete("/blocks").get_json() == {"ok": True, "ids": []}
    assert ids(related(client, k=5))[:2] == [JAZZ, LEAGUE]
    client.put(f"/articles/{HEATWAVE}/blocks", json={"ids": [LEAGUE]})
    assert client.put(f"/articles/{HEATWAVE}/pins", json={"ids": [LEAGUE]}).status_code == 400


def test_cli_pins_with_ids_and_clear_is_an_error(settings: Settings) -> None:
    runner = CliRunner(env={"RELATED_MODEL": "hashing"})
    result = runner.invoke(
        cli, ["pins", HEATWAVE, JAZZ, "--clear", "--data-dir", str(settings.data_dir)]
    )
    assert result.exit_code == 2 and "not both" in result.output
    shown = runner.invoke(cli, ["pins", HEATWAVE, "--data-dir", str(settings.data_dir)])
    assert shown.output.strip() == "(no pins)"
