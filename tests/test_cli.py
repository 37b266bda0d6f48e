"""The `related` command: help everywhere, one-line errors with non-zero exit codes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from service.cli import cli
from service.cli.common import SIGPIPE_EXIT
from service.config.options import DECLARATIONS, WEB_ONLY
from service.config.settings import Settings

COMMANDS = [
    "ingest",
    "articles",
    "build",
    "serve",
    "related",
    "export",
    "pins",
    "blocks",
    "evaluate",
    "demo",
]
HASHING = {"RELATED_MODEL": "hashing"}


@pytest.mark.parametrize("command", [[], *[[c] for c in COMMANDS]])
def test_help_everywhere(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output
    if command and command != ["articles"]:  # a group: its subcommands take --data-dir
        assert "--data-dir" in result.output


@pytest.mark.parametrize("entry", [["related"], [sys.executable, "-m", "service"]])
def test_every_command_is_listed_by_the_entry_points(entry: list[str]) -> None:
    if entry == ["related"]:
        entry = [str(Path(sys.executable).with_name("related"))]
    listed = subprocess.run([*entry, "--help"], capture_output=True, text=True, check=True).stdout
    commands = listed.split("Commands:")[1].split()
    assert set(COMMANDS) <= set(commands)


def test_option_flags_come_from_the_declarations() -> None:
    output = CliRunner().invoke(cli, ["related", "--help"]).output
    for declaration in DECLARATIONS:
        flag = "--" + declaration.name.replace("_", "-")
        assert (flag in output) != (declaration.group in WEB_ONLY), flag


def test_related_prints_a_ranked_list(sample_dir: Path) -> None:
    result = CliRunner(env=HASHING).invoke(
        cli,
        ["related", "2026-03-02-heatwave-grid-record", "--k", "3", "--data-dir", str(sample_dir)],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("2026-03-02-heatwave-grid-record: Heatwave")
    assert len(lines) == 4 and lines[1].lstrip().startswith("1. ")


def test_errors_are_one_line_without_traceback(sample_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner(env=HASHING)
    unknown = runner.invoke(cli, ["related", "nope", "--data-dir", str(sample_dir)])
    assert unknown.exit_code == 2
    assert unknown.output.strip() == "Error: Article 'nope' does not exist"
    empty = runner.invoke(cli, ["build", "--data-dir", str(tmp_path / "empty")])
    assert empty.exit_code == 2 and "ingest some first" in empty.output
    assert "Traceback" not in empty.output
    not_built = runner.invoke(cli, ["related", "x", "--data-dir", str(tmp_path / "empty")])
    assert not_built.exit_code == 2 and not_built.output.count("\n") == 1


def test_bad_environment_value_is_reported_not_raised(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["related", "x", "--data-dir", str(tmp_path)], env={"RELATED_MAX_K": "abc"}
    )
    assert result.exit_code == 1
    assert result.output.strip() == "Error: RELATED_MAX_K must be a whole number, got 'abc'"


def test_articles_show_list_and_delete(settings: Settings) -> None:
    runner, d = CliRunner(env=HASHING), ["--data-dir", str(settings.data_dir)]
    listed = runner.invoke(cli, ["articles", "list", "--limit", "3", *d])
    assert listed.exit_code == 0 and len(listed.output.splitlines()) == 3
    first_id, _, title = listed.output.splitlines()[0].split("\t")
    shown = runner.invoke(cli, ["articles", "show", first_id, *d])
    assert shown.exit_code == 0 and json.loads(shown.output)["title"] == title
    as_json = runner.invoke(cli, ["articles", "list", "--json", *d]).output.splitlines()
    assert len(as_json) == 69 and "body" not in json.loads(as_json[0])
    missing = runner.invoke(cli, ["articles", "delete", first_id, "nope", *d])
    assert missing.exit_code == 2 and "'nope' does not exist" in missing.output
    assert runner.invoke(cli, ["articles", "show", first_id, *d]).exit_code == 0  # all or none
    deleted = runner.invoke(cli, ["articles", "delete", first_id, *d])
    assert deleted.exit_code == 0 and deleted.output.strip() == f"deleted {first_id}"
    assert runner.invoke(cli, ["articles", "show", first_id, *d]).exit_code == 2


def test_export_into_a_reader_that_stops_ends_quietly(sample_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELATED_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "service", "export", "--quiet", "--data-dir", str(sample_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**env, "RELATED_MODEL": "hashing"},
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()  # like `head -1`
    process.stdout.close()
    with process.stderr:
        stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == SIGPIPE_EXIT
    assert stderr == "", stderr


def test_ingest_json_reports_errors_as_json(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a"}\n{"id": "b", "title": "fine"}\n{"title": "no id"}\n')
    result = CliRunner(env=HASHING).invoke(
        cli, ["ingest", str(bad), "--json", "--quiet", "--data-dir", str(tmp_path / "d")]
    )
    assert result.exit_code == 2
    body = json.loads(result.stdout)
    assert body["ok"] is False and body["code"] == "invalid_articles" and body["status"] == 400
    assert [d["where"] for d in body["details"]] == ["line 1", "line 3"]


def test_ingest_errors_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(f'{{"id": "a{i}"}}\n' for i in range(30)))
    result = CliRunner(env=HASHING).invoke(
        cli, ["ingest", str(bad), "--quiet", "--data-dir", str(tmp_path / "d")]
    )
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert result.output.startswith("Error: 30 of 30 records are invalid")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "id;title;body",
            "is one column: columns must be separated by ',' (this file seems to use ';')",
        ),
        ("ID,Title,Body", "the header 'ID,Title,Body' has no 'id' and 'title' column"),
        ("id,headline", "the header 'id,headline' has no 'title' column"),
    ],
)
def test_a_csv_header_that_names_no_fields_is_shown_in_the_error(
    tmp_path: Path, header: str, expected: str
) -> None:
    source = tmp_path / "articles.csv"
    source.write_text(f"{header}\na;A title;Text\n")
    result = CliRunner(env=HASHING).invoke(
        cli, ["ingest", str(source), "--quiet", "--data-dir", str(tmp_path / "d")]
    )
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert expected in result.output, result.output


def test_a_build_whose_output_is_not_a_terminal_prints_progress_lines(sample_copy: Any) -> None:
    result = CliRunner(env=HASHING).invoke(
        cli, ["build", "--full", "--data-dir", str(sample_copy.data_dir)]
    )
    assert result.exit_code == 0, result.output
    phases = [line.split()[1] for line in result.stderr.splitlines() if line[:2] == "20"]
    for phase in ("reading:", "indexing:", "neighbours:", "writing:"):
        assert phase in phases, result.stderr
    assert "\r" not in result.stderr  # no bars


@pytest.mark.parametrize(
    "command",
    [
        ["related", "x"],
        ["export"],
        ["evaluate"],
        ["articles", "list"],
        ["articles", "show", "x"],
        ["pins", "x"],
        ["blocks"],
        ["curated", "show", "x"],
    ],
)
def test_reads_refuse_a_data_directory_with_no_store(tmp_path: Path, command: list[str]) -> None:
    typo = tmp_path / "dtaa"
    result = CliRunner(env=HASHING).invoke(cli, [*command, "--data-dir", str(typo)])
    assert result.exit_code == 2, result.output
    assert "There is no article store in" in result.output and "--data-dir" in result.output
    assert not typo.exists()  # nothing created


def test_serve_on_a_busy_port_says_to_set_related_port(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        for command in ("serve", "demo"):
            result = CliRunner(env=HASHING).invoke(
                cli, [command, "--port", str(port), "--data-dir", str(tmp_path / "d")]
            )
            assert result.exit_code == 1, result.output
            assert f"Port {port} on 127.0.0.1 is already in use" in result.output
            assert "RELATED_PORT" in result.output
            assert result.output.startswith("Error: Port") and result.output.count("\n") == 1
