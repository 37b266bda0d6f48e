"""`related sync`: passes over a site on 127.0.0.1 that publish what is new or changed and
fetch nothing else (sitemap lastmod, conditional GET, feed items, WordPress modified_after),
keep their state in the data directory, prune only when asked, and show in GET /index."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from service.cli import cli
from service.cli.ingest import parse_duration
from service.config.settings import Settings, load_settings
from service.errors import InvalidParameter
from service.ingest.sources import Source
from service.ingest.sync import STATE_FILE, PassResult, site_summary, sync_sources
from service.store import ArticleStore
from tests.browser import chromium, require_browser
from tests.conftest import HTTP_TIMEOUT, Server, wait_for
from tests.sitegen import Site, load_site
from tests.siteserver import SitePage, SiteServer, site_pages, touched

SIZE = 20
TIMEOUT_MS = 60_000


@pytest.fixture()
def served() -> Iterator[tuple[SiteServer, Site, list[SitePage]]]:
    """A site of SIZE articles, the last one not published yet."""
    server = SiteServer([])
    site = load_site(base=server.url, limit=SIZE)
    pages = site_pages(site)
    for page in pages[:-1]:
        server.put(page)
    with server:
        yield server, site, pages


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", model="hashing", crawl_rate=1000.0)


def one_pass(
    settings: Settings, source: str, kind: str | None = None, **options: bool
) -> PassResult:
    store = ArticleStore(settings.db_path)
    [result] = sync_sources(settings, store, [Source.parse(source, kind)], **options)
    assert result.error is None, result.error
    return result


def page_requests(server: SiteServer) -> list[str]:
    """Paths of article pages requested (not robots.txt, sitemaps, feeds or the API)."""
    skip = ("/robots.txt", "/sitemap", "/feed.xml", "/atom.xml", "/wp-json/")
    return [e.path for e in server.requests() if not e.path.startswith(skip)]


def stored_ids(settings: Settings) -> set[str]:
    return {s.article.id for s in ArticleStore(settings.db_path).iter_articles()}


def test_a_page_added_to_the_sitemap_is_stored_by_the_next_pass_and_nothing_else_is_fetched(
    served: tuple[SiteServer, Site, list[SitePage]], settings: Settings
) -> None:
    server, site, pages = served
    first = one_pass(settings, server.url + "/sitemap_index.xml")
    assert first.report.stored == SIZE - 1 and len(page_requests(server)) == SIZE - 1
    server.put(pages[-1])
    server.clear_log()
    second = one_pass(settings, server.url + "/sitemap_index.xml")
    assert page_requests(server) == [pages[-1].path]
    assert second.report.inserted == 1 and second.unchanged == SIZE - 1
    assert site.articles[-1].page_id in stored_ids(settings)


def test_without_lastmod_pages_are_asked_with_a_conditional_get_and_a_304_is_not_read(
    served: tuple[SiteServer, Site, list[SitePage]], settings: Settings
) -> None:
    server, site, pages = served
    server.state.sitemap_lastmod = False
    one_pass(settings, server.url + "/sitemap.xml")
    server.clear_log()
    changed = touched(pages[0], "2030-01-01T00:00:00Z", pages[0].html.replace("<h1>", "<h1>New: "))
    server.put(changed)
    second = one_pass(settings, server.url + "/sitemap.xml")
    asked = [e for e in server.requests() if e.path.startswith("/" + site.articles[1].path)]
    assert len(asked) == 1 and "If-None-Match" in asked[0].headers
    assert second.unchanged == SIZE - 2 and second.report.updated == 1
    stored = ArticleStore(settings.db_path).get(site.articles[0].page_id)
    assert stored is not None and "New: " in stored.article.body


def test_an_unchanged_feed_item_is_not_stored_again(
    served: tuple[SiteServer, Site, list[SitePage]], settings: Settings
) -> None:
    server, _, pages = served
    one_pass(settings, server.url + "/feed.xml")
    server.put(pages[-1])
    second = one_pass(settings, server.url + "/feed.xml")
    assert second.report.inserted == 1 and second.report.stored == 1
    assert second.unchanged == SIZE - 1


def test_wordpress_is_asked_only_for_posts_modified_after_the_last_pass(
    served: tuple[SiteServer, Site, list[SitePage]], settings: Settings
) -> None:
    server, site, pages = served
    one_pass(settings, server.url, "wordpress")
    newest = max(p.changed for p in pages[:-1])
    server.put(touched(pages[-1], "2031-05-01T00:00:00Z"))
    server.clear_log()
    second = one_pass(settings, server.url, "wordpress")
    posts = [e.path for e in server.requests("/wp-json/wp/v2/posts")]
    assert posts and all("modified_after=" + newest.removesuffix("Z")[:10] in p for p in posts)
    assert second.report.stored == 1 and site.articles[-1].page_id in stored_ids(settings)
    [shown] = site_summary(settings.data_dir)
    assert shown["pages"] == SIZE  # the posts not modified since are still the source's


def test_prune_deletes_articles_that_left_the_source_and_only_when_asked(
    served: tuple[SiteServer, Site, list[SitePage]], settings: Settings
) -> None:
    server, site, pages = served
    one_pass(settings, server.url + "/sitemap_index.xml")
    server.remove(pages[0].path)
    kept = one_pass(settings, server.url + "/sitemap_index.xml")
    assert kept.pruned == [] and site.articles[0].page_id in stored_ids(settings)
    pruned = one_pass(settings, server.url + "/sitemap_index.xml", prune=True)
    assert pruned.pruned == [site.articles[0].page_id]
    assert stored_ids(settings) == {a.page_id for a in site.articles[1:-1]}


def test_a_feed_never_prunes(
    served: tuple[SiteServer, Site, list[SitePage]], settings: Settings
) -> None:
    server, site, pages = served
    one_pass(settings, server.url + "/atom.xml")
    server.remove(pages[0].path)
    result = one_pass(settings, server.url + "/atom.xml", prune=True)
    assert result.pruned == [] and site.articles[0].page_id in stored_ids(settings)


def test_the_state_of_each_source_is_kept_and_shown(
    served: tuple[SiteServer, Site, list[SitePage]], settings: Settings
) -> None:
    server, _, _ = served
    server.state.extra_sitemap_urls = ["/missing.html"]
    store = ArticleStore(settings.db_path)
    sources = [Source.parse(server.url + "/sitemap.xml"), Source.parse(server.url, "wordpress")]
    sync_sources(settings, store, sources)
    state = json.loads((settings.data_dir / STATE_FILE).read_text())
    assert set(state["sources"]) == {server.url + "/sitemap.xml", f"wordpress:{server.url}"}
    shown = {entry["source"]: entry for entry in site_summary(settings.data_dir)}
    sitemap = shown[server.url + "/sitemap.xml"]
    assert sitemap["kind"] == "sitemap" and sitemap["stored"] == SIZE - 1
    assert sitemap["failed"] == 1 and sitemap["ok"] is False
    assert sitemap["failures"] == [
        {"source": server.url + "/missing.html", "reason": "HTTP 404 Not Found"}
    ]
    assert sitemap["finished_at"].endswith("Z") and sitemap["pages"] == SIZE - 1
    assert shown[server.url]["kind"] == "wordpress" and shown[server.url]["ok"] is True


def test_the_sync_command_runs_one_pass_with_once(
    served: tuple[SiteServer, Site, list[SitePage]], tmp_path: Path
) -> None:
    server, _, _ = served
    runner = CliRunner()
    env = {"RELATED_CRAWL_RATE": "1000", "RELATED_MODEL": "hashing"}
    args = ["sync", "--once", "--quiet", "--data-dir", str(tmp_path / "d")]
    result = runner.invoke(cli, [*args, server.url + "/sitemap.xml"], env=env)
    assert result.exit_code == 0, result.output
    assert f"stored {SIZE - 1} articles" in result.stdout
    again = runner.invoke(cli, [*args, "--json", server.url + "/sitemap.xml"], env=env)
    report = json.loads(again.stdout)
    assert report["stored"] == 0 and report["not_fetched_unchanged"] == SIZE - 1
    from_setting = runner.invoke(
        cli, args, env={**env, "RELATED_SITE_SOURCES": f"wordpress:{server.url}"}
    )
    assert from_setting.exit_code == 0 and "(wordpress)" in from_setting.stdout
    nothing = runner.invoke(cli, args, env=env)
    assert nothing.exit_code == 2 and "RELATED_SITE_SOURCES is empty" in nothing.output


def test_an_ingest_of_a_url_is_the_first_pass_of_a_later_sync(
    served: tuple[SiteServer, Site, list[SitePage]], tmp_path: Path
) -> None:
    server, _, pages = served
    runner = CliRunner()
    env = {"RELATED_CRAWL_RATE": "1000", "RELATED_MODEL": "hashing"}
    data = ["--quiet", "--data-dir", str(tmp_path / "d")]
    ingested = runner.invoke(cli, ["ingest", *data, server.url + "/sitemap.xml"], env=env)
    assert ingested.exit_code == 0, ingested.output
    assert len(page_requests(server)) == SIZE - 1
    server.put(pages[-1])
    server.clear_log()
    synced = runner.invoke(cli, ["sync", "--once", *data, server.url + "/sitemap.xml"], env=env)
    assert synced.exit_code == 0, synced.output
    assert page_requests(server) == [pages[-1].path]  # only the page added since the ingest


def test_durations_of_every() -> None:
    assert parse_duration("5m") == 300 and parse_duration("30s") == 30
    assert parse_duration("1h") == 3600 and parse_duration("90") == 90
    with pytest.raises(InvalidParameter, match="--every must be a duration"):
        parse_duration("soon")


def test_the_server_syncs_its_site_sources_and_shows_them_in_the_index(
    served: tuple[SiteServer, Site, list[SitePage]],
    tmp_path: Path,
    start_server: Callable[..., Server],
) -> None:
    site_server, site, pages = served
    env = {
        "RELATED_SITE_SOURCES": site_server.url + "/sitemap.xml",
        "RELATED_SITE_SYNC_EVERY": "1",
        "RELATED_CRAWL_RATE": "1000",
        "RELATED_AUTO_REBUILD": "0.5",
    }
    server = start_server(tmp_path / "served", env=env)

    def sites() -> list[dict[str, Any]]:
        body = requests.get(server.url("/index"), timeout=HTTP_TIMEOUT).json()
        return list(body["sites"])

    wait_for(lambda: bool(sites()) and sites()[0]["stored"] == SIZE - 1, "the first sync pass")
    site_server.put(pages[-1])
    newest = site.articles[-1].page_id
    related = server.url(f"/articles/{newest}/related")

    def listed() -> bool:
        answer = requests.get(related, timeout=HTTP_TIMEOUT)
        return answer.ok and answer.json()["source"] == "index"

    wait_for(listed, "the new page stored by the next pass and given its list by a rebuild")
    [shown] = sites()
    assert shown["source"] == site_server.url + "/sitemap.xml" and shown["kind"] == "sitemap"
    assert shown["ok"] is True and shown["pages"] == SIZE
    assert_the_collection_page_shows(server, site_server.url + "/sitemap.xml")


def assert_the_collection_page_shows(server: Server, source: str) -> None:
    """The editors' collection page lists the site source with its last pass."""
    require_browser()
    from playwright.sync_api import expect

    with chromium() as browser:
        try:
            page = browser.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(server.url("/ui/collection"))
            shown = page.locator("#site-sources li").first
            expect(shown).to_contain_text(source, timeout=TIMEOUT_MS)
            expect(shown).to_contain_text("(sitemap), last pass at ")
            expect(shown).to_contain_text("0 failed, 0 pruned")
        finally:
            browser.close()
