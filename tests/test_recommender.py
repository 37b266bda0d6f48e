"""The recommender's pipeline (`service.related.recommender`, `service.related.source`): drafts, live
articles, past-only lists, one encoding per request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from embeddings.hashing import HashingEncoder
from service.article import Article
from service.build.builder import build
from service.config.settings import Settings
from service.errors import InvalidParameter
from service.related.recommender import Recommender
from service.services import Services
from service.store import ArticleStore
from tests.conftest import HEATWAVE, CountingEncoder, ingest_file
from tests.lists import ids, related


def test_a_draft_ranks_like_a_stored_article_with_the_same_text(client: FlaskClient) -> None:
    draft = {
        "title": "Tram drivers join the bus strike over split shifts",
        "body": "Tram drivers walked out alongside bus drivers, and the transport authority "
        "warned of overcrowding as the dispute over pay and schedules spread.",
        "tags": ["strike", "trams"],
        "section": "City",
        "lang": "en",
        "published": "2026-03-01",
    }
    body = client.post("/related", json={"article": draft, "k": 6}).get_json()
    assert body["source"] == "draft" and len(body["related"]) == 6
    client.put("/articles/tram-strike", json=draft)  # stored, not yet indexed: ranked live
    stored = related(client, "tram-strike", k=6)
    assert stored["source"] == "live"
    assert ids(body) == ids(stored)
    assert [i["score"] for i in body["related"]] == pytest.approx(
        [i["score"] for i in stored["related"]]
    )


def test_draft_validation_and_options(client: FlaskClient) -> None:
    response = client.post("/related", json={"body": "no title"})
    assert response.status_code == 400 and "'title'" in response.get_json()["error"]
    response = client.post("/related", json={"title": "Trams", "k": 3, "section": "City"})
    body = response.get_json()
    assert len(body["related"]) == 3 and {i["section"] for i in body["related"]} == {"City"}


def test_past_only_keeps_the_list_full_from_earlier_articles(
    sample_copy: Settings, hashing: HashingEncoder
) -> None:
    recommender: Recommender = Services.open(sample_copy, encoder=hashing).recommender
    source = "2026-11-30-christmas-market-security"
    result = recommender.related(source, 10, past_only=True)
    assert len(result.items) == 10
    assert all((item.article.published or "") < "2026-11-30" for item in result.items)


def test_past_only_searches_the_index_when_the_precomputed_list_runs_out(
    settings_for: Callable[..., Settings], hashing: HashingEncoder
) -> None:
    settings = settings_for(neighbours=5, max_k=5, default_k=5)
    ingest_file(settings)
    build(settings, ArticleStore(settings.db_path), hashing)
    recommender = Services.open(settings, encoder=hashing).recommender
    source = "2026-06-18-central-bank-cuts-rates"
    precomputed = [item.article.published for item in recommender.related(source).items]
    assert any(p >= "2026-06-18" for p in precomputed if p)  # so filtering the list leaves < 5
    result = recommender.related(source, past_only=True)
    assert len(result.items) == 5 and result.source == "search"
    assert all((item.article.published or "") < "2026-06-18" for item in result.items)


def test_past_only_needs_a_date(sample_copy: Settings, hashing: HashingEncoder) -> None:
    services = Services.open(sample_copy, encoder=hashing)
    with services.store.write() as writer:
        writer.upsert(Article(id="undated", title="No date"))
    with pytest.raises(InvalidParameter, match="past_only needs a 'published' date"):
        services.recommender.related("undated", 5, past_only=True)


@pytest.mark.parametrize("explain", [False, True])
def test_a_draft_is_encoded_exactly_once_per_request(
    sample_copy: Settings, hashing: HashingEncoder, explain: bool
) -> None:
    counting = CountingEncoder(hashing)
    recommender = Services.open(sample_copy, encoder=counting).recommender
    draft = Article(id="draft", title="Trams run all night", body="Night trams at weekends.")
    options = recommender.options(k=5, explain=explain, duplicate_threshold=0.3)
    result = recommender.related_to_draft(draft, options)
    assert len(result.items) == 5 and counting.texts == [counting.texts[0]]
    assert all(item.explanation for item in result.items) == explain


def test_a_request_reads_its_editorial_data_in_one_store_call(
    sample_copy: Settings, hashing: HashingEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = Services.open(sample_copy, encoder=hashing)
    services.store.set_pins(HEATWAVE, ["2026-10-20-jazz-festival-lineup"])
    services.store.set_blocks(HEATWAVE, ["2026-03-09-grid-operator-demand-response"])
    services.store.set_blocks("", ["2026-03-04-heat-health-warning-elderly"])
    calls: list[str] = []
    for name in ("editorial", "pins", "blocks", "keys_for"):
        original = getattr(services.store, name)

        def counted(*args: Any, _name: str = name, _original: Any = original) -> Any:
            calls.append(_name)
            return _original(*args)

        monkeypatch.setattr(services.store, name, counted)
    result = services.recommender.related(HEATWAVE, 5)
    found = [item.article.id for item in result.items]
    assert found[0] == "2026-10-20-jazz-festival-lineup" and len(found) == 5
    assert "2026-03-09-grid-operator-demand-response" not in found
    assert "2026-03-04-heat-health-warning-elderly" not in found
    assert calls == ["editorial"]


def test_an_article_edited_after_the_build_is_answered_live_until_the_next_build(
    client: FlaskClient, settings: Settings, hashing: HashingEncoder
) -> None:
    before = related(client, k=5)
    assert before["source"] == "index"
    article = client.get(f"/articles/{HEATWAVE}").get_json()["article"]
    edited = {
        **article,
        "title": "Northport FC win the league title after a late goal",
        "body": "The football club won the league with a late goal; fans celebrated in the city.",
        "tags": ["football"],
        "section": "Sport",
    }
    assert client.put(f"/articles/{HEATWAVE}", json=edited).status_code == 200
    after = related(client, k=5)
    assert after["source"] == "live"  # never its stale list
    assert "2026-05-11-northport-fc-win-league" in ids(after)
    assert HEATWAVE not in ids(after) and ids(after) != ids(before)
    # An incremental build ranks with the same fit as the live answer, so the list is the same
    # (one edit of the sample is past the drift bound, which would refit: lifted here).
    with ArticleStore(settings.db_path) as store:
        assert build(settings.replace(max_drift=1.0), store, hashing).mode == "incremental"
    rebuilt = related(client, k=5)
    assert rebuilt["source"] == "index" and ids(rebuilt) == ids(after)
