"""`GET /embed.js` in a real browser: Debian's Chromium driven by Playwright loads a host page
served from ANOTHER loopback port (another origin) that embeds the script, against a real
`related serve` whose CORS setting allows that origin.

Checked: the box loads only when scrolled into view, in one request; it lists the titles the
API gives that visitor, as an accessible list; its look comes from CSS custom properties; no
cookie is set; a click sends its event and the experiment report counts it; a service that is
slow or down leaves the host page as it was, with no script error. The articles' own pages
and images (`news.northport.example`) are answered by Playwright's router: no network. The
host page's screenshot goes where the editors' page tests put theirs (tests/browser.py).
"""

from __future__ import annotations

import fnmatch
import io
import json
import socket
import threading
import tomllib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from service.web.embed.script import SCRIPT
from service.web.server import free_port, spawn
from tests.browser import (
    LAPTOP,
    accessibility_problems,
    chromium,
    save_screenshot,
    screenshot_dir,
)
from tests.conftest import CEILING, HEATWAVE, HTTP_TIMEOUT, Server, copy_data_dir, wait_for

try:
    from playwright.sync_api import expect
except ImportError:  # require_browser() skips these tests, or fails them under CI
    expect = None

TIMEOUT_MS = 60_000
SITE = "https://news.northport.example/"
NETWORK_LOG = "Failed to load resource"
"""Chromium's own console line for a request that failed (the script or the list could not be
fetched): the browser's network log, not an error of the page or of the script."""


class HostSite:
    """A publisher's site on its own loopback port: a dict of path -> HTML."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path.split("?")[0])
                data = (body or "not found").encode()
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class BlackHole:
    """A port that accepts connections and never answers: a service that hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held: list[socket.socket] = []
        threading.Thread(target=self.hold, daemon=True).start()

    def hold(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        for conn in self.held:
            conn.close()
        self.sock.close()


def host_page(service: str, box: str, *, script: str = "") -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Northport Daily</title>
<style>body {{ font: 16px/1.5 Georgia, serif; max-width: 40rem; margin: 2rem auto; }}
.ra-root {{ --ra-link-color: #0b5fff; --ra-gap: .8em; }}</style></head>
<body><main><h1 id="headline">Heatwave pushes electricity demand to a record</h1>
<p>Demand peaked at 9 pm as air conditioners ran all night.</p>
<div id="spacer" style="height: 2400px">The story goes on.</div>
{box}
<p id="footer">The end of the page.</p></main>
<script src="{service}/embed.js" async {script}></script></body></html>"""


@pytest.fixture(scope="module")
def site() -> Iterator[HostSite]:
    running = HostSite()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def service(
    sample_dir: Path, site: HostSite, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """`related serve` over the built sample, one worker (so the report sees its own queue),
    allowing the host site's origin."""
    data = copy_data_dir(sample_dir, tmp_path_factory.mktemp("embed") / "data").data_dir
    log = tmp_path_factory.mktemp("logs") / "server.log"
    env = {
        "RELATED_MODEL": "hashing",
        "RELATED_PRELOAD_MODEL": "0",
        "RELATED_AUTO_REBUILD": "0",
        "RELATED_CORS_ORIGINS": site.origin,
    }
    process, base = spawn(data, workers=1, env=env, log=log, timeout=CEILING)
    running = Server(process, base, log)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        expect.set_options(timeout=TIMEOUT_MS)
        yield launched


def tiny_png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (160, 100), (196, 120, 60)).save(out, "PNG")
    return out.getvalue()


class Watched:
    """A page and what it did: script errors, console errors, requests to the service."""

    def __init__(self, context: Any, service: str) -> None:
        self.context = context
        self.page = context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.errors: list[str] = []
        self.console: list[str] = []
        self.requests: list[Any] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on(
            "console",
            lambda m: self.console.append(m.text) if m.type in ("error", "warning") else None,
        )
        self.page.on(
            "request", lambda r: self.requests.append(r) if r.url.startswith(service) else None
        )

    def list_requests(self) -> list[Any]:
        return [r for r in self.requests if "/related" in r.url]

    def script_console(self) -> list[str]:
        """Console errors and warnings other than the browser's network log."""
        return [text for text in self.console if NETWORK_LOG not in text]


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[[str], Watched]]:
    contexts: list[Any] = []
    png = tiny_png()

    def make(service: str) -> Watched:
        context = browser.new_context(viewport=LAPTOP)
        contexts.append(context)

        def article_site(route: Any) -> None:
            if route.request.url.endswith(".jpg"):
                route.fulfill(status=200, content_type="image/png", body=png)
            else:
                route.fulfill(status=200, content_type="text/html", body="<title>story</title>")

        context.route(SITE + "**", article_site)
        return Watched(context, service)

    yield make
    for context in contexts:
        context.close()


def settle(page: Any) -> None:
    """Two animation frames: the intersection observers have had their first callback."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def api(service: Server, path: str, **kwargs: Any) -> Any:
    method = kwargs.pop("method", "GET")
    response = requests.request(method, service.url(path), timeout=HTTP_TIMEOUT, **kwargs)
    return response.json()


def test_the_box_renders_the_visitors_list_lazily_in_one_request(
    service: Server,
    site: HostSite,
    open_page: Callable[[str], Watched],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    box = f'<div id="box" data-related-article="{HEATWAVE}" data-k="4" data-images="true"></div>'
    site.pages["/story"] = host_page(service.base, box)
    watched = open_page(service.base)
    page = watched.page
    with page.expect_response(lambda r: r.url.endswith("/embed.js")):
        page.goto(site.origin + "/story")
    settle(page)
    assert watched.list_requests() == []  # below the fold: nothing asked yet
    assert page.locator("#box").get_attribute("data-related-state") is None

    page.locator("#footer").scroll_into_view_if_needed()
    expect(page.locator("#box")).to_have_attribute("data-related-state", "rendered")
    asked = watched.list_requests()
    assert len(asked) == 1  # one round trip: a simple GET, no preflight
    assert "cookie" not in asked[0].all_headers()
    visitor = page.evaluate("() => localStorage.getItem('related-articles-visitor')")
    assert visitor and f"visitor={visitor}" in asked[0].url

    # The same request from outside the browser: the same list, id and variant.
    answer = requests.get(asked[0].url, timeout=HTTP_TIMEOUT).json()
    assert f"/articles/{HEATWAVE}/related?k=4&" in asked[0].url
    titles = [item["title"] for item in answer["related"]]
    region = page.get_by_role("complementary", name="Related articles")
    expect(region.get_by_role("heading", name="Related articles")).to_be_visible()
    expect(region.get_by_role("listitem")).to_have_count(len(titles))
    expect(region.locator(".ra-title")).to_have_text(titles)
    links = region.get_by_role("link")
    assert links.evaluate_all("els => els.map(e => e.href)") == [
        item["url"] for item in answer["related"]
    ]
    expect(page.locator("#box")).to_have_attribute(
        "data-recommendation-id", answer["recommendation_id"]
    )
    expect(page.locator("#box")).to_have_attribute("data-variant", answer["variant"])
    expect(region.locator("img.ra-image")).to_have_count(
        sum(1 for item in answer["related"] if item.get("image"))
    )
    # The site's custom properties style it; the keyboard reaches the links in order.
    assert links.first.evaluate("e => getComputedStyle(e).color") == "rgb(11, 95, 255)"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == titles[0]
    assert accessibility_problems(page) == []
    assert watched.context.cookies() == []
    assert watched.errors == [] and watched.console == []

    # The host page with its list, for the docs (RELATED_UI_SCREENSHOTS names the folder).
    page.locator("#spacer").evaluate("e => { e.style.height = '1rem' }")
    page.set_viewport_size({"width": 900, "height": 760})
    save_screenshot(page, screenshot_dir(tmp_path_factory), "embed_host")


def test_every_box_of_a_page_renders_with_its_own_options(
    service: Server, site: HostSite, open_page: Callable[[str], Watched]
) -> None:
    boxes = (
        f'<div id="one" data-related-article="{HEATWAVE}" data-section="Health" '
        'data-fill="section" data-k="2" data-heading="More on health" '
        'data-heading-level="3"></div>'
        '<div id="two" data-related-article="2026-03-09-grid-operator-demand-response"></div>'
    )
    # The script tag's own data- attributes apply to every box that does not say otherwise.
    site.pages["/two"] = host_page(service.base, boxes, script='data-k="3"')
    watched = open_page(service.base)
    page = watched.page
    page.goto(site.origin + "/two")
    page.locator("#footer").scroll_into_view_if_needed()
    for box in ("#one", "#two"):
        expect(page.locator(box)).to_have_attribute("data-related-state", "rendered")
    asked = sorted(watched.list_requests(), key=lambda r: HEATWAVE not in r.url)
    assert len(asked) == 2
    assert "section=Health" in asked[0].url and "fill=section" in asked[0].url
    assert "k=2" in asked[0].url and "k=3" in asked[1].url
    for box, request in zip(("#one", "#two"), asked, strict=True):
        answer = requests.get(request.url, timeout=HTTP_TIMEOUT).json()
        expect(page.locator(f"{box} .ra-title")).to_have_text(
            [item["title"] for item in answer["related"]]
        )
    expect(page.get_by_role("heading", name="More on health", level=3)).to_be_visible()
    names = page.locator(".ra-heading").evaluate_all("els => els.map(e => e.id)")
    assert len(set(names)) == 2  # each landmark labelled by its own heading
    assert watched.errors == [] and watched.console == []


def test_an_empty_box_takes_its_article_from_the_canonical_url(
    service: Server, site: HostSite, open_page: Callable[[str], Watched]
) -> None:
    # The id the site ingestion gives a page is its canonical URL's path (or, with
    # --id-from slug, its last segment), so a template can leave the id out.
    canonical = f'<link rel="canonical" href="{SITE}climate/{HEATWAVE}.html">'
    page_html = host_page(
        service.base, '<div id="box" data-related-article="" data-id-from="slug"></div>'
    )
    site.pages["/canonical"] = page_html.replace("</title>", "</title>" + canonical)
    watched = open_page(service.base)
    page = watched.page
    page.goto(site.origin + "/canonical")
    page.locator("#footer").scroll_into_view_if_needed()
    expect(page.locator("#box")).to_have_attribute("data-related-state", "rendered")
    (asked,) = watched.list_requests()
    assert f"/articles/{HEATWAVE}/related?" in asked.url
    answer = requests.get(asked.url, timeout=HTTP_TIMEOUT).json()
    expect(page.locator("#box .ra-title")).to_have_text([i["title"] for i in answer["related"]])
    assert watched.errors == [] and watched.console == []


def test_a_click_sends_its_event_and_the_experiment_report_counts_it(
    service: Server, site: HostSite, open_page: Callable[[str], Watched]
) -> None:
    started = api(
        service,
        "/experiments",
        method="POST",
        json={"name": "embed-click", "variants": ["defaults", "curated"]},
    )
    assert started["ok"], started
    try:
        box = f'<div id="box" data-related-article="{HEATWAVE}" data-k="3"></div>'
        site.pages["/click"] = host_page(service.base, box)
        watched = open_page(service.base)
        page = watched.page
        page.goto(site.origin + "/click")
        page.locator("#footer").scroll_into_view_if_needed()
        expect(page.locator("#box")).to_have_attribute("data-related-state", "rendered")
        variant = page.locator("#box").get_attribute("data-variant")
        rid = page.locator("#box").get_attribute("data-recommendation-id")
        assert variant in ("defaults", "curated") and rid
        target = page.locator("a.ra-link").nth(1)
        target_url = target.get_attribute("href")
        with page.expect_request(lambda r: r.url == service.url("/events")) as sent:
            target.click()
        events = json.loads(sent.value.post_data)["events"]
        click = next(e for e in events if e["type"] == "click")
        assert click["position"] == 1 and click["variant"] == variant
        assert click["recommendation_id"] == rid and click["article"] == HEATWAVE
        page.wait_for_url(target_url)  # the reader went where the link said

        def counted() -> bool:
            report = api(service, "/experiments/embed-click/report")["report"]
            row = next(r for r in report["variants"] if r["variant"] == variant)
            return bool(row["clicks"] == 1 and row["impressions"] >= 1)

        wait_for(counted, "the click in the experiment's report")
        assert watched.errors == [] and watched.console == []
    finally:
        api(service, "/experiments/embed-click/stop", method="POST")


def test_a_slow_service_leaves_the_box_as_it_was(
    service: Server, site: HostSite, open_page: Callable[[str], Watched]
) -> None:
    hole = BlackHole()
    try:
        box = (
            f'<div id="box" data-related-article="{HEATWAVE}" data-api="{hole.base}" '
            'data-timeout="400"><p>More from Northport</p></div>'
        )
        site.pages["/slow"] = host_page(service.base, box)
        watched = open_page(service.base)
        page = watched.page
        page.goto(site.origin + "/slow")
        page.locator("#footer").scroll_into_view_if_needed()
        expect(page.locator("#box")).to_have_attribute("data-related-state", "failed")
        assert page.locator("#box").inner_html() == "<p>More from Northport</p>"
        assert watched.errors == [] and watched.script_console() == []
    finally:
        hole.close()


def test_with_the_service_down_the_host_page_loads_without_errors(
    sample_dir: Path,
    site: HostSite,
    open_page: Callable[[str], Watched],
    tmp_path: Path,
) -> None:
    data = copy_data_dir(sample_dir, tmp_path / "data").data_dir
    env = {
        "RELATED_MODEL": "hashing",
        "RELATED_PRELOAD_MODEL": "0",
        "RELATED_CORS_ORIGINS": site.origin,
    }
    process, base = spawn(data, workers=1, env=env, log=tmp_path / "log", timeout=CEILING)
    stopped = Server(process, base, tmp_path / "log")
    box = f'<div id="box" data-related-article="{HEATWAVE}"><p>More stories</p></div>'
    site.pages["/down"] = host_page(base, box)

    # Down after the script loaded: the list request fails, the box stays as it was.
    watched = open_page(base)
    page = watched.page
    page.goto(site.origin + "/down")
    wait_for(
        lambda: page.evaluate("() => !!document.querySelector('script[src$=\"embed.js\"]')"),
        "the script tag",
    )
    page.wait_for_load_state("load")
    stopped.stop()
    page.locator("#footer").scroll_into_view_if_needed()
    expect(page.locator("#box")).to_have_attribute("data-related-state", "failed")
    assert page.locator("#box").inner_html() == "<p>More stories</p>"
    assert watched.errors == [] and watched.script_console() == []

    # Down from the start: the script itself does not load; the page is the site's own.
    watched = open_page(base)
    page = watched.page
    page.goto(site.origin + "/down")
    page.wait_for_load_state("load")
    page.locator("#footer").scroll_into_view_if_needed()
    expect(page.locator("#headline")).to_be_visible()
    assert page.locator("#box").inner_html() == "<p>More stories</p>"
    assert watched.errors == [] and watched.script_console() == []


def test_the_script_is_small_cached_and_gzipped(service: Server) -> None:
    raw = SCRIPT.read_bytes()
    plain = requests.get(
        service.url("/embed.js"), timeout=HTTP_TIMEOUT, headers={"Accept-Encoding": "identity"}
    )
    assert plain.content == raw
    assert plain.headers["Content-Type"] == "text/javascript; charset=utf-8"
    zipped = requests.get(
        service.url("/embed.js"),
        timeout=HTTP_TIMEOUT,
        stream=True,
        headers={"Accept-Encoding": "gzip"},
    )
    size = len(zipped.raw.read(decode_content=False))
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert size <= 8 * 1024, f"embed.js is {size} bytes gzipped"
    again = requests.get(
        service.url("/embed.js"),
        timeout=HTTP_TIMEOUT,
        headers={"If-None-Match": plain.headers["ETag"]},
    )
    assert again.status_code == 304
    assert b"document.cookie" not in raw


def test_the_script_and_the_fragment_template_are_package_data() -> None:
    config = tomllib.loads((SCRIPT.parents[3] / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["service.web.embed"]
    files = [p.name for p in SCRIPT.parent.iterdir() if p.is_file() and p.suffix != ".py"]
    assert {"embed.js", "related.html"} <= set(files)
    for name in files:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name
