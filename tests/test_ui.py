"""The editors' page (`/ui/`) in a real browser: Debian's Chromium driven by Playwright, against
a real `related serve` on a loopback port over the bundled sample (hashing encoder), with the
sample's curated links imported and an evaluation saved.

Every expectation is checked against the API's own answer, not against remembered figures. The
run saves screenshots of the main views at laptop and phone widths (see tests/browser.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from embeddings.hashing import HashingEncoder
from service.editorial.curated import import_links
from service.quality.evaluate import evaluate
from service.quality.latest import evaluation_document, latest_path, save_latest, worst_first
from service.services import Services
from service.web.server import spawn
from tests.browser import (
    LAPTOP,
    PHONE,
    accessibility_problems,
    chromium,
    save_screenshot,
    screenshot_dir,
)
from tests.conftest import (
    CEILING,
    HEATWAVE,
    HTTP_TIMEOUT,
    SAMPLE_ARTICLES,
    SAMPLE_RELATED,
    Server,
    copy_data_dir,
    ingest_file,
    make_settings,
)

try:
    from playwright.sync_api import expect
except ImportError:  # require_browser() skips these tests, or fails them under CI
    expect = None

HASHING_ENV = {"RELATED_MODEL": "hashing", "RELATED_PRELOAD_MODEL": "0"}
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def ui_data(
    sample_dir: Path, hashing: HashingEncoder, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The built sample with its curated links imported and an evaluation saved."""
    settings = copy_data_dir(sample_dir, tmp_path_factory.mktemp("ui") / "data")
    services = Services.open(settings, encoder=hashing)
    try:
        import_links(services.store, SAMPLE_RELATED, replace=True)
        links = services.store.all_curated()
        evaluation = evaluate(services, links, cutoffs=(5, 10))
        source = {"kind": "stored", "sources": len(links), "links": sum(map(len, links.values()))}
        save_latest(
            evaluation_document(evaluation, services.store, links=source), settings.data_dir
        )
    finally:
        services.store.close()
    return settings.data_dir


@pytest.fixture(scope="module")
def server(ui_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the tests that read, or undo what they change."""
    log = tmp_path_factory.mktemp("logs") / "server.log"
    process, base = spawn(ui_data, workers=2, env=HASHING_ENV, log=log)
    running = Server(process, base, log)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        expect.set_options(timeout=TIMEOUT_MS)
        yield launched


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """A fresh browser context (its own session storage) per page; uncaught errors fail."""
    contexts: list[Any] = []
    errors: list[str] = []

    def make(viewport: dict[str, int] = LAPTOP) -> Any:
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, errors


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshot_dir(tmp_path_factory)


def api(server: Server, path: str, **kwargs: Any) -> Any:
    method = kwargs.pop("method", "GET")
    response = requests.request(method, server.url(path), timeout=HTTP_TIMEOUT, **kwargs)
    return response.json()


def catalog_titles(server: Server, **params: str) -> list[str]:
    answer = api(server, "/catalog/articles", params=params)
    return [article["title"] for article in answer["articles"]]


def expect_list(page: Any, titles: list[str]) -> None:
    expect(page.locator("ol.related > li .title")).to_have_text(titles)


def test_find_an_article_and_review_its_list_and_curated_links(
    server: Server, open_page: Callable[..., Any], shots: Path
) -> None:
    page = open_page()
    page.goto(server.url("/ui/"))
    expect(page.get_by_role("heading", name="Find an article")).to_be_visible()
    expect(page.locator(".summary")).to_have_text("66 articles, newest first")
    dates = page.locator("ol.results time").evaluate_all("els => els.map(e => e.dateTime)")
    assert dates == sorted(dates, reverse=True)
    assert accessibility_problems(page) == []
    save_screenshot(page, shots, "find-laptop")

    search = page.get_by_label("Title words or id")
    search.fill("heatwave grid")
    search.press("Enter")
    found = api(server, "/catalog/articles", params={"q": "heatwave grid"})["articles"]
    for article in found:  # every word in the title or the id
        assert all(w in (article["title"] + article["id"]).lower() for w in ("heatwave", "grid"))
    expect(page.locator("ol.results .title")).to_have_text([a["title"] for a in found])
    page.get_by_label("Section").select_option(label="Health (8)")
    expect(page.locator("ol.results .title")).to_have_text(
        catalog_titles(server, q="heatwave grid", section="Health")
    )
    assert "section=Health" in page.url and "q=heatwave+grid" in page.url
    search.fill("")
    search.press("Enter")
    expect(page.locator(".summary")).to_have_text("8 articles, newest first")
    for meta in page.locator("ol.results .meta").all_inner_texts():
        assert meta.startswith("Health")
    page.get_by_label("Section").select_option(label="All sections")

    search.fill("2026-03-02-heatwave")
    search.press("Enter")
    expect(page.locator("ol.results > li")).to_have_count(1)
    page.locator("ol.results .title").click()
    page.wait_for_url(re.compile(f"/ui/articles/{HEATWAVE}$"))
    related = api(server, f"/articles/{HEATWAVE}/related?k=5")
    expect(page.locator("h1")).to_have_text(related["article"]["title"])
    expect_list(page, [item["title"] for item in related["related"]])
    scores = page.locator("ol.related .meta").all_inner_texts()
    assert [s.rsplit("score ", 1)[1] for s in scores] == [
        f"{item['score']:.2f}" for item in related["related"]
    ]

    first = page.locator("ol.related > li").first
    first.get_by_text("Why this article?").click()
    parts = first.locator("table.parts")
    expect(parts).to_be_visible()
    explained = api(server, f"/articles/{HEATWAVE}/related?k=5&explain=true")["related"][0]
    weighted = [n for n, p in explained["explanation"]["parts"].items() if p["weight"]]
    assert weighted[:3] == ["dense", "lexical", "labels"]
    expect(parts.locator("tbody th")).to_have_count(len(weighted))  # signals with a weight
    expect(parts.locator("tbody th").first).to_have_text("Meaning (embeddings)")
    expect(parts.locator("tfoot td").last).to_have_text(f"{related['related'][0]['score']:.2f}")
    expect(first.locator(".explanation dl")).to_contain_text("Strongest shared terms")
    assert accessibility_problems(page) == []
    save_screenshot(page, shots, "article-laptop")


def curated_marks(server: Server, article_id: str, k: int = 5) -> list[str]:
    """What the page should say of each curated link, from the API's full list."""
    links = api(server, f"/articles/{article_id}/curated")["links"]
    deep = api(server, f"/articles/{article_id}/related?k=50")["related"]
    ranks = {item["id"]: place for place, item in enumerate(deep, start=1)}
    marks = []
    for link in links:
        rank = ranks.get(link["id"])
        if rank is not None and rank <= k:
            marks.append(f"✓ Found at #{rank}")
        elif rank is not None:
            marks.append(f"✗ Missed: #{rank} in the full list")
        else:
            marks.append("✗ Missed: not in the first 50")
    return marks


def test_curated_links_are_marked_found_or_missed_with_their_rank(
    server: Server, ui_data: Path, open_page: Callable[..., Any], shots: Path
) -> None:
    document = json.loads(latest_path(ui_data).read_text())
    worst = worst_first(document["sources"])[0]
    assert worst["missed"], "the sample has an article whose list misses a curated link"
    for source, viewport, name in (
        (HEATWAVE, PHONE, "article-phone"),
        (worst["id"], LAPTOP, None),
    ):
        page = open_page(viewport)
        page.goto(server.url(f"/ui/articles/{source}"))
        marks = curated_marks(server, source)
        expect(page.locator("ol.curated > li .badge")).to_have_text(marks)
        found = sum(1 for mark in marks if mark.startswith("✓"))
        expect(page.locator("#curated-h + .summary")).to_have_text(
            f"The list shows {found} of {len(marks)} curated links in its first 5."
        )
        assert accessibility_problems(page) == []
        if name:
            save_screenshot(page, shots, name)

    page.get_by_label("Articles in the list").fill("12")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.locator("ol.related > li")).to_have_count(12)
    expect(page.locator("ol.curated > li .badge")).to_have_text(
        curated_marks(server, worst["id"], 12)
    )


def test_unknown_articles_say_so_and_ids_are_percent_encoded(
    server: Server, open_page: Callable[..., Any]
) -> None:
    page = open_page()
    page.goto(server.url("/ui/articles/sections%2Fno-such-article"))
    expect(page.locator("h1")).to_have_text("Unknown article")
    expect(page.locator("main")).to_contain_text("No article with id “sections/no-such-article”")
    page.get_by_role("link", name="Search for “sections/no-such-article”").click()
    expect(page.get_by_label("Title words or id")).to_have_value("sections/no-such-article")
    expect(page.locator("#results")).to_contain_text("No article matches")


def test_pin_block_and_undo_show_their_effect_at_once(
    server: Server, open_page: Callable[..., Any]
) -> None:
    page = open_page()
    page.goto(server.url(f"/ui/articles/{HEATWAVE}"))
    before = [item["title"] for item in api(server, f"/articles/{HEATWAVE}/related?k=5")["related"]]
    expect_list(page, before)
    third = before[2]

    page.get_by_role("button", name=f"Pin: {third}").click()
    expect_list(page, [third, *before[:2], *before[3:]])
    expect(page.locator("ol.related > li").first.locator(".badge.pinned")).to_have_text("Pinned")
    expect(page.locator("#notice")).to_contain_text(f"Pinned “{third}”")
    assert len(api(server, f"/articles/{HEATWAVE}/pins")["ids"]) == 1
    page.locator("#notice").get_by_role("button", name="Undo").click()
    expect_list(page, before)
    assert api(server, f"/articles/{HEATWAVE}/pins")["ids"] == []

    second = before[1]
    page.get_by_role("button", name=f"Block here: {second}").click()
    expect(page.locator("ol.related")).not_to_contain_text(second)
    expect(page.locator("ol.related > li")).to_have_count(5)
    expect(page.locator("#blocks-h + ul")).to_contain_text(second)
    page.locator("#notice").get_by_role("button", name="Undo").click()
    expect_list(page, before)
    assert api(server, f"/articles/{HEATWAVE}/blocks")["ids"] == []

    first = before[0]
    page.get_by_role("button", name=f"Block everywhere: {first}").click()
    expect(page.locator("ol.related")).not_to_contain_text(first)
    assert len(api(server, "/blocks")["ids"]) == 1
    page.get_by_role("button", name=f"Unblock everywhere: {first}").click()
    expect_list(page, before)
    assert api(server, "/blocks")["ids"] == []

    # Teach: add an article of the list to the curated links, then take it back.
    page.get_by_role("button", name=f"Add to curated: {before[3]}").click()
    expect(page.locator("ol.curated > li").last).to_contain_text(before[3])
    assert before[3] in [
        api(server, f"/articles/{link['id']}")["article"]["title"]
        for link in api(server, f"/articles/{HEATWAVE}/curated")["links"]
    ]
    page.locator("#notice").get_by_role("button", name="Undo").click()
    expect(page.locator("ol.curated")).not_to_contain_text(before[3])

    # Reorder pins, then unpin from the list of pins.
    page.get_by_role("button", name=f"Pin: {before[3]}").click()
    expect(page.locator("#notice")).to_contain_text(f"Pinned “{before[3]}”")
    page.get_by_label("Pin an article by id").fill(SECOND_PIN)
    page.get_by_label("Pin an article by id").press("Enter")
    expect(page.locator("#pins-h + ol > li")).to_have_count(2)
    pinned_title = api(server, f"/articles/{SECOND_PIN}")["article"]["title"]
    page.get_by_role("button", name=f"Move up: {pinned_title}").click()
    expect(page.locator("ol.related > li .title").nth(0)).to_have_text(pinned_title)
    expect(page.locator("ol.related > li .title").nth(1)).to_have_text(before[3])
    for title in (pinned_title, before[3]):
        page.locator("#pins-h + ol").get_by_role("button", name=f"Unpin: {title}").click()
        expect(page.locator("#notice")).to_contain_text(f"Unpinned “{title}”")
    expect_list(page, before)
    assert api(server, f"/articles/{HEATWAVE}/pins")["ids"] == []


SECOND_PIN = "2026-05-11-northport-fc-win-league"


def test_every_control_is_reachable_by_keyboard_with_a_visible_focus(
    server: Server, open_page: Callable[..., Any]
) -> None:
    page = open_page()
    page.goto(server.url(f"/ui/articles/{HEATWAVE}"))
    page.locator("ol.related > li").first.wait_for()
    first = api(server, f"/articles/{HEATWAVE}/related?k=1")["related"][0]
    target = f"Pin: {first['title']}"
    reached: list[str] = []
    while target not in reached:
        assert len(reached) < 40, f"{target!r} not reached by Tab: {reached}"
        page.keyboard.press("Tab")
        name, outline = page.evaluate(
            """() => { const el = document.activeElement;
                return [el.getAttribute('aria-label') || el.textContent.trim().slice(0, 40),
                        getComputedStyle(el).outlineStyle]; }"""
        )
        assert outline != "none", f"no visible focus on {name!r}"
        reached.append(name)
    for control in ("Skip to content", "Find", "API token: not set", "Why this article?"):
        assert control in reached, (control, reached)
    assert reached.index("Skip to content") == 0

    page.keyboard.press("Enter")
    undo = page.locator("#notice").get_by_role("button", name="Undo")
    undo.wait_for()
    assert api(server, f"/articles/{HEATWAVE}/pins")["ids"] == [first["id"]]
    undo.focus()
    page.keyboard.press("Enter")
    page.locator("#notice").get_by_text("Undone.").wait_for()
    assert api(server, f"/articles/{HEATWAVE}/pins")["ids"] == []


def test_a_draft_gets_the_list_it_would_have_if_published_now(
    server: Server, open_page: Callable[..., Any], shots: Path
) -> None:
    draft = {
        "title": "Tram drivers join the bus strike over split shifts",
        "body": "Tram drivers voted to join the bus drivers' strike over pay and split shifts.",
        "section": "City",
        "tags": ["strike", "trams"],
        "published": "2026-03-01",
    }
    for viewport, name in ((LAPTOP, "draft-laptop"), (PHONE, "draft-phone")):
        page = open_page(viewport)
        page.goto(server.url("/ui/draft"))
        page.get_by_label("Title").fill(draft["title"])
        page.get_by_label("Body").fill(draft["body"])
        page.get_by_label("Section").fill(draft["section"])
        page.get_by_label("Tags").fill(", ".join(draft["tags"]))
        page.get_by_label("Published").fill(draft["published"])
        page.get_by_role("button", name="Show related articles").click()
        expected = api(server, "/related", method="POST", json={"article": draft, "k": 5})
        expect_list(page, [item["title"] for item in expected["related"]])
        assert accessibility_problems(page) == []
        save_screenshot(page, shots, name)


def test_the_collection_shows_the_index_and_the_latest_evaluation(
    server: Server, ui_data: Path, open_page: Callable[..., Any], shots: Path
) -> None:
    document = json.loads(latest_path(ui_data).read_text())
    index = api(server, "/index")
    for viewport, name in ((LAPTOP, "collection-laptop"), (PHONE, "collection-phone")):
        page = open_page(viewport)
        page.goto(server.url("/ui/collection"))
        expect(page.locator(".facts")).to_contain_text(index["generation"])
        expect(page.locator(".facts")).to_contain_text("145 links under 66 articles")
        rows = page.locator("table.figures:not(.sections):not(.worst) tbody th")
        expect(rows).to_have_text(list(document["methods"]))
        service_ndcg = document["methods"]["service"]["ndcg@10"]
        expect(page.locator("table.figures tr.ours")).to_contain_text(f"{service_ndcg:.3f}")
        expect(page.locator("svg.chart")).to_have_count(2)
        expect(page.locator("table.sections tbody tr")).to_have_count(len(document["sections"]))
        worst = worst_first(document["sources"])[:20]
        expect(page.locator("table.worst tbody th a")).to_have_text([r["title"] for r in worst])
        assert accessibility_problems(page) == []
        save_screenshot(page, shots, name)

    page.get_by_role("button", name="Next page").click()
    expect(page.locator("table.worst tbody th a").first).to_have_text(
        worst_first(document["sources"])[20]["title"]
    )
    page.locator("table.worst tbody th a").first.click()
    page.wait_for_url(re.compile("/ui/articles/"))
    expect(page.locator("h1")).to_have_text(worst_first(document["sources"])[20]["title"])


def test_a_rebuild_shows_progress_until_it_is_done(
    sample_dir: Path,
    tmp_path: Path,
    start_server: Callable[..., Server],
    open_page: Callable[..., Any],
) -> None:
    data = copy_data_dir(sample_dir, tmp_path / "data").data_dir
    started = start_server(data, workers=1)
    article = json.loads(SAMPLE_ARTICLES.read_text().splitlines()[0])
    article["title"] += " (updated)"
    api(started, f"/articles/{article['id']}", method="PUT", json=article)
    before = api(started, "/index")["generation"]

    page = open_page()
    page.goto(started.url("/ui/collection"))
    expect(page.locator(".facts")).to_contain_text("1 article: rebuild to include it")
    page.get_by_role("button", name="Rebuild now").click()
    expect(page.locator("#build-state progress")).to_be_attached()
    expect(page.get_by_role("button", name="Rebuild now")).to_be_disabled()
    expect(page.locator("#notice")).to_contain_text(
        "Build finished: generation", timeout=CEILING * 1000
    )
    after = api(started, "/index")
    assert after["generation"] != before and after["changed_since_build"] == 0
    expect(page.locator(".facts")).to_contain_text(after["generation"])
    expect(page.locator("#build-state")).to_contain_text("Last build succeeded")
    expect(page.get_by_role("button", name="Rebuild now")).to_be_enabled()


def test_writes_need_the_token_entered_once_per_session(
    sample_dir: Path,
    tmp_path: Path,
    start_server: Callable[..., Server],
    open_page: Callable[..., Any],
) -> None:
    data = copy_data_dir(sample_dir, tmp_path / "data").data_dir
    secret = "editors-only"
    started = start_server(data, workers=1, env={**HASHING_ENV, "RELATED_API_TOKEN": secret})
    titles = [i["title"] for i in api(started, f"/articles/{HEATWAVE}/related?k=5")["related"]]
    page = open_page()
    page.goto(started.url(f"/ui/articles/{HEATWAVE}"))
    expect_list(page, titles)

    page.get_by_role("button", name=f"Pin: {titles[2]}").click()
    expect(page.locator("#alert")).to_contain_text("needs an API token")
    expect(page.locator("#alert")).to_contain_text("401")
    expect(page.get_by_label("API token for changes")).to_be_focused()
    page.get_by_label("API token for changes").fill("wrong")
    page.get_by_role("button", name="Use this token").click()
    page.get_by_role("button", name=f"Pin: {titles[2]}").click()
    expect(page.locator("#alert")).to_contain_text("did not accept the API token")
    expect(page.locator("#alert")).to_contain_text("403")
    expect_list(page, titles)
    assert api(started, f"/articles/{HEATWAVE}/pins")["ids"] == []

    page.get_by_label("API token for changes").fill(secret)
    page.get_by_role("button", name="Use this token").click()
    expect(page.get_by_role("button", name="API token: set")).to_be_visible()
    page.get_by_role("button", name=f"Pin: {titles[2]}").click()
    expect_list(page, [titles[2], *titles[:2], *titles[3:]])
    expect(page.locator("#alert")).to_be_hidden()

    # Kept for the session (a reload still has it), never in a cookie or the address.
    page.reload()
    page.get_by_role("button", name=f"Unpin: {titles[2]}").first.click()
    expect_list(page, titles)
    stored = page.evaluate("() => Object.values(sessionStorage)")
    assert stored == [secret]
    assert page.evaluate("() => document.cookie") == "" and secret not in page.url
    assert page.context.cookies() == []


def test_no_index_yet_and_no_curated_links_are_stated(
    tmp_path: Path, start_server: Callable[..., Server], open_page: Callable[..., Any]
) -> None:
    settings = make_settings(tmp_path / "data")
    ingest_file(settings)
    started = start_server(settings.data_dir, workers=1)
    page = open_page()
    page.goto(started.url("/ui/"))
    expect(page.locator(".warning")).to_contain_text("No index yet")
    page.goto(started.url(f"/ui/articles/{HEATWAVE}"))
    expect(page.locator("#list-h ~ .empty")).to_have_text(
        "No index yet: related lists appear once it is built."
    )
    expect(page.locator("#curated-h ~ .empty")).to_have_text("No curated links for this article.")
    page.goto(started.url("/ui/collection"))
    expect(page.locator("#index-state")).to_contain_text("No index yet")
    expect(page.locator("#evaluation-h ~ div")).to_contain_text("No evaluation yet.")
    page.goto(started.url("/ui/draft"))
    page.get_by_label("Title").fill("Anything")
    page.get_by_role("button", name="Show related articles").click()
    expect(page.locator("#alert")).to_contain_text("No index has been built yet")
