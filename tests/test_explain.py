"""Explanations (`service.explain`): shared labels and terms, and the parts of the score."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.lists import related


def test_explanations_give_shared_labels_terms_and_score_parts(client: FlaskClient) -> None:
    body = related(client, k=3, explain="true")
    first = body["related"][0]["explanation"]
    assert set(first) == {"shared_tags", "same_section", "shared_terms", "parts"}
    assert set(first["parts"]) == {"dense", "lexical", "labels"}
    assert first["shared_terms"] and all(isinstance(t, str) for t in first["shared_terms"])
    parts = first["parts"]
    fused = sum(p["z"] * p["weight"] for p in parts.values())
    assert fused == pytest.approx(body["related"][0]["score"], rel=0.2)  # before recency decay
