"""Filters (`service.related.filters`) over HTTP: applied before the cut, so a list holds every related
article that matches, up to k; it is short only when fewer match or stand above a typical
article (`cut["typical"]` counts those)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.conftest import GERMAN
from tests.lists import ids, related


def considered(body: dict[str, Any]) -> int:
    """Matching articles the list was chosen from: shown, or cut as no better than typical."""
    return len(body["related"]) + body["cut"].get("typical", 0)


def test_section_filter_fills_the_list_from_matching_articles_only(client: FlaskClient) -> None:
    body = related(client, section="Culture", k=5)  # exactly 5 Culture articles exist
    assert considered(body) == 5 and {i["section"] for i in body["related"]} <= {"Culture"}
    assert body["source"] == "search"  # the precomputed list alone did not hold 5


def test_tag_filter_is_any_of(client: FlaskClient) -> None:
    body = related(client, tag=["trams", "measles"], k=8)
    assert considered(body) == 5  # every article tagged either way: 3 trams, 2 measles
    assert all({"trams", "measles"} & set(i["tags"]) for i in body["related"])


def test_date_window_and_exclude(client: FlaskClient) -> None:
    body = related(
        client,
        published_after="2026-06-01",
        published_before="2026-07-01",
        k=6,
        exclude="2026-06-02-hosepipe-ban-extended-farmers",
    )
    assert considered(body) == 6
    assert all("2026-06-01" <= i["published"] < "2026-07-01" for i in body["related"])
    assert "2026-06-02-hosepipe-ban-extended-farmers" not in ids(body)


def test_language_defaults_to_the_source_language(client: FlaskClient) -> None:
    # The German article shares no words with the English one: it only comes as a filler,
    # which obeys the language filter like everything else.
    assert GERMAN not in ids(related(client, k=10, tag="heatwave", fill="recent"))
    assert GERMAN in ids(related(client, k=10, tag="heatwave", lang="any", fill="recent"))
    german = related(client, GERMAN, k=3, lang="de", duplicate_threshold=1.01)
    assert german["related"] == []  # no other German article


def test_past_only_over_http(client: FlaskClient) -> None:
    body = related(client, "2026-11-30-christmas-market-security", past_only="true", k=10)
    assert len(body["related"]) == 10 and all(
        i["published"] < "2026-11-30" for i in body["related"]
    )
