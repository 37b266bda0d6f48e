"""HTTP caching of related lists (`service.web.related_view`, `service.web.caching`), lean answers,
CORS (`service.web.cors`), and answers that follow every change of the store at once."""

from __future__ import annotations

import gzip
import json
from typing import Any

from flask.testing import FlaskClient

from embeddings.hashing import HashingEncoder
from service.config.settings import Settings
from service.web.app import create_app
from tests.conftest import COPY, HEATWAVE

RELATED = f"/articles/{HEATWAVE}/related?k=3"


def ids(response: Any) -> list[str]:
    return [item["id"] for item in response.get_json()["related"]]


def test_an_answer_has_a_weak_etag_and_cache_control(client: FlaskClient) -> None:
    response = client.get(RELATED)
    assert response.status_code == 200
    assert response.headers["ETag"].startswith('W/"')
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert response.headers["Vary"] == "Accept-Encoding"


def test_if_none_match_with_the_etag_is_a_304_without_a_body(client: FlaskClient) -> None:
    etag = client.get(RELATED).headers["ETag"]
    again = client.get(RELATED, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    # A strong form of the same tag, in a list, still matches (weak comparison).
    listed = client.get(RELATED, headers={"If-None-Match": f'"x", {etag.removeprefix("W/")}'})
    assert listed.status_code == 304
    assert client.get(RELATED, headers={"If-None-Match": '"other"'}).status_code == 200


def test_the_etag_differs_by_options_and_moves_with_the_store(
    client: FlaskClient,
) -> None:
    first = client.get(RELATED).headers["ETag"]
    assert client.get(f"/articles/{HEATWAVE}/related?k=4").headers["ETag"] != first
    assert client.get(RELATED).headers["ETag"] == first
    client.put(f"/articles/{HEATWAVE}/pins", json={"ids": [COPY]})
    moved = client.get(RELATED, headers={"If-None-Match": first})
    assert moved.status_code == 200 and moved.headers["ETag"] != first


def test_large_answers_are_gzipped_for_clients_that_accept_it(client: FlaskClient) -> None:
    plain = client.get(f"/articles/{HEATWAVE}/related?k=10")
    zipped = client.get(f"/articles/{HEATWAVE}/related?k=10", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(zipped.data)) == plain.get_json()
    refused = client.get(
        f"/articles/{HEATWAVE}/related?k=10", headers={"Accept-Encoding": "gzip;q=0"}
    )
    assert "Content-Encoding" not in refused.headers


def test_answers_leave_out_the_source_body_unless_asked(client: FlaskClient) -> None:
    lean = client.get(RELATED).get_json()
    assert "body" not in lean["article"] and lean["article"]["title"]
    full = client.get(RELATED + "&include_body=true").get_json()
    assert full["article"]["body"].startswith("Electricity demand")
    picked = client.get(RELATED + "&fields=title,url").get_json()
    assert set(picked["article"]) == {"id", "title", "url"}
    assert all(set(item) == {"id", "title", "url", "score"} for item in picked["related"])
    with_body = client.get(RELATED + "&fields=title,body").get_json()
    assert set(with_body["article"]) == {"id", "title", "body"}


def test_edits_deletions_pins_and_blocks_show_in_the_next_answer(client: FlaskClient) -> None:
    before = ids(client.get(RELATED))
    first = before[0]
    stored = client.get(f"/articles/{first}").get_json()["article"]
    client.put(f"/articles/{first}", json={**stored, "title": "A new title"})
    after_edit = client.get(RELATED).get_json()["related"]
    assert next(i for i in after_edit if i["id"] == first)["title"] == "A new title"

    client.put(f"/articles/{HEATWAVE}/blocks", json={"ids": [first]})
    assert first not in ids(client.get(RELATED))
    client.delete(f"/articles/{HEATWAVE}/blocks")
    assert first in ids(client.get(RELATED))

    client.put(f"/articles/{HEATWAVE}/pins", json={"ids": [before[2]]})
    assert ids(client.get(RELATED))[0] == before[2]

    client.delete(f"/articles/{first}")
    assert first not in ids(client.get(RELATED))


def test_a_change_made_by_another_process_shows_at_once(
    settings: Settings, hashing: HashingEncoder
) -> None:
    """Two apps on one data directory stand for two server workers."""
    reader = create_app(settings, encoder=hashing).test_client()
    writer = create_app(settings, encoder=hashing).test_client()
    first = ids(reader.get(RELATED))[0]
    writer.put("/blocks", json={"ids": [first]})
    assert first not in ids(reader.get(RELATED))
    writer.put("/blocks", json={"ids": []})
    writer.delete(f"/articles/{first}")
    assert first not in ids(reader.get(RELATED))
    assert reader.get(f"/articles/{first}/related").status_code == 404


def test_cors_is_off_by_default(client: FlaskClient) -> None:
    response = client.get(RELATED, headers={"Origin": "https://site.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_allows_the_configured_origins_only(
    settings: Settings, hashing: HashingEncoder
) -> None:
    configured = settings.replace(cors_origins="https://site.example, https://other.example")
    client = create_app(configured, encoder=hashing).test_client()
    allowed = client.get(RELATED, headers={"Origin": "https://site.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://site.example"
    assert "ETag" in allowed.headers["Access-Control-Expose-Headers"]
    assert "Origin" in allowed.headers["Vary"]
    refused = client.get(RELATED, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in refused.headers
    preflight = client.options(
        RELATED,
        headers={"Origin": "https://site.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]


def test_cors_star_allows_any_origin(settings: Settings, hashing: HashingEncoder) -> None:
    client = create_app(settings.replace(cors_origins="*"), encoder=hashing).test_client()
    response = client.get(RELATED, headers={"Origin": "https://anyone.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_every_answer_has_a_request_id_and_keeps_a_valid_one_given(client: FlaskClient) -> None:
    generated = client.get("/healthz").headers["X-Request-Id"]
    assert len(generated) == 16
    assert client.get("/healthz", headers={"X-Request-Id": "abc-123"}).headers["X-Request-Id"] == (
        "abc-123"
    )
    forged = client.get("/healthz", headers={"X-Request-Id": 'a "quoted" id'})
    assert forged.headers["X-Request-Id"] != 'a "quoted" id'
    assert len(forged.headers["X-Request-Id"]) == 16


def test_metrics_count_requests_by_route_and_answers_by_source(client: FlaskClient) -> None:
    client.get(RELATED)
    client.get(RELATED)
    client.get("/articles/nope/related")
    text = client.get("/metrics").get_data(as_text=True)
    assert (
        'related_http_requests_total{method="GET",route="/articles/<path:article_id>/related",'
        'status="200"} 2.0' in text
    )
    assert 'route="/articles/<path:article_id>/related",status="404"' in text
    assert 'related_answers_total{source="index"} 2.0' in text
    assert "related_generation_articles 69.0" in text
    assert "related_generation_age_seconds" in text
    assert 'related_last_build_state{state="succeeded"} 1.0' in text
    assert "related_rebuild_queued 0.0" in text
