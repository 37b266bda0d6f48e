"""The access log (`service.web.access_log`) never shows the value of a query parameter named
like a secret (`service.web.log_redaction`): in the text line of a real server and in the JSON
line of an app in process, while every other parameter is logged as sent."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import requests

from embeddings.hashing import HashingEncoder
from service.config.settings import Settings
from service.web.app import create_app
from service.web.log_redaction import REDACTED, redacted_query, secret_name
from tests.conftest import HEATWAVE, HTTP_TIMEOUT, Server, make_settings, wait_for

SECRETS = [
    "token",
    "access_token",
    "api_key",
    "apiKey",
    "key",
    "auth",
    "X-Auth-Token",
    "password",
    "passwd",
    "client_secret",
    "signature",
    "X-Amz-Signature",
    "sig",
    "session_id",
    "%74oken",  # 'token', percent-encoded
    "code",
]


@pytest.mark.parametrize("name", SECRETS)
def test_names_like_secrets_are_caught(name: str) -> None:
    assert secret_name(name)


@pytest.mark.parametrize("name", ["k", "min_score", "include_body", "design", "q", "section"])
def test_the_services_own_options_and_plain_words_are_not(name: str) -> None:
    assert not secret_name(name)


def test_a_redacted_query_keeps_every_other_byte() -> None:
    query = "k=5&token=abc%20def&min_score=0.2&api_key&x=1&Signature=zz"
    assert redacted_query(query) == (
        f"k=5&token={REDACTED}&min_score=0.2&api_key={REDACTED}&x=1&Signature={REDACTED}"
    )
    assert redacted_query("k=5&fields=id,title") == "k=5&fields=id,title"
    assert redacted_query("") == ""


def test_a_server_logs_no_secret_from_a_url(
    start_server: Callable[..., Server], settings: Settings
) -> None:
    server = start_server(settings.data_dir, workers=1, env={"RELATED_ACCESS_LOG": "text"})
    url = server.url(f"/articles/{HEATWAVE}/related?k=3&token=s3cr3t-t0ken&api_key=s3cr3t-k3y")
    response = requests.get(url, timeout=HTTP_TIMEOUT)
    assert response.status_code == 400  # token and api_key are not options: refused, and logged
    rid = response.headers["X-Request-Id"]
    wait_for(lambda: f"id={rid}" in server.log.read_text(), "the access line")
    line = next(line for line in server.log.read_text().splitlines() if f"id={rid}" in line)
    assert "s3cr3t" not in server.log.read_text()
    assert f"?k=3&token={REDACTED}&api_key={REDACTED} HTTP/1.1" in line


def test_the_json_line_has_the_redacted_query(
    settings: Settings, hashing: HashingEncoder, caplog: pytest.LogCaptureFixture
) -> None:
    json_settings = make_settings(settings.data_dir, access_log="json")
    client = create_app(json_settings, encoder=hashing).test_client()
    with caplog.at_level("INFO", logger="related.access"):
        client.get(f"/articles/{HEATWAVE}?password=hunter2&fields=id")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "related.access"]
    assert lines[-1]["query"] == f"password={REDACTED}&fields=id"
    assert "hunter2" not in caplog.text
