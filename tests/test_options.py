"""Related-list options (`service.config.options`): declared once, parsed the same everywhere."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.conftest import HEATWAVE


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"k": "0"}, "k"),
        ({"section": ""}, None),
        ({"published_after": "soon"}, "published_after"),
        ({"min_relative": "1.5"}, "min_relative"),
        ({"recency": "yearly"}, "recency"),
        ({"diversity": "x"}, "diversity"),
        ({"past_only": "maybe"}, "past_only"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_options_are_400_naming_the_parameter(
    client: FlaskClient, params: dict[str, str], name: str | None
) -> None:
    response = client.get(f"/articles/{HEATWAVE}/related", query_string=params)
    if name is None:  # an empty filter is no filter
        assert response.status_code == 200
        return
    body = response.get_json()
    assert response.status_code == 400 and body["code"] == "invalid_parameter"
    assert f"'{name}'" in body["error"]
