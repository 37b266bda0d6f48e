"""Impressions and clicks: answers that name themselves, `POST /events` (validation, dedupe,
bots, rate limits, the bound, retention, nothing identifying stored) and `GET /go/...`
(redirects only to the target's own stored URL), in process and over a real server."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from embeddings.hashing import HashingEncoder
from service.config.settings import Settings
from service.store.events import Event, EventStore
from service.web.app import create_app
from service.web.events import KEY, click_url
from service.web.throttle import BotFilter, Throttle
from tests.conftest import COPY, HEATWAVE, HTTP_TIMEOUT, UNDATED, Server, wait_for

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0"}


def app_for(settings: Settings, hashing: HashingEncoder, **changes: Any) -> Flask:
    return create_app(settings.replace(**changes), encoder=hashing)


def impression(rid: str = "r1", visitor: str = "reader-1", **more: Any) -> dict[str, Any]:
    event = {
        "type": "impression",
        "recommendation_id": rid,
        "article": HEATWAVE,
        "variant": "defaults",
        "visitor": visitor,
    }
    return {**event, **more}


def click(rid: str = "r1", visitor: str = "reader-1", **more: Any) -> dict[str, Any]:
    return {**impression(rid, visitor), "type": "click", "target": COPY, "position": 0, **more}


def send(client: FlaskClient, events: list[Any], headers: dict[str, str] | None = None) -> Any:
    return client.post(
        "/events",
        data=json.dumps({"events": events}),
        content_type="text/plain;charset=UTF-8",  # what navigator.sendBeacon sends
        headers=BROWSER if headers is None else headers,
    )


def stored(app: Flask) -> list[Event]:
    events: EventStore = app.extensions[KEY].events
    assert events.flush()
    return events.rows()


def test_an_answer_names_its_recommendation_and_variant(client: FlaskClient) -> None:
    first = client.get(f"/articles/{HEATWAVE}/related?k=3").get_json()
    again = client.get(f"/articles/{HEATWAVE}/related?k=3&visitor=someone").get_json()
    other = client.get(f"/articles/{HEATWAVE}/related?k=4").get_json()
    assert first["variant"] == again["variant"] == "defaults"
    assert len(first["recommendation_id"]) == 16
    # No experiment: the visitor key changes nothing, not the id nor the ETag.
    assert again["recommendation_id"] == first["recommendation_id"]
    assert other["recommendation_id"] != first["recommendation_id"]
    etags = {
        client.get(f"/articles/{HEATWAVE}/related?k=3{q}").headers["ETag"]
        for q in ("", "&visitor=a", "&visitor=b")
    }
    assert len(etags) == 1


def test_a_beacon_batch_is_stored_without_the_address_or_the_raw_visitor_key(
    client: FlaskClient, settings: Settings
) -> None:
    answer = send(
        client, [impression(visitor="secret-visitor-7"), click(visitor="secret-visitor-7")]
    )
    assert answer.status_code == 202
    assert answer.get_json() == {"ok": True, "accepted": 2, "dropped": 0}
    rows = stored(client.application)
    assert [(r.type, r.article, r.target, r.position) for r in rows] == [
        ("impression", HEATWAVE, "", None),
        ("click", HEATWAVE, COPY, 0),
    ]
    assert rows[0].visitor == rows[1].visitor != "secret-visitor-7"
    raw = b"".join(p.read_bytes() for p in settings.data_dir.glob("events.sqlite3*"))
    assert b"secret-visitor-7" not in raw and b"127.0.0.1" not in raw and b"Firefox" not in raw


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ("not an object", "Event 1 must be an object"),
        (impression(type="view"), "Event 1: field 'type' must be 'impression' or 'click'"),
        (impression(recommendation_id=""), "Event 1: field 'recommendation_id'"),
        (impression(recommendation_id="x" * 65), "Event 1: field 'recommendation_id'"),
        (impression(article=7), "Event 1: field 'article'"),
        (impression(variant="mine"), "Event 1: field 'variant' must be one of"),
        (impression(visitor="v" * 65), "Event 1: field 'visitor'"),
        (impression(ip="1.2.3.4"), "Event 1: unknown field 'ip'"),
        (click(target=None), "Event 1: field 'target'"),
        (click(position=-1), "Event 1: field 'position'"),
        (click(position=True), "Event 1: field 'position'"),
        (click(position="2"), "Event 1: field 'position'"),
    ],
)
def test_a_bad_event_refuses_the_batch_naming_its_index_and_field(
    client: FlaskClient, event: Any, message: str
) -> None:
    answer = send(client, [impression(), event])
    assert answer.status_code == 400
    body = answer.get_json()
    assert body["code"] == "invalid_parameter" and body["error"].startswith(message)
    assert KEY not in client.application.extensions or stored(client.application) == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "invalid_json"),
        (b"{not json", "invalid_json"),
        (b'{"events": []}', "invalid_parameter"),
        (b'{"events": {}}', "invalid_parameter"),
        (
            json.dumps({"events": [impression(visitor=str(i)) for i in range(101)]}).encode(),
            "invalid_parameter",
        ),
        (b'{"events": [' + b'{"a": "' + b"x" * 70_000 + b'"}]}', "payload_too_large"),
    ],
)
def test_a_bad_batch_is_a_clear_error(client: FlaskClient, body: bytes, code: str) -> None:
    answer = client.post("/events", data=body, content_type="text/plain", headers=BROWSER)
    assert answer.get_json()["code"] == code
    assert answer.status_code in (400, 413)


def test_the_same_event_twice_is_stored_once(client: FlaskClient) -> None:
    send(client, [impression(), click()])
    send(client, [impression(), click(), impression(visitor="reader-2")])
    rows = stored(client.application)
    assert [r.type for r in rows] == ["impression", "click", "impression"]
    assert rows[0].visitor != rows[2].visitor


@pytest.mark.parametrize(
    "agent", ["Googlebot/2.1 (+http://www.google.com/bot.html)", "curl/8.5", "", "  "]
)
def test_events_from_bots_are_dropped(client: FlaskClient, agent: str) -> None:
    answer = send(client, [impression(), click()], headers={"User-Agent": agent})
    assert answer.status_code == 202
    assert answer.get_json() == {"ok": True, "accepted": 0, "dropped": 2}
    assert stored(client.application) == []


def test_one_address_is_limited_to_its_bucket(settings: Settings, hashing: HashingEncoder) -> None:
    client = app_for(settings, hashing, events_rate=1.0).test_client()  # a bucket of 10
    answers = [send(client, [impression(visitor=f"{b}-{i}") for i in range(4)]) for b in range(3)]
    accepted = [a.get_json()["accepted"] for a in answers]
    assert sum(accepted) == 10 and [a.get_json()["dropped"] for a in answers][-1] >= 1
    assert len(stored(client.application)) == 10


def test_a_bucket_refills_with_time_and_the_global_cap_binds_everyone() -> None:
    now = [0.0]
    throttle = Throttle(rate=2.0, global_rate=3.0, clock=lambda: now[0])  # 20 and 30 tokens
    assert throttle.allow("a", 25) == 20
    assert throttle.allow("b", 25) == 10  # the global bucket had 10 left
    assert throttle.allow("c", 1) == 0
    now[0] = 2.0  # 4 more for a, 6 more for everyone
    assert throttle.allow("a", 10) == 4
    assert throttle.allow("b", 10) == 2
    assert BotFilter("bot,spider").is_bot("Mozilla/5.0 (compatible; bingbot/2.0)")


def test_the_table_is_bounded(settings: Settings, hashing: HashingEncoder) -> None:
    app = app_for(settings, hashing, events_max_rows=3)
    send(app.test_client(), [impression(visitor=str(i)) for i in range(5)])
    rows = stored(app)
    assert len(rows) == 3
    assert app.extensions[KEY].events.dropped_full == 2


def test_retention_deletes_what_is_older(tmp_path: Path) -> None:
    events = EventStore(tmp_path / "events.sqlite3", max_rows=100, retention_days=1.0)
    now = time.time()

    def event(at: float, rid: str) -> Event:
        return Event(at, "impression", rid, "a", "", None, "defaults", "", "v")

    events.submit([event(now - 3 * 86400, "old"), event(now - 3600, "new")])
    assert events.flush()
    assert events.prune() == 1
    assert [e.recommendation_id for e in events.rows()] == ["new"]


def test_events_off_store_nothing(settings: Settings, hashing: HashingEncoder) -> None:
    app = app_for(settings, hashing, events=False)
    answer = send(app.test_client(), [impression()])
    assert answer.get_json() == {"ok": True, "accepted": 0, "dropped": 1}
    assert not (settings.data_dir / "events.sqlite3").exists()


def test_go_records_the_click_and_redirects_to_the_targets_stored_url(
    client: FlaskClient,
) -> None:
    target_url = client.get(f"/articles/{COPY}").get_json()["article"]["url"]
    link = click_url(HEATWAVE, COPY, "r9", "defaults", 2)
    answer = client.get(link, headers=BROWSER)
    assert answer.status_code == 302 and answer.headers["Location"] == target_url
    assert answer.headers["Cache-Control"] == "no-store"
    rows = stored(client.application)
    assert [(r.type, r.recommendation_id, r.article, r.target, r.position) for r in rows] == [
        ("click", "r9", HEATWAVE, COPY, 2)
    ]
    # A link with its parameters cut off still takes the reader there, counting nothing.
    assert client.get(f"/go/{HEATWAVE}/{COPY}", headers=BROWSER).status_code == 302
    assert len(stored(client.application)) == 1


def test_go_is_never_an_open_redirect(client: FlaskClient) -> None:
    for path in (
        f"/go/{HEATWAVE}/https://evil.example/",
        f"/go/{HEATWAVE}//evil.example",
        "/go/https://evil.example/x",
        f"/go/nothing/{COPY}",
    ):
        answer = client.get(path, headers=BROWSER)
        assert answer.status_code == 404 and answer.get_json()["code"] == "article_not_found"
        assert "Location" not in answer.headers
    for url in ("javascript:alert(1)", "//evil.example/", None):
        fields = {"title": "Grid explainer", "body": "Reserve margins.", "url": url}
        assert client.put(f"/articles/{UNDATED}", json=fields).status_code == 200
        answer = client.get(f"/go/{HEATWAVE}/{UNDATED}?rid=r&v=defaults&pos=0", headers=BROWSER)
        assert answer.status_code == 404 and answer.get_json()["code"] == "no_url"
        assert "Location" not in answer.headers


def test_a_real_server_takes_beacons_and_click_throughs(
    settings: Settings, start_server: Any
) -> None:
    server: Server = start_server(settings.data_dir)
    request = urllib.request.Request(
        server.url("/events"),
        data=json.dumps({"events": [impression(visitor="over-http")]}).encode(),
        headers={**BROWSER, "Content-Type": "text/plain;charset=UTF-8"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as answer:
        assert answer.status == 202 and json.load(answer)["accepted"] == 1

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    go = urllib.request.Request(
        server.url(click_url(HEATWAVE, COPY, "r1", "defaults", 0)), headers=BROWSER
    )
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(go, timeout=HTTP_TIMEOUT)
    redirect.value.close()
    assert redirect.value.code == 302 and redirect.value.headers["Location"].startswith("http")
    # A chunked body (no declared length) is read as it arrives.
    connection = http.client.HTTPConnection(
        server.base.removeprefix("http://"), timeout=HTTP_TIMEOUT
    )
    body = json.dumps({"events": [impression(visitor="chunked")]}).encode()
    connection.request("POST", "/events", body=iter([body[:20], body[20:]]), headers=BROWSER)
    answer = connection.getresponse()
    assert answer.status == 202 and json.loads(answer.read())["accepted"] == 1
    connection.close()
    events = EventStore(settings.events_path, max_rows=10, retention_days=1)
    wait_for(lambda: len(events.rows()) == 3, "the three events written by the server's writer")


def test_a_cross_origin_beacon_gets_the_cors_headers(
    settings: Settings, hashing: HashingEncoder
) -> None:
    app = app_for(settings, hashing, cors_origins="https://news.example")
    client = app.test_client()
    origin = {**BROWSER, "Origin": "https://news.example"}
    answer = send(client, [impression()], headers=origin)
    assert answer.status_code == 202
    assert answer.headers["Access-Control-Allow-Origin"] == "https://news.example"
    assert "Origin" in answer.headers["Vary"]
    other = send(
        client, [impression(visitor="x")], headers={**BROWSER, "Origin": "https://evil.example"}
    )
    assert other.status_code == 202 and "Access-Control-Allow-Origin" not in other.headers


def test_a_refused_beacon_is_answered_by_the_app_in_the_error_shape(client: FlaskClient) -> None:
    refused = send(client, [impression(), click(position=-2)])
    assert refused.status_code == 400
    assert refused.get_json()["error"].startswith("Event 1: field 'position'")
