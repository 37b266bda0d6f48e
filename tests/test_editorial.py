"""Editorial controls on a corpus where the right answers are known: the sample, plus a
republished copy of one article, a German article and an undated one."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from service.app import create_app
from service.builder import build
from service.cli import cli
from service.config import Settings
from service.store import ArticleStore
from tests.conftest import ingest_file, load_sample_articles, make_settings

HEATWAVE = "2026-03-02-heatwave-grid-record"
COPY = "2026-03-03-heatwave-grid-record-republished"
GERMAN = "2026-03-05-hitzewelle-stromnetz"
UNDATED = "grid-explainer"


@pytest.fixture(scope="session")
def editorial_dir(tmp_path_factory: pytest.TempPathFactory, encoder: Any) -> Path:
    settings = make_settings(tmp_path_factory.mktemp("editorial") / "data")
    original = next(a for a in load_sample_articles() if a["id"] == HEATWAVE)
    extra = [
        {
            **original,
            "id": COPY,
            "title": original["title"] + " (updated)",
            "published": "2026-03-03",
        },
        {
            "id": GERMAN,
            "title": "Hitzewelle treibt den Stromverbrauch auf einen Rekord",
            "lang": "de",
            "body": "Der Stromverbrauch erreichte am Montagabend ein Allzeithoch, weil die Temperaturen "
            "auch nach Sonnenuntergang über 30 Grad blieben.",
            "published": "2026-03-05",
            "section": "Climate",
            "tags": ["heatwave"],
        },
        {
            "id": UNDATED,
            "title": "How the electricity grid balances supply and demand",
            "body": "Grid operators keep reserve margins, pay factories to cut demand and use batteries.",
            "section": "Climate",
            "tags": ["electricity", "grid"],
            "lang": "en",
        },
    ]
    extra_path = settings.data_dir.parent / "extra.jsonl"
    settings.data_dir.mkdir(parents=True)
    extra_path.write_text("\n".join(json.dumps(a) for a in extra) + "\n")
    ingest_file(settings)
    ingest_file(settings, extra_path)
    with ArticleStore(settings.db_path) as store:
        build(settings, store, encoder)
    return settings.data_dir


@pytest.fixture
def settings(editorial_dir: Path, tmp_path: Path) -> Settings:
    target = tmp_path / "data"
    shutil.copytree(editorial_dir, target)
    return make_settings(target)


@pytest.fixture
def client(settings: Settings, encoder: Any) -> FlaskClient:
    return create_app(settings, encoder=encoder).test_client()


def related(client: FlaskClient, article_id: str = HEATWAVE, **params: Any) -> dict[str, Any]:
    response = client.get(f"/articles/{article_id}/related", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def ids(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body["related"]]


# -- filters, before the cut ------------------------------------------------------------------


def test_section_filter_fills_the_list_from_matching_articles_only(client: FlaskClient) -> None:
    body = related(client, section="Culture", k=5)  # exactly 5 Culture articles exist
    assert len(body["related"]) == 5 and {i["section"] for i in body["related"]} == {"Culture"}
    assert body["source"] == "search"  # the precomputed list alone did not hold 5


def test_tag_filter_is_any_of(client: FlaskClient) -> None:
    body = related(client, tag=["trams", "measles"], k=8)
    assert len(body["related"]) == 5  # every article tagged either way: 3 trams, 2 measles
    assert all({"trams", "measles"} & set(i["tags"]) for i in body["related"])


def test_date_window_and_exclude(client: FlaskClient) -> None:
    body = related(
        client,
        published_after="2026-06-01",
        published_before="2026-07-01",
        k=6,
        exclude="2026-06-02-hosepipe-ban-extended-farmers",
    )
    assert len(body["related"]) == 6
    assert all("2026-06-01" <= i["published"] < "2026-07-01" for i in body["related"])
    assert "2026-06-02-hosepipe-ban-extended-farmers" not in ids(body)


def test_language_defaults_to_the_source_language(client: FlaskClient) -> None:
    assert GERMAN not in ids(related(client, k=10))
    assert GERMAN in ids(related(client, k=10, lang="any"))
    german = related(client, GERMAN, k=3, lang="de", duplicate_threshold=1.01)
    assert german["related"] == []  # no other German article


def test_past_only_over_http(client: FlaskClient) -> None:
    body = related(client, "2026-11-30-christmas-market-security", past_only="true", k=10)
    assert len(body["related"]) == 10 and all(
        i["published"] < "2026-11-30" for i in body["related"]
    )


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


# -- thresholds, duplicates, diversity, recency -------------------------------------------------


def test_thresholds_return_fewer_and_say_how_many_were_cut(client: FlaskClient) -> None:
    plain = related(client, k=10)
    best = plain["related"][0]["score"]
    body = related(client, k=10, min_relative=0.5)
    assert all(i["score"] >= best * 0.5 for i in body["related"])
    assert len(body["related"]) + body["cut"]["min_relative"] == 10
    high = related(client, k=10, min_score=best + 1)
    assert high["related"] == [] and high["cut"]["min_score"] == 10


def test_republished_copy_is_suppressed_as_a_near_duplicate(client: FlaskClient) -> None:
    body = related(client, k=5)
    assert COPY not in ids(body) and body["suppressed_duplicates"] >= 1
    assert COPY in ids(related(client, k=5, duplicate_threshold=1.01))


def test_diversity_spreads_the_list(client: FlaskClient, settings: Settings) -> None:
    from service.generations import Generation, current_name

    generation = Generation.load(
        settings.generations_dir, current_name(settings.generations_dir) or ""
    )
    keys = ArticleStore(settings.db_path).keys_for

    def spread(body: dict[str, Any]) -> float:
        rows = [generation.position(k) for k in keys(ids(body)).values()]
        vectors = np.asarray(generation.vectors)[rows]
        sims = vectors @ vectors.T
        return float(sims[np.triu_indices(len(rows), 1)].mean())

    plain, diverse = related(client, k=6), related(client, k=6, diversity=0.7)
    assert diverse["related"][0]["id"] == plain["related"][0]["id"]
    assert spread(diverse) < spread(plain)


def test_recency_prefers_articles_close_in_time(client: FlaskClient) -> None:
    def mean_gap(body: dict[str, Any]) -> float:
        days = [
            abs(np.datetime64(i["published"]) - np.datetime64("2026-03-02")).astype(int)
            for i in body["related"]
            if i["published"]
        ]
        return float(np.mean(days))

    none = related(client, k=8, recency="none")
    strong = related(client, k=8, recency="gaussian", half_life_days=20)
    assert mean_gap(strong) < mean_gap(none)


# -- pins and blocks ---------------------------------------------------------------------------


def test_pins_come_first_in_order_and_blocked_never(client: FlaskClient) -> None:
    pins = ["2026-10-20-jazz-festival-lineup", "2026-05-11-northport-fc-win-league"]
    assert client.put(f"/articles/{HEATWAVE}/pins", json={"ids": pins}).status_code == 200
    first = ids(related(client, k=5))[0:2]
    blocked = ids(related(client, k=5))[2]
    client.put(f"/articles/{HEATWAVE}/blocks", json={"ids": [blocked]})
    client.put("/blocks", json={"ids": ["2026-03-04-heat-health-warning-elderly"]})
    body = related(client, k=5)
    assert first == pins and ids(body)[:2] == pins and body["related"][0]["pinned"] is True
    assert blocked not in ids(body) and "2026-03-04-heat-health-warning-elderly" not in ids(body)
    assert len(body["related"]) == 5
    assert client.get(f"/articles/{HEATWAVE}/pins").get_json()["ids"] == pins


def test_when_pins_fill_k_no_search_is_made(client: FlaskClient) -> None:
    pins = ["2026-10-20-jazz-festival-lineup", "2026-05-11-northport-fc-win-league"]
    client.put(f"/articles/{HEATWAVE}/pins", json={"ids": pins})
    body = related(client, k=2)
    assert body["source"] == "pins" and ids(body) == pins


def test_pins_need_a_list_of_ids_and_an_existing_article(client: FlaskClient) -> None:
    assert client.put(f"/articles/{HEATWAVE}/pins", json={"ids": "x"}).status_code == 400
    assert client.put(f"/articles/{HEATWAVE}/pins", json={"ids": [HEATWAVE]}).status_code == 400
    assert client.put("/articles/nope/pins", json={"ids": ["a"]}).status_code == 404


def test_cli_pins_and_blocks(settings: Settings) -> None:
    runner, d = CliRunner(), str(settings.data_dir)
    result = runner.invoke(
        cli, ["pins", HEATWAVE, "2026-10-20-jazz-festival-lineup", "--data-dir", d]
    )
    assert result.exit_code == 0 and result.output.strip() == "2026-10-20-jazz-festival-lineup"
    assert runner.invoke(cli, ["blocks", "a", "b", "--data-dir", d]).output.split() == ["a", "b"]
    out = runner.invoke(cli, ["related", HEATWAVE, "--k", "2", "--data-dir", d]).output
    assert "pinned  2026-10-20-jazz-festival-lineup" in out


# -- drafts and explanations -------------------------------------------------------------------


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


def test_explanations_give_shared_labels_terms_and_score_parts(client: FlaskClient) -> None:
    body = related(client, k=3, explain="true")
    first = body["related"][0]["explanation"]
    assert set(first) == {"shared_tags", "same_section", "shared_terms", "parts"}
    assert set(first["parts"]) == {"dense", "lexical", "labels"}
    assert first["shared_terms"] and all(isinstance(t, str) for t in first["shared_terms"])
    parts = first["parts"]
    fused = sum(p["z"] * p["weight"] for p in parts.values())
    assert fused == pytest.approx(body["related"][0]["score"], rel=0.2)  # before recency decay


# -- export ------------------------------------------------------------------------------------


def test_export_round_trips(settings: Settings, client: FlaskClient, tmp_path: Path) -> None:
    out = tmp_path / "related.jsonl"
    result = CliRunner().invoke(
        cli,
        [
            "export",
            "--output",
            str(out),
            "--k",
            "4",
            "--quiet",
            "--data-dir",
            str(settings.data_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 69
    by_id = {row["id"]: row for row in rows}
    assert [i["id"] for i in by_id[HEATWAVE]["related"]] == ids(related(client, k=4))
    csv_out = CliRunner().invoke(
        cli,
        ["export", "--format", "csv", "--k", "3", "--quiet", "--data-dir", str(settings.data_dir)],
    )
    table = list(csv.DictReader(io.StringIO(csv_out.stdout)))
    assert len(table) == 69 * 3 - sum(3 - min(3, len(r["related"])) for r in rows)
    assert {"id", "rank", "related_id", "score"} <= set(table[0])


def test_stored_duplicate_pairs_and_the_exact_check_agree(client: FlaskClient) -> None:
    # 0.9 is above the build's floor (stored pairs); 0.45 is below it (sparse product per request)
    stored = related(client, k=10, duplicate_threshold=0.9)
    exact = related(client, k=10, duplicate_threshold=0.45)
    assert COPY not in ids(stored) and COPY not in ids(exact)
    assert exact["suppressed_duplicates"] >= stored["suppressed_duplicates"] >= 1
