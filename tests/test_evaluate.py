"""`related evaluate` (`service.quality.evaluate`) on the bundled sample and its curated links, through
the CLI, with the real model."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli import cli
from service.editorial.link_files import read_links
from service.errors import RelatedError
from tests.conftest import MODEL_CACHE, REAL_MODEL, SAMPLE_RELATED, load_sample_related

METHODS = ["random", "most-recent", "bm25-mlt", "tfidf", "dense", "service"]


def run(*args: str) -> str:
    result = CliRunner(
        env={"RELATED_MODEL": REAL_MODEL, "RELATED_MODEL_CACHE": str(MODEL_CACHE)}
    ).invoke(cli, ["evaluate", *args, "--quiet"])
    assert result.exit_code == 0, result.output
    return result.stdout  # stderr says where the evaluation and the report were saved


def test_table_lists_every_method_and_marks_the_best(real_sample_dir: Path) -> None:
    output = run(str(SAMPLE_RELATED), "--data-dir", str(real_sample_dir))
    rows = {line.split()[0] for line in output.splitlines()[1:-1]}
    assert rows == set(METHODS)
    assert "ndcg@10" in output.splitlines()[0] and "*" in output
    assert "66 sources evaluated, 0 skipped" in output


def test_json_parses_and_the_service_wins_on_the_sample(real_sample_dir: Path) -> None:
    result = json.loads(
        run(str(SAMPLE_RELATED), "--data-dir", str(real_sample_dir), "--json", "--k", "5,10")
    )
    assert list(result["methods"]) == METHODS
    service = result["methods"]["service"]
    for metric in (
        "precision@5",
        "recall@10",
        "ndcg@10",
        "hit_rate@10",
        "mrr@10",
        "map@10",
        "coverage@10",
    ):
        assert 0.0 <= service[metric] <= 1.0
    for method in ("random", "most-recent", "bm25-mlt", "tfidf", "dense"):
        assert service["ndcg@10"] >= result["methods"][method]["ndcg@10"], method
    assert len(result["curves"]["service"]["ndcg"]) == 20


def test_per_article_csv_has_a_row_per_source_and_the_report_is_self_contained(
    real_sample_dir: Path, tmp_path: Path
) -> None:
    per_article, report = tmp_path / "per.csv", tmp_path / "report.html"
    run(
        str(SAMPLE_RELATED),
        "--data-dir",
        str(real_sample_dir),
        "--per-article",
        str(per_article),
        "--report",
        str(report),
    )
    with per_article.open() as handle:
        rows = list(csv.DictReader(handle))
    assert {row["source_id"] for row in rows} == set(load_sample_related())
    assert {"curated", "system", "hits", "missed", "first_hit_rank", "ndcg@10"} <= set(rows[0])
    page = report.read_text()
    assert (
        "<table>" in page
        and "data:image/png;base64," in page
        and "http" not in page.split("<body>")[1].split("Generated")[0]
    )
    for method in METHODS:
        assert f"<th>{method}</th>" in page


def test_past_only_sets_later_links_aside(real_sample_dir: Path) -> None:
    result = json.loads(
        run(str(SAMPLE_RELATED), "--data-dir", str(real_sample_dir), "--json", "--past-only")
    )
    assert result["past_only"] is True and result["links_set_aside"] > 0
    assert result["sources_evaluated"] + result["sources_skipped_total"] == 66


def test_unknown_ids_are_counted_not_dropped(real_sample_dir: Path, tmp_path: Path) -> None:
    links = tmp_path / "links.csv"
    links.write_text(
        "source_id,target_id,grade\n"
        "2026-03-02-heatwave-grid-record,2026-03-09-grid-operator-demand-response,2\n"
        "2026-03-02-heatwave-grid-record,no-such-article,1\n"
        "no-such-source,2026-03-02-heatwave-grid-record,1\n"
    )
    result = json.loads(run(str(links), "--data-dir", str(real_sample_dir), "--json"))
    assert result["sources_evaluated"] == 1 and result["links_missing"] == 1
    assert result["sources_skipped"] == {"source_not_indexed": 1}


def test_bad_links_file_names_the_line(tmp_path: Path) -> None:
    links = tmp_path / "links.jsonl"
    links.write_text('{"id": "a", "related": ["b"]}\n{"id": "c", "related": "d"}\n')
    with pytest.raises(RelatedError, match="line 2"):
        read_links(links)
