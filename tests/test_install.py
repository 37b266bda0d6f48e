"""The Docker image's install, without Docker: the Dockerfile's steps pin every version
(`constraints.txt`, kept current by scripts/lock.py), install the project non-editable and
report health from /readyz with a start period. The full install into a fresh virtual
environment takes minutes, so it runs where `CI` or `RELATED_INSTALL_TEST` is set (once per CI
run, `.ci/run`); torch comes from the local wheel (scripts/install.sh), never a CUDA download."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def dockerfile_env() -> dict[str, str]:
    """The Dockerfile's ENV values (one `ENV` with continued `NAME=value` lines)."""
    block = re.search(r"^ENV ((?:.*\\\n)*.*)$", DOCKERFILE, re.MULTILINE)
    assert block is not None
    pairs = re.findall(r'(\w+)=("[^"]*"|\S+)', block.group(1))
    return {name: value.strip('"') for name, value in pairs}


def copied_files() -> list[str]:
    """What the Dockerfile COPYs into /app, in order."""
    found: list[str] = []
    for line in re.findall(r"^COPY (.+)$", DOCKERFILE, re.MULTILINE):
        found.extend(line.split()[:-1])
    return found


def test_the_image_is_healthy_only_when_ready_and_pins_every_version() -> None:
    healthcheck = re.search(r"^HEALTHCHECK ((?:.*\\\n)*.*)$", DOCKERFILE, re.MULTILINE)
    assert healthcheck is not None
    assert "/readyz" in healthcheck.group(1) and "/healthz" not in healthcheck.group(1)
    assert re.search(r"--start-period=\d+s", healthcheck.group(1))
    env = dockerfile_env()
    assert env["CONSTRAINTS"] == "constraints.txt" and env["EDITABLE"] == "0"
    assert "constraints.txt" in copied_files()


def test_constraints_are_current_with_this_environment() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "lock.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def pinned() -> dict[str, str]:
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    return dict(line.split("==") for line in lines if line and not line.startswith("#"))


@pytest.mark.skipif(
    not (os.environ.get("CI") or os.environ.get("RELATED_INSTALL_TEST")),
    reason="a fresh install takes minutes: set RELATED_INSTALL_TEST=1 (CI runs it)",
)
def test_the_images_install_steps_give_the_pinned_versions_non_editable(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    for name in copied_files():
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, app / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, app / name)
    env = dockerfile_env()
    venv = tmp_path / "venv"
    install_env = {
        **os.environ,
        "VENV": str(venv),
        "PYTHON": sys._base_executable,
        "EXTRAS": env["EXTRAS"],
        "CONSTRAINTS": env["CONSTRAINTS"],
        "EDITABLE": env["EDITABLE"],
    }
    install_env.pop("TORCH_INDEX_URL", None)  # the local wheel, as scripts/install.sh prefers
    install_env.pop("PYTHONPATH", None)
    subprocess.run(["scripts/install.sh"], cwd=app, env=install_env, check=True)

    python = str(venv / "bin" / "python")
    listed = subprocess.run(
        [python, "-m", "pip", "list", "--format=json"], capture_output=True, text=True, check=True
    )
    installed = {
        re.sub(r"[-_.]+", "-", p["name"]).lower(): p["version"].split("+")[0]
        for p in json.loads(listed.stdout)
    }
    wrong = {n: (v, installed.get(n)) for n, v in pinned().items() if installed.get(n) != v}
    assert wrong == {}, wrong
    assert not any(name.startswith("nvidia-") for name in installed)  # no CUDA build
    # Non-editable: the code runs from the environment, with the checkout gone.
    shutil.rmtree(app)
    where = subprocess.run(
        [python, "-c", "import service; print(service.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert str(venv) in where.stdout
    help_text = subprocess.run(
        [str(venv / "bin" / "related"), "--help"], capture_output=True, text=True, cwd=tmp_path
    )
    assert help_text.returncode == 0 and "build" in help_text.stdout
