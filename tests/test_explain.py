"""Explanations (`service.related.explain`): shared labels and terms, and the parts of the score."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from embeddings.signals import SIGNALS
from tests.lists import related


def test_explanations_give_shared_labels_terms_and_score_parts(client: FlaskClient) -> None:
    body = related(client, k=3, explain="true")
    first = body["related"][0]["explanation"]
    assert {"shared_tags", "same_section", "shared_terms", "parts"} <= set(first)
    assert set(first["parts"]) == {s.name for s in SIGNALS}
    assert first["shared_terms"] and all(isinstance(t, str) for t in first["shared_terms"])


@pytest.mark.parametrize("recency", ["none", "exponential", "gaussian"])
def test_the_parts_add_up_to_the_score(client: FlaskClient, recency: str) -> None:
    body = related(client, k=8, explain="true", recency=recency, half_life_days=30)
    for item in body["related"]:
        explanation = item["explanation"]
        points = [part["points"] for part in explanation["parts"].values()]
        for part in explanation["parts"].values():
            assert part["points"] == pytest.approx(part["weight"] * part["z"], abs=2e-4)
        assert sum(points) == pytest.approx(explanation["fused"], abs=1e-3)
        assert explanation["fused"] * explanation["recency"] == pytest.approx(
            item["score"], abs=1e-3
        )
        assert explanation["score"] == pytest.approx(item["score"], abs=1e-3)
        if recency == "none":
            assert explanation["recency"] == 1.0
