"""Hostile input over HTTP (`service.ingest.json_input`, `service.web.routes`, `service.config.options`): every
bad body or parameter is a 400 naming the problem, never a 500, and stores nothing."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from service.config.settings import Settings
from service.ingest.files import read_records
from service.ingest.load import ingest
from service.ingest.records import validate_record
from service.store import ArticleStore
from tests.conftest import HEATWAVE, HTTP_TIMEOUT, Server

JSON_ROUTES = [("POST", "/articles"), ("POST", "/related"), ("PUT", "/articles/x")]


def send(client: FlaskClient, method: str, path: str, raw: str | bytes) -> Any:
    return client.open(path, method=method, data=raw, content_type="application/json")


def assert_400(response: Any, code: str, *words: str) -> dict[str, Any]:
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    body: dict[str, Any] = response.get_json()
    assert body["ok"] is False and body["status"] == 400 and body["code"] == code
    for word in words:
        assert word in body["error"], body["error"]
    return body


@pytest.mark.parametrize(("method", "path"), JSON_ROUTES)
@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("[" * 100_000 + "]" * 100_000, ["nested deeper than 64"]),
        ('{"id": "x", "title": "t", "n": ' + "9" * 5000 + "}", ["more than 4,300 digits"]),
        ('{"id": "x", "title": "\\ud800"}', ["lone surrogate", "$.title"]),
        ('{"id": "x", "title": "t", "score": NaN}', ["NaN"]),
        ('{"id": "x", "title": "t", "score": -Infinity}', ["Infinity"]),
        ('{"id": "x", "title": "t", "score": 1e400}', ["too large"]),
        ("{nope", ["line 1 column 2"]),
        ("", ["empty"]),
    ],
)
def test_bodies_that_are_not_acceptable_json_are_400_invalid_json(
    client: FlaskClient, method: str, path: str, raw: str, words: list[str]
) -> None:
    assert_400(send(client, method, path, raw), "invalid_json", *words)
    assert client.get("/articles/x").status_code == 404  # nothing stored


def test_non_finite_numbers_never_reach_the_store_from_files_or_python(tmp_path: Path) -> None:
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text('{"id": "a", "title": "t", "score": NaN}\n')
    [(_, parsed)] = list(read_records(jsonl))
    assert "NaN" in parsed.reason
    problems = validate_record({"id": "b", "title": "t", "meta": {"x": [float("inf")]}}, "row 1")
    assert isinstance(problems, list) and "$.meta.x[0]" in str(problems[0])
    deep: Any = []
    for _ in range(100):
        deep = [deep]
    assert "nested deeper" in str(validate_record({"id": "c", "title": "t", "d": deep}, "x"))
    with ArticleStore(tmp_path / "s.sqlite3") as store:
        with pytest.raises(Exception, match="NaN"):
            ingest(store, read_records(jsonl))
        assert store.count() == 0


@pytest.mark.parametrize("k", ["٣", "５", "5_0", "+", "3.0", "1" * 400])
def test_k_takes_plain_ascii_digits_only(client: FlaskClient, k: str) -> None:
    assert_400(
        client.get(f"/articles/{HEATWAVE}/related", query_string={"k": k}),
        "invalid_parameter",
        "'k'",
    )


def test_a_parameter_given_twice_is_an_error_but_lists_add_up(client: FlaskClient) -> None:
    assert_400(
        client.get(f"/articles/{HEATWAVE}/related?k=3&k=4"),
        "invalid_parameter",
        "'k' is given 2 times",
    )
    response = client.get(f"/articles/{HEATWAVE}/related?exclude=a&exclude=b&k=3")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"k": "3"}, ["'k'", "JSON integer", "a string"]),
        ({"k": 3.5}, ["'k'"]),
        ({"k": True}, ["'k'", "a boolean"]),
        ({"past_only": "true"}, ["'past_only'", "true or false"]),
        ({"exclude": {"a": 1}}, ["'exclude'", "array of strings", "an object"]),
        ({"exclude": [1]}, ["'exclude'"]),
        ({"min_score": int("9" * 400)}, ["'min_score'", "at most 30 digits"]),
        ({"half_life_days": 10**400}, ["'half_life_days'"]),
        ({"colour": "red"}, ["Unknown parameter 'colour'"]),
    ],
)
def test_options_in_a_json_body_must_have_their_json_types(
    client: FlaskClient, options: dict[str, Any], words: list[str]
) -> None:
    raw = json.dumps(options)
    assert_400(
        send(client, "POST", f"/articles/{HEATWAVE}/related", raw), "invalid_parameter", *words
    )
    draft = json.dumps({"article": {"title": "Heat"}, **options})
    assert_400(send(client, "POST", "/related", draft), "invalid_parameter", *words)


def test_huge_numbers_in_query_options_are_400_naming_the_option(client: FlaskClient) -> None:
    for name in ("min_score", "half_life_days", "diversity", "min_relative"):
        for value in ("9" * 400, "1e400", "-1e400", "nan", "inf"):
            response = client.get(f"/articles/{HEATWAVE}/related", query_string={name: value})
            assert_400(response, "invalid_parameter", f"'{name}'")


def test_long_exclude_lists_go_in_a_post_body(client: FlaskClient) -> None:
    first = client.get(f"/articles/{HEATWAVE}/related?k=3").get_json()["related"][0]["id"]
    exclude = [f"not-an-article-{i:04d}" for i in range(2000)] + [first]
    body = {"k": 3, "exclude": exclude}
    response = client.post(f"/articles/{HEATWAVE}/related", json=body)
    assert response.status_code == 200
    ids = [item["id"] for item in response.get_json()["related"]]
    assert first not in ids and len(ids) == 3
    assert response.get_json() == client.post(f"/articles/{HEATWAVE}/related", json=body).get_json()


def test_reads_with_a_body_need_no_token(sample_dir: Path, hashing: Any) -> None:
    from service.web.app import create_app
    from tests.conftest import make_settings

    client = create_app(
        make_settings(sample_dir, api_token="s3cret"), encoder=hashing
    ).test_client()
    assert (
        client.post("/related", json={"title": "Heatwave and the grid", "k": 2}).status_code == 200
    )
    assert client.post(f"/articles/{HEATWAVE}/related", json={"k": 2}).status_code == 200
    assert client.post("/articles", json={"id": "n", "title": "t"}).status_code == 401


def test_a_chunked_body_over_the_limit_is_413(
    sample_copy: Settings, start_server: Callable[..., Server]
) -> None:
    server = start_server(sample_copy.data_dir, env={"RELATED_MAX_BODY_BYTES": "100000"})

    def chunks() -> Iterator[bytes]:
        yield b'[{"id": "big", "title": "t", "body": "'
        for _ in range(50):
            yield b"x" * 10_000
        yield b'"}]'

    response = requests.post(
        server.url("/articles"),
        data=chunks(),
        headers={"Content-Type": "application/json"},
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"
    small = requests.post(
        server.url("/articles"), data=iter([b'{"id": "s", "title": "t"}']), timeout=HTTP_TIMEOUT
    )
    assert small.status_code == 201


def test_a_put_racing_a_delete_of_the_same_article_never_answers_500(
    settings: Settings, hashing: Any
) -> None:
    from service.web.app import create_app

    app = create_app(settings, encoder=hashing)
    statuses: list[int] = []

    def put() -> None:
        client = app.test_client()
        for i in range(100):
            statuses.append(
                client.put("/articles/racer", json={"title": f"Racing {i}"}).status_code
            )

    def delete() -> None:
        client = app.test_client()
        for _ in range(100):
            statuses.append(client.delete("/articles/racer").status_code)

    threads = [threading.Thread(target=put), threading.Thread(target=delete)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(statuses) <= {200, 201, 404}, sorted(set(statuses))


def test_body_links_are_a_list_of_strings_kept_in_order_and_left_out_when_empty(
    tmp_path: Path,
) -> None:
    linked = validate_record({"id": "a", "title": "A", "links": ["b", " c ", "b", ""]}, "line 1")
    assert not isinstance(linked, list)
    assert linked.links == ("b", "c")
    assert linked.to_json()["links"] == ["b", "c"]
    plain = validate_record({"id": "a", "title": "A"}, "line 1")
    assert not isinstance(plain, list) and "links" not in plain.to_json()
    bad = validate_record({"id": "a", "title": "A", "links": ["b", 3]}, "line 2")
    assert isinstance(bad, list)
    assert [str(p) for p in bad] == ["line 2: field 'links': item 1 must be a string, got number"]
    csv_file = tmp_path / "a.csv"
    csv_file.write_text("id,title,links\na,A,b|https://site.example/c\n", encoding="utf-8")
    store = ArticleStore(tmp_path / "store.sqlite3")
    assert ingest(store, read_records(csv_file), csv_cells=True).inserted == 1
    stored = store.get("a")
    assert stored is not None and stored.article.links == ("b", "https://site.example/c")
