"""`related export` (`service.related.export`): every list, streamed, as JSONL or CSV."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from click.testing import CliRunner
from flask.testing import FlaskClient

from service.cli import cli
from service.config.settings import Settings
from tests.conftest import HEATWAVE
from tests.lists import ids, related


def test_export_round_trips(settings: Settings, client: FlaskClient, tmp_path: Path) -> None:
    out = tmp_path / "related.jsonl"
    result = CliRunner(env={"RELATED_MODEL": "hashing"}).invoke(
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
    csv_out = CliRunner(env={"RELATED_MODEL": "hashing"}).invoke(
        cli,
        ["export", "--format", "csv", "--k", "3", "--quiet", "--data-dir", str(settings.data_dir)],
    )
    table = list(csv.DictReader(io.StringIO(csv_out.stdout)))
    assert len(table) == 69 * 3 - sum(3 - min(3, len(r["related"])) for r in rows)
    assert {"id", "rank", "related_id", "score"} <= set(table[0])
