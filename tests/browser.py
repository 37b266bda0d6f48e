"""Driving Debian's Chromium with Playwright for the editors' page tests.

Playwright's own browser downloads do not work on these machines, so it launches the system
Chromium (`apt-get install chromium`; `RELATED_CHROMIUM` names another binary). Without it the
browser tests are skipped on a developer's machine and fail under CI (`CI` set), where
`.ci/run` installs it. Screenshots go to `RELATED_UI_SCREENSHOTS` (default: a pytest tmp dir),
saved as small palette PNGs.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(
    os.environ.get("RELATED_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
)
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS_ENV = "RELATED_UI_SCREENSHOTS"


def require_browser() -> None:
    """Skip (fail under CI) unless Playwright and Chromium are installed."""
    missing = []
    if importlib.util.find_spec("playwright") is None:
        missing.append("the playwright package (pip install -e '.[dev]')")
    if not CHROMIUM.exists():
        missing.append(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    if missing:
        message = "browser tests need " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@contextmanager
def chromium() -> Iterator[Any]:
    """The system Chromium, launched headless by Playwright (skipped, or failed under CI,
    where it is missing); closed on the way out."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            if browser.is_connected():
                browser.close()


def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get(SCREENSHOTS_ENV)
    directory = Path(given) if given else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def save_screenshot(page: Any, directory: Path, name: str) -> Path:
    """The whole page as `<name>.png`, reduced to a 256-colour palette (a fifth of the size)."""
    from PIL import Image

    path = directory / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    with Image.open(path) as image:
        reduced = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    reduced.save(path, optimize=True)
    return path


ACCESSIBILITY_PROBLEMS = """() => {
  const problems = [];
  const named = (el) => (el.getAttribute("aria-label") || el.textContent || "").trim();
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden") continue;
    if (!el.labels.length && !el.getAttribute("aria-label")) problems.push("unlabelled " + el.outerHTML.slice(0, 80));
  }
  for (const el of document.querySelectorAll("button, a[href], summary")) {
    if (!named(el)) problems.push("nameless " + el.outerHTML.slice(0, 80));
  }
  for (const el of document.querySelectorAll("[tabindex]")) {
    if (Number(el.getAttribute("tabindex")) > 0) problems.push("tabindex > 0 " + el.outerHTML.slice(0, 80));
  }
  if (document.documentElement.scrollWidth > document.documentElement.clientWidth + 1) {
    problems.push("wider than the window: " + document.documentElement.scrollWidth);
  }
  return problems;
}"""


def accessibility_problems(page: Any) -> list[str]:
    """Unlabelled fields, nameless controls, positive tab orders and sideways scrolling."""
    problems: list[str] = page.evaluate(ACCESSIBILITY_PROBLEMS)
    return problems
