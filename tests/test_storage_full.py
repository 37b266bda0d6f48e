"""A build that runs out of disk space says `storage_full` everywhere an operator looks: the CLI
(its message and exit code 3), `build.log`, `build-status.json` (`failed`, with the code and the
reason), `GET /index`, the editors' page and `/metrics`; the generation served is unchanged and
the build's partial files are gone. The disk is "filled" by a failpoint raising the OSError a
full disk gives (`RELATED_FAILPOINT=<point>:enospc`, service.disk.failpoints)."""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from embeddings.hashing import HashingEncoder
from service.build.state import STATUS_FILE, read_status
from service.cli import cli
from service.cli.common import STORAGE_FULL_EXIT
from service.config.settings import Settings
from service.disk.full import disk_full
from service.generations.generation import TMP_PREFIX, current_name
from service.web.app import create_app
from tests.browser import chromium, require_browser
from tests.conftest import CEILING, HASHING, HTTP_TIMEOUT, Server, wait_for

ENOSPC = os.strerror(errno.ENOSPC)


def _chained() -> BaseException:
    try:
        try:
            raise OSError(errno.ENOSPC, ENOSPC)
        except OSError as inner:
            raise RuntimeError("could not save the index") from inner
    except RuntimeError as outer:
        return outer


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.ENOSPC, ENOSPC),
        OSError(errno.EDQUOT, os.strerror(errno.EDQUOT)),
        OSError("82113 requested and 11232 written"),  # numpy's tofile on a short write
        RuntimeError("write error in index.faiss: 3 != 12 (No space left on device)"),  # FAISS
        _chained(),
    ],
    ids=["enospc", "edquot", "short-write", "faiss", "chained"],
)
def test_every_way_libraries_say_the_disk_is_full_is_recognised(error: BaseException) -> None:
    assert disk_full(error)


@pytest.mark.parametrize(
    "error", [OSError(errno.EACCES, "Permission denied"), ValueError("3 requested"), KeyError("x")]
)
def test_other_errors_are_not_a_full_disk(error: BaseException) -> None:
    assert not disk_full(error)


def _leftovers(settings: Settings) -> list[str]:
    return [p.name for p in settings.generations_dir.iterdir() if p.name.startswith(TMP_PREFIX)]


@pytest.mark.parametrize("point", ["mid-generation-write", "before-publish"])
def test_the_cli_build_says_storage_full_and_the_status_and_index_say_failed(
    sample_copy: Settings, hashing: HashingEncoder, point: str
) -> None:
    served = current_name(sample_copy.generations_dir)
    generations = sorted(p.name for p in sample_copy.generations_dir.iterdir() if p.is_dir())
    runner = CliRunner(env={"RELATED_MODEL": HASHING, "RELATED_FAILPOINT": f"{point}:enospc"})
    d = ["--data-dir", str(sample_copy.data_dir)]
    result = runner.invoke(cli, ["build", "--full", "--quiet", *d])
    assert result.exit_code == STORAGE_FULL_EXIT, result.output
    line = result.output.strip()
    assert line.startswith("Error: storage_full: the disk under") and line.count("\n") == 0
    assert "No space left on device" in line and "generation served is unchanged" in line

    status = json.loads((sample_copy.data_dir / STATUS_FILE).read_text())
    assert status["state"] == "failed" and status["code"] == "storage_full"
    assert status["error"].startswith("storage_full:")
    assert current_name(sample_copy.generations_dir) == served and _leftovers(sample_copy) == []
    assert (
        sorted(p.name for p in sample_copy.generations_dir.iterdir() if p.is_dir()) == generations
    )

    client = create_app(sample_copy, encoder=hashing).test_client()
    index = client.get("/index").get_json()
    assert index["generation"] == served
    assert (index["rebuild"]["state"], index["rebuild"]["code"]) == ("failed", "storage_full")
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'related_last_build_failure{code="storage_full"} 1.0' in metrics
    assert 'related_last_build_state{state="failed"} 1.0' in metrics

    # Space freed: the next build succeeds and the failure metric goes.
    assert (
        CliRunner(env={"RELATED_MODEL": HASHING}).invoke(cli, ["build", "--quiet", *d]).exit_code
        == 0
    )
    assert (read_status(sample_copy.data_dir) or {})["state"] == "succeeded"
    assert "related_last_build_failure" not in client.get("/metrics").get_data(as_text=True)


def test_a_failure_is_recorded_even_when_the_status_file_cannot_be_replaced(
    sample_copy: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a disk too full for the atomic write's second copy, the status is rewritten in place:
    `GET /index` must never keep the previous build's `succeeded`."""
    from service.build import state

    def no_room(path: Any, text: str) -> None:
        raise OSError(errno.ENOSPC, ENOSPC)

    status = state.BuildStatus(sample_copy.data_dir)
    status.start()
    monkeypatch.setattr(state, "atomic_write_text", no_room)
    status.fail(OSError(errno.ENOSPC, ENOSPC))
    assert (read_status(sample_copy.data_dir) or {})["state"] == "failed"


def _api(server: Server, path: str, method: str = "GET") -> Any:
    return requests.request(method, server.url(path), timeout=HTTP_TIMEOUT).json()


def test_a_rebuild_over_http_on_a_full_disk_is_reported_in_build_log_index_and_the_page(
    sample_copy: Settings, start_server: Callable[..., Server]
) -> None:
    env = {"RELATED_FAILPOINT": "mid-generation-write:enospc"}
    server = start_server(sample_copy.data_dir, workers=1, env=env)
    served = _api(server, "/index")["generation"]
    assert _api(server, "/index/rebuild", method="POST")["state"] == "started"

    def finished() -> bool:
        return (_api(server, "/index")["rebuild"] or {}).get("state") == "failed"

    wait_for(finished, "the rebuild to fail")
    index = _api(server, "/index")
    assert index["generation"] == served and index["rebuild"]["code"] == "storage_full"
    log = sample_copy.data_dir / "build.log"
    # The status is written before the process prints its last line.
    wait_for(lambda: "Error: storage_full: the disk under" in log.read_text(), "build.log's line")
    metrics = requests.get(server.url("/metrics"), timeout=HTTP_TIMEOUT).text
    assert 'related_last_build_failure{code="storage_full"} 1.0' in metrics

    require_browser()
    from playwright.sync_api import expect

    with chromium() as browser:
        try:
            page = browser.new_page()
            page.goto(server.url("/ui/collection"))
            state = page.locator("#build-state")
            expect(state).to_contain_text("Last build failed", timeout=CEILING * 1000)
            expect(state).to_contain_text("storage_full: the disk under")
        finally:
            browser.close()
