"""Path-like article ids (`2024/05/title`, `Web/API/Fetch`): accepted everywhere an id goes,
written as a path or percent-encoded, over HTTP and on the CLI (`service.ingest.records`)."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from service.cli import cli
from service.config.settings import Settings
from tests.conftest import HASHING, HEATWAVE, HTTP_TIMEOUT, Server

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
        (".", "'.' or '..'"),
        ("..", "'.' or '..'"),
        ("../etc", "'.' or '..'"),
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


@pytest.mark.parametrize("written", ["%2e", "%2e%2e", "%2E%2e", "."])
def test_a_dot_id_in_the_url_is_refused_and_nothing_is_stored(
    client: FlaskClient, written: str
) -> None:
    before = client.get("/catalog/articles").get_json()["total"]
    response = client.put(f"/articles/{written}", json=ARTICLE)
    assert response.status_code == 400, response.get_json()
    assert "'.' or '..'" in str(response.get_json())
    assert client.get("/catalog/articles").get_json()["total"] == before


def test_dot_ids_in_an_ingest_file_are_refused_naming_the_line(tmp_path: Path) -> None:
    source = tmp_path / "dots.jsonl"
    lines = [{"id": "fine", "title": "t"}, {"id": ".", "title": "t"}, {"id": "..", "title": "t"}]
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = CliRunner(env={"RELATED_MODEL": HASHING}).invoke(
        cli, ["ingest", str(source), "--json", "--quiet", "--data-dir", str(tmp_path / "d")]
    )
    assert result.exit_code == 2
    details = json.loads(result.stdout)["details"]
    assert [(d["where"], d["field"]) for d in details] == [("line 2", "id"), ("line 3", "id")]
    assert all("'.' or '..'" in d["reason"] for d in details)


def _raw(server: Server, request: bytes) -> tuple[int, dict[str, object]]:
    parts = urlsplit(server.base)
    with socket.create_connection((parts.hostname, parts.port), timeout=HTTP_TIMEOUT) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


def test_over_http_dot_ids_and_paths_that_are_not_utf8_are_refused_naming_the_problem(
    settings: Settings, start_server: Callable[..., Server]
) -> None:
    server = start_server(settings.data_dir, workers=1)
    listed = b"GET /catalog/articles HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    before = _raw(server, listed)[1]["total"]
    body = json.dumps({"title": "t"}).encode()
    put = b"PUT /articles/%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    put += b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    for written in (b"%2e%2e", b"%2e", b"..", b"a/%2e%2e/b"):
        status, answer = _raw(server, (put % written) + body)
        assert (status, answer["code"]) == (400, "invalid_articles"), (written, answer)
        assert "'.' or '..'" in str(answer), answer
    for path in (b"/articles/%ff%fe", b"/articles/%c3/related", b"/articles/caf%e9"):
        get = b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path
        status, answer = _raw(server, get)
        assert (status, answer["ok"], answer["code"]) == (400, False, "invalid_parameter")
        assert "not valid UTF-8" in str(answer["error"]), answer
    status, answer = _raw(server, (put % b"%ff%fe") + body)
    assert status == 400 and "not valid UTF-8" in str(answer["error"])
    status, answer = _raw(server, listed)
    assert status == 200 and answer["total"] == before
    # Valid UTF-8, percent-encoded, still names its article.
    accent = quote("café/crème", safe="/").encode()
    status, answer = _raw(server, (put % accent) + body)
    assert status == 201 and answer["article"]["id"] == "café/crème"  # type: ignore[index]
