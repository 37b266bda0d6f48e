"""`related export --format hugo|jekyll|json-dir` (`service.related.static_export`): the data
files static-site generators read, matching the HTTP answers, and re-runs that rewrite only
the files whose bytes change (a build that changes nothing writes nothing)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from flask.testing import FlaskClient

from service.cli import cli
from service.config.settings import Settings
from service.related.static_export import MANIFEST
from tests.conftest import HEATWAVE
from tests.lists import ids, related

ENV = {"RELATED_MODEL": "hashing"}
PATH_ID = "2026/guides/heat & health"


def run(settings: Settings, *args: str) -> Result:
    result = CliRunner(env=ENV).invoke(
        cli, [*args, "--quiet", "--data-dir", str(settings.data_dir)]
    )
    return result


def export(settings: Settings, fmt: str, out: Path, *more: str) -> str:
    result = run(settings, "export", "--format", fmt, "--output", str(out), *more)
    assert result.exit_code == 0, result.output
    return result.stderr


def stamps(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file's inode and modification time: a rewrite (a rename into place) changes both."""
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


def contents(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.json")}


def test_hugo_data_file_holds_every_list_as_the_api_answers_it(
    settings: Settings, client: FlaskClient, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    message = export(settings, "hugo", site, "--k", "4")
    data: dict[str, Any] = json.loads((site / "data" / "related.json").read_text())
    count = client.get("/index").get_json()["articles_in_store"]
    assert len(data) == count
    assert f"exported {count} related lists" in message and "1 files written" in message
    answer = related(client, k=4)
    assert [i["id"] for i in data[HEATWAVE]["related"]] == ids(answer)
    first = data[HEATWAVE]["related"][0]
    assert first["title"] == answer["related"][0]["title"]
    assert first["url"] == answer["related"][0]["url"]
    assert "score" not in first  # changes with each build's statistics, not with the list
    assert data[HEATWAVE]["title"] == answer["article"]["title"]

    before = stamps(site)
    message = export(settings, "hugo", site, "--k", "4")
    assert "0 files written, 1 unchanged" in message
    assert stamps(site) == before


def test_jekyll_data_file_goes_to_underscore_data(settings: Settings, tmp_path: Path) -> None:
    export(settings, "jekyll", tmp_path / "site", "--k", "2")
    data = json.loads((tmp_path / "site" / "_data" / "related.json").read_text())
    assert all(len(entry["related"]) <= 2 for entry in data.values())
    assert HEATWAVE in data


def test_json_dir_rewrites_only_changed_files_and_removes_only_its_own(
    settings: Settings, client: FlaskClient, tmp_path: Path
) -> None:
    out = tmp_path / "related"
    out.mkdir()
    (out / "keep-me.json").write_text('{"mine": true}\n')  # the site's own file
    article = {
        "id": PATH_ID,
        "title": "Heat and health: a guide",
        "url": "https://x.example/g",
        "body": "How a heatwave strains the electricity grid and the elderly's health.",
    }
    assert client.post("/articles", json=article).status_code == 201
    export(settings, "json-dir", out, "--k", "3")
    assert (out / "2026" / "guides" / "heat%20%26%20health.json").is_file()
    heatwave = json.loads((out / f"{HEATWAVE}.json").read_text())
    assert [i["id"] for i in heatwave["related"]] == ids(related(client, k=3))
    assert json.loads((out / MANIFEST).read_text())["files"][0].endswith(".json")

    # A rebuild that takes the new article in changes some lists; exactly those are rewritten.
    old, before = contents(out), stamps(out)
    assert run(settings, "build").exit_code == 0
    message = export(settings, "json-dir", out, "--k", "3")
    new, after = contents(out), stamps(out)
    changed = {name for name in new if new[name] != old.get(name)}
    rewritten = {name for name in after if after[name] != before.get(name)} - {MANIFEST}
    assert changed and rewritten == changed
    assert f"{len(changed)} files written" in message

    # Pins change one article's list: one file is rewritten.
    target = heatwave["related"][-1]["id"]
    assert client.put(f"/articles/{HEATWAVE}/pins", json={"ids": [target]}).status_code == 200
    before = stamps(out)
    message = export(settings, "json-dir", out, "--k", "3")
    after = stamps(out)
    assert {n for n in after if after[n] != before[n]} - {MANIFEST} == {f"{HEATWAVE}.json"}
    assert "1 files written" in message
    pinned = json.loads((out / f"{HEATWAVE}.json").read_text())
    assert pinned["related"][0]["id"] == target

    # A deleted article's file goes; the site's own file stays.
    assert client.delete(f"/articles/{PATH_ID}").status_code == 200
    message = export(settings, "json-dir", out, "--k", "3")
    assert not (out / "2026" / "guides" / "heat%20%26%20health.json").exists()
    assert "1 removed" in message
    assert (out / "keep-me.json").read_text() == '{"mine": true}\n'


def test_static_formats_need_a_folder(settings: Settings, tmp_path: Path) -> None:
    result = run(settings, "export", "--format", "hugo")
    assert result.exit_code == 2
    assert "give --output DIR" in result.output
    file = tmp_path / "a-file"
    file.write_text("x")
    result = run(settings, "export", "--format", "json-dir", "--output", str(file))
    assert result.exit_code == 2 and "is a file" in result.output
    assert file.read_text() == "x"
