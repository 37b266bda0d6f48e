"""The HTTP routes (`service.web.routes`) in process: responses, writes, auth, and one JSON shape for
every error."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from flask.testing import FlaskClient

from embeddings.hashing import HashingEncoder
from service.config.settings import Settings
from service.web.app import create_app
from tests.conftest import CountingEncoder, make_settings

HEATWAVE = "2026-03-02-heatwave-grid-record"


def client_for(settings: Settings, encoder: Any) -> FlaskClient:
    return create_app(settings, encoder=encoder).test_client()


@pytest.fixture
def client(sample_copy: Settings, hashing: HashingEncoder) -> FlaskClient:
    return client_for(sample_copy, hashing)


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    assert body["ok"] is False and body["status"] == status and body["code"] == code
    assert isinstance(body["error"], str) and body["error"]
    return body


def test_related_response_shape(client: FlaskClient) -> None:
    body = client.get(f"/articles/{HEATWAVE}/related?k=3").get_json()
    assert body["article"]["id"] == HEATWAVE and body["k"] == 3 and body["source"] == "index"
    assert len(body["related"]) == 3
    first = body["related"][0]
    for field in ("id", "title", "url", "published", "score", "section", "tags", "author", "image"):
        assert field in first
    assert "body" not in first
    assert HEATWAVE not in [item["id"] for item in body["related"]]
    assert set(body["index"]) == {"generation", "built_at"}


def test_default_k_is_five(client: FlaskClient) -> None:
    assert len(client.get(f"/articles/{HEATWAVE}/related").get_json()["related"]) == 5


@pytest.mark.parametrize("k", ["0", "-1", "abc", "51", "2.5"])
def test_bad_k_is_a_400_naming_the_parameter(client: FlaskClient, k: str) -> None:
    body = assert_error(client.get(f"/articles/{HEATWAVE}/related?k={k}"), 400, "invalid_parameter")
    assert "'k'" in body["error"]


def test_unknown_article_is_404(client: FlaskClient) -> None:
    assert_error(client.get("/articles/nope/related"), 404, "article_not_found")
    assert_error(client.get("/articles/nope"), 404, "article_not_found")
    assert_error(client.delete("/articles/nope"), 404, "article_not_found")


def test_routing_404_and_405_have_the_same_shape(client: FlaskClient) -> None:
    assert_error(client.get("/no/such/route"), 404, "not_found")
    response = client.delete("/index")
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_body_over_the_limit_is_413(
    tmp_path: Path, sample_dir: Path, hashing: HashingEncoder
) -> None:
    settings = make_settings(sample_dir, max_body_bytes=1000)
    client = client_for(settings, hashing)
    response = client.post(
        "/articles", data=b"[" + b" " * 2000 + b"]", content_type="application/json"
    )
    assert_error(response, 413, "payload_too_large")


def test_no_index_yet_is_503_and_readyz_says_so(tmp_path: Path, hashing: HashingEncoder) -> None:
    client = client_for(make_settings(tmp_path / "empty"), hashing)
    client.put("/articles/a", json={"title": "Only one"})
    assert_error(client.get("/readyz"), 503, "index_not_ready")
    assert_error(client.get("/articles/a/related"), 503, "index_not_ready")
    assert client.get("/healthz").status_code == 200


class CrashingEncoder(CountingEncoder):
    def encode(self, texts: Sequence[str], *, progress: Any = None) -> npt.NDArray[np.float32]:
        raise RuntimeError("secret internal detail")


def test_unexpected_failure_is_a_500_without_the_traceback(
    sample_copy: Settings, hashing: HashingEncoder, caplog: pytest.LogCaptureFixture
) -> None:
    client = client_for(sample_copy, CrashingEncoder(hashing))
    client.put("/articles/fresh", json={"title": "Not yet indexed", "body": "Needs live encoding."})
    response = client.get("/articles/fresh/related")
    body = assert_error(response, 500, "internal_error")
    assert "secret" not in body["error"] and "Traceback" not in response.get_data(as_text=True)
    assert "secret internal detail" in caplog.text


def test_write_endpoints_need_the_token_when_one_is_set(
    sample_dir: Path, hashing: HashingEncoder
) -> None:
    client = client_for(make_settings(sample_dir, api_token="s3cret"), hashing)
    assert_error(client.post("/index/rebuild"), 401, "unauthorized")
    assert_error(
        client.put("/articles/x", json={"title": "t"}, headers={"Authorization": "Bearer wrong"}),
        403,
        "forbidden",
    )
    assert client.get(f"/articles/{HEATWAVE}/related").status_code == 200  # reads stay open


def test_post_put_delete_articles(client: FlaskClient) -> None:
    response = client.post(
        "/articles", json=[{"id": "n1", "title": "One"}, {"id": "n2", "title": "Two"}]
    )
    assert response.status_code == 201 and response.get_json()["inserted"] == 2
    response = client.put("/articles/n1", json={"title": "One, edited", "author": "Kim"})
    assert response.status_code == 200 and response.get_json()["outcome"] == "updated"
    assert client.get("/articles/n1").get_json()["article"]["author"] == "Kim"
    assert client.delete("/articles/n2").get_json() == {"ok": True, "deleted": "n2"}
    assert client.get("/index").get_json()["changed_since_build"] == 2


def test_invalid_posted_articles_are_a_400_listing_each_problem(client: FlaskClient) -> None:
    body = assert_error(
        client.post("/articles", json=[{"id": "ok", "title": "Fine"}, {"id": "bad"}]),
        400,
        "invalid_articles",
    )
    assert body["details"] == [{"where": "index 1", "field": "title", "reason": "is required"}]
    assert_error(client.get("/articles/ok"), 404, "article_not_found")


def test_malformed_json_and_mismatched_id_are_400(client: FlaskClient) -> None:
    assert_error(
        client.post("/articles", data="{nope", content_type="application/json"),
        400,
        "invalid_json",
    )
    assert_error(
        client.put("/articles/a", json={"id": "b", "title": "t"}), 400, "invalid_parameter"
    )


def test_article_ingested_after_the_build_is_answered_live(client: FlaskClient) -> None:
    client.put(
        "/articles/late",
        json={
            "title": "Heatwave strains the power grid again",
            "body": "Electricity demand hit a new record as the heat continued and the grid operator "
            "asked factories to cut consumption.",
        },
    )
    body = client.get("/articles/late/related?k=3").get_json()
    assert body["source"] == "live" and len(body["related"]) == 3
    assert "late" not in [item["id"] for item in body["related"]]
    ids = [item["id"] for item in body["related"]]
    assert HEATWAVE in ids or "2026-03-09-grid-operator-demand-response" in ids


def test_deleted_articles_drop_out_of_lists_before_the_next_build(client: FlaskClient) -> None:
    before = [i["id"] for i in client.get(f"/articles/{HEATWAVE}/related").get_json()["related"]]
    client.delete(f"/articles/{before[0]}")
    after = [i["id"] for i in client.get(f"/articles/{HEATWAVE}/related").get_json()["related"]]
    assert before[0] not in after and len(after) == 5


def test_index_state(client: FlaskClient) -> None:
    body = client.get("/index").get_json()
    assert body["articles"] == 66 and body["changed_since_build"] == 0
    assert body["model"] == "hashing" and body["generation"]
    assert body["rebuild"]["state"] == "succeeded"
    # The sample is a publisher's own text, not scraped pages: its title lines are kept.
    rules = body["text_rules"]
    assert rules["page_rules"] is False and rules["page_share"] == 0.0
    assert rules["scraped_share"] == 0.3 and rules["repeated_lines"] >= 0


def test_a_generation_of_another_format_or_model_is_refused_with_a_clear_503(
    sample_copy: Settings, hashing: HashingEncoder
) -> None:
    import json

    from service.generations.generation import current_name

    root = sample_copy.generations_dir
    manifest = root / (current_name(root) or "") / "manifest.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**data, "format": 1}))
    body = assert_error(
        client_for(sample_copy, hashing).get(f"/articles/{HEATWAVE}/related"), 503, "index_mismatch"
    )
    assert "rebuild the index" in body["error"]
    manifest.write_text(json.dumps({**data, "encoder": "another-model@256"}))
    body = assert_error(
        client_for(sample_copy, hashing).get(f"/articles/{HEATWAVE}/related"), 503, "index_mismatch"
    )
    assert "another-model@256" in body["error"]
