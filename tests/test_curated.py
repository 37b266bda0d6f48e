"""Curated links stored in the service (`service.editorial.curated`): import, HTTP, and evaluation from
the stored copy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from service.cli import cli
from service.config.settings import Settings
from service.editorial.link_files import InvalidLinks
from service.store import ArticleStore
from tests.conftest import HEATWAVE, SAMPLE_RELATED, load_sample_related

HASHING = {"RELATED_MODEL": "hashing"}


def invoke(*args: str) -> str:
    result = CliRunner(env=HASHING).invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_import_stores_every_list_and_counts_unknown_ids(
    settings: Settings, tmp_path: Path
) -> None:
    links = tmp_path / "links.csv"
    links.write_text(
        "source_id,target_id,grade\n"
        f"{HEATWAVE},2026-03-09-grid-operator-demand-response,2\n"
        f"{HEATWAVE},not-an-article,1\n"
        f"{HEATWAVE},{HEATWAVE},1\n"
        "ghost,2026-01-08-night-trams-weekends,1\n"
    )
    report = json.loads(
        invoke("curated", "import", str(links), "--json", "--data-dir", str(settings.data_dir))
    )
    assert report["links"] == 3 and report["sources"] == 2  # the self-link is dropped
    assert report["unknown_sources"] == 1 and report["unknown_targets"] == 1
    store = ArticleStore(settings.db_path)
    assert store.curated(HEATWAVE) == [
        ("2026-03-09-grid-operator-demand-response", 2.0),
        ("not-an-article", 1.0),
    ]
    shown = invoke("curated", "show", HEATWAVE, "--data-dir", str(settings.data_dir))
    assert shown.splitlines()[0] == "2026-03-09-grid-operator-demand-response\t2"


def test_a_second_import_replaces_per_source_or_everything(settings: Settings) -> None:
    directory = str(settings.data_dir)
    invoke("curated", "import", str(SAMPLE_RELATED), "--data-dir", directory)
    store = ArticleStore(settings.db_path)
    assert store.curated_counts() == (66, sum(len(v) for v in load_sample_related().values()))
    one = settings.data_dir.parent / "one.jsonl"
    one.write_text(json.dumps({"id": HEATWAVE, "related": ["grid-explainer"]}) + "\n")
    invoke("curated", "import", str(one), "--data-dir", directory)
    assert store.curated(HEATWAVE) == [("grid-explainer", 1.0)]
    assert store.curated_counts()[0] == 66
    invoke("curated", "import", str(one), "--replace", "--data-dir", directory)
    assert store.curated_counts() == (1, 1)


def test_a_bad_file_stores_nothing_and_names_the_line(settings: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "related": ["b"]}\n{"id": "c", "related": "d"}\n')
    result = CliRunner(env=HASHING).invoke(
        cli, ["curated", "import", str(bad), "--data-dir", str(settings.data_dir)]
    )
    assert result.exit_code == 2 and "line 2" in result.output
    assert ArticleStore(settings.db_path).curated_counts() == (0, 0)
    grades = tmp_path / "grades.jsonl"
    grades.write_text('{"id": "a", "related": ["b"], "grades": [NaN]}\n')
    with pytest.raises(InvalidLinks, match="grades"):
        from service.editorial.link_files import read_links

        read_links(grades)


def test_curated_links_over_http(client: FlaskClient) -> None:
    url = f"/articles/{HEATWAVE}/curated"
    assert client.get(url).get_json() == {"ok": True, "article": HEATWAVE, "links": []}
    body = client.put(
        url,
        json={
            "ids": ["grid-explainer", "2026-03-09-grid-operator-demand-response"],
            "grades": [1, 3],
        },
    ).get_json()
    assert body["links"] == [
        {"id": "grid-explainer", "grade": 1.0},
        {"id": "2026-03-09-grid-operator-demand-response", "grade": 3.0},
    ]
    assert client.get(url).get_json()["links"] == body["links"]
    assert client.get("/index").get_json()["curated"] == {"sources": 1, "links": 2}
    assert client.put(url, json={"ids": "x"}).status_code == 400
    assert client.put(url, json={"ids": ["a"], "grades": [1, 2]}).status_code == 400
    assert client.put("/articles/nope/curated", json={"ids": ["a"]}).status_code == 404
    assert client.delete(url).get_json()["links"] == []


def test_evaluate_without_a_file_uses_the_stored_links(settings: Settings) -> None:
    directory = str(settings.data_dir)
    result = CliRunner(env=HASHING).invoke(cli, ["evaluate", "--quiet", "--data-dir", directory])
    assert result.exit_code == 2 and "related curated import" in result.output
    invoke("curated", "import", str(SAMPLE_RELATED), "--data-dir", directory)
    stored = json.loads(invoke("evaluate", "--json", "--quiet", "--data-dir", directory))
    from_file = json.loads(
        invoke("evaluate", str(SAMPLE_RELATED), "--json", "--quiet", "--data-dir", directory)
    )
    assert stored["methods"] == from_file["methods"] and stored["sources_evaluated"] == 66
