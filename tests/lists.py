"""Asking the app in process for related lists, for the tests over HTTP."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.conftest import HEATWAVE


def related(client: FlaskClient, article_id: str = HEATWAVE, **params: Any) -> dict[str, Any]:
    response = client.get(f"/articles/{article_id}/related", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def ids(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body["related"]]
