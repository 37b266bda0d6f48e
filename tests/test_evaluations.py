"""The latest evaluation kept for the editors' page (`service.quality.latest`), the editor's report
(`service.quality.report`) and `GET /catalog/evaluation`, on the sample with the hashing encoder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from embeddings.hashing import HashingEncoder
from service.cli import cli
from service.config.settings import Settings
from service.quality.glossary import METHODS, METRICS
from service.quality.latest import latest_path, read_latest, worst_first
from service.web.app import create_app
from tests.conftest import SAMPLE_RELATED

HASHING = {"RELATED_MODEL": "hashing"}


def invoke(*args: str) -> Result:
    result = CliRunner(env=HASHING).invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def evaluated(sample_copy: Settings, tmp_path: Path) -> tuple[Settings, dict[str, Any], Path]:
    """The sample evaluated against its links file, with --json and --report."""
    report = tmp_path / "report.html"
    result = invoke(
        "evaluate",
        str(SAMPLE_RELATED),
        "--data-dir",
        str(sample_copy.data_dir),
        "--k",
        "3,10",
        "--recency",
        "none",
        "--json",
        "--report",
        str(report),
        "--quiet",
    )
    printed = json.loads(result.stdout)
    assert printed["saved"] == str(latest_path(sample_copy.data_dir))
    assert printed["report"] == str(report.resolve())
    return sample_copy, printed, report


def test_the_saved_evaluation_holds_what_the_page_shows(
    evaluated: tuple[Settings, dict[str, Any], Path],
) -> None:
    settings, printed, _ = evaluated
    document = read_latest(settings.data_dir)
    assert document is not None
    assert document["methods"] == printed["methods"] and document["cutoff"] == 10
    assert document["links"] == {"kind": "file", "path": str(SAMPLE_RELATED.resolve())}
    assert document["options"]["recency"] == "none" and document["options"]["k"] == 20
    assert set(document["glossary"]["metrics"]) <= set(METRICS)
    assert set(document["glossary"]["methods"]) == set(METHODS)

    rows = document["sources"]
    assert len(rows) == printed["sources_evaluated"] == 66
    for row in rows:
        assert 0.0 <= row["recall"] <= 1.0 and 0.0 <= row["ndcg"] <= 1.0
        assert set(row["found"]) | set(row["missed"]) == set(row["curated"])
        assert len(row["service"]) == 10 and row["section"]
    sections = document["sections"]
    assert sum(s["sources"] for s in sections) == 66
    for figure in sections:
        members = [r for r in rows if r["section"] == figure["section"]]
        mean = sum(r["recall"] for r in members) / len(members)
        assert figure["recall"] == pytest.approx(mean, abs=1e-4)
    mean_recall = sum(r["recall"] for r in rows) / len(rows)
    assert printed["methods"]["service"]["recall@10"] == pytest.approx(mean_recall, abs=1e-3)

    worst = worst_first(rows)
    assert [r["recall"] for r in worst] == sorted(r["recall"] for r in rows)
    example = document["examples"][-1]  # the worst served
    assert example["id"] == worst[0]["id"]
    assert all(item["title"] for item in example["service"])
    assert [link["id"] for link in example["curated"]] == worst[0]["curated"]
    assert not list(latest_path(settings.data_dir).parent.glob(".*")), "no temporary file left"


def test_the_report_is_an_editors_page(evaluated: tuple[Settings, dict[str, Any], Path]) -> None:
    settings, _, report = evaluated
    document = read_latest(settings.data_dir)
    assert document is not None
    page = report.read_text()
    body = page.split("<body>", 1)[1]
    assert "<script" not in page and "http" not in body.split("Generated")[0]
    assert "data:image/png;base64," in page
    assert str(SAMPLE_RELATED.resolve()) in page
    assert "<code>none</code>" in page  # the options are recorded (recency none)
    for text in list(METRICS.values()) + list(METHODS.values()):
        assert text.replace("'", "&#x27;") in page
    for example in document["examples"]:
        assert example["title"].replace("'", "&#x27;") in page
        for item in example["service"]:
            assert item["title"].replace("'", "&#x27;") in page
    assert "Served worst" in page and "By section" in page


def test_the_cli_says_where_it_wrote(sample_copy: Settings, tmp_path: Path) -> None:
    report = tmp_path / "page.html"
    directory = str(sample_copy.data_dir)
    invoke("curated", "import", str(SAMPLE_RELATED), "--data-dir", directory)
    result = invoke("evaluate", "--data-dir", directory, "--report", str(report), "--quiet")
    assert result.stdout.splitlines()[0].startswith("method")
    assert f"Report written to {report.resolve()}" in result.stderr
    assert str(latest_path(sample_copy.data_dir)) in result.stderr
    document = read_latest(sample_copy.data_dir)
    assert document is not None
    assert document["links"] == {"kind": "stored", "sources": 66, "links": 145}


def test_the_page_reads_it_worst_first_a_page_at_a_time(
    evaluated: tuple[Settings, dict[str, Any], Path], hashing: HashingEncoder
) -> None:
    settings, _, _ = evaluated
    client = create_app(settings, encoder=hashing).test_client()
    document = read_latest(settings.data_dir)
    assert document is not None
    worst = worst_first(document["sources"])
    body = client.get("/catalog/evaluation?per_page=5&page=2").get_json()["evaluation"]
    assert "sources" not in body and body["methods"] == document["methods"]
    assert body["worst"]["total"] == 66 and body["worst"]["pages"] == 14
    assert body["worst"]["sources"] == worst[5:10]
    assert client.get("/catalog/evaluation?page=0").status_code == 400


def test_no_evaluation_yet_reads_as_none(sample_copy: Settings, hashing: HashingEncoder) -> None:
    assert read_latest(sample_copy.data_dir) is None
    client = create_app(sample_copy, encoder=hashing).test_client()
    assert client.get("/catalog/evaluation").get_json() == {"ok": True, "evaluation": None}
