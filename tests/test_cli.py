"""The `related` command: help everywhere, one-line errors with non-zero exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli import cli
from service.options import DECLARATIONS

COMMANDS = ["ingest", "build", "serve", "related", "export", "pins", "blocks", "evaluate", "demo"]
HASHING = {"RELATED_MODEL": "hashing"}


@pytest.mark.parametrize("command", [[], *[[c] for c in COMMANDS]])
def test_help_everywhere(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output
    if command:
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
        assert "--" + declaration.name.replace("_", "-") in output


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
