"""`related ingest` from a site on 127.0.0.1 (tests/siteserver.py serving tests/sitegen.py's
news site): a sitemap index, a sitemap, an RSS feed with full text, an Atom feed that only
links, the WordPress REST API and a single page. Every source stores every article under its
URL, with no chrome in its text (stored or ranked), and the related boxes become curated links
with precision and recall of at least 0.95; sources that are not what they are said to be, and
pages that fail, are named with why."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from embeddings.chrome import Chrome
from service.cli import cli
from service.errors import NotASource
from service.ingest.chrome import ranked_article, stored_titles
from service.ingest.sitemap import SitemapEntry, parse_sitemap
from service.ingest.sources import Source
from service.store import ArticleStore
from tests import sitegen
from tests.sitegen import Site, load_site
from tests.siteserver import SiteServer, chrome_lines, site_pages

FAST = {"RELATED_CRAWL_RATE": "1000", "RELATED_MODEL": "hashing"}


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[SiteServer, Site]]:
    server = SiteServer([])
    site = load_site(base=server.url)
    for page in site_pages(site):
        server.put(page)
    with server:
        yield server, site


def ingest(data_dir: Path, *args: str, **env: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli, ["ingest", *args, "--quiet", "--data-dir", str(data_dir)], env={**FAST, **env}
    )
    return result.exit_code, result.stdout, result.stderr


def curated_precision_recall(store: ArticleStore, site: Site) -> tuple[float, float]:
    hits = got_total = expected_total = 0
    for article in site.articles:
        got = [target for target, _ in store.curated(article.page_id)]
        expected = site.related_pages(article)
        hits += len(set(got) & set(expected))
        got_total += len(got)
        expected_total += len(expected)
    return hits / max(got_total, 1), hits / max(expected_total, 1)


SOURCES = {
    "sitemap index": ("/sitemap_index.xml",),
    "sitemap": ("/sitemap.xml",),
    "rss with full text": ("/feed.xml",),
    "atom linking its pages": ("/atom.xml",),
    "wordpress": ("", "--from", "wordpress"),
}


@pytest.mark.parametrize("name", SOURCES)
def test_every_source_stores_every_article_without_chrome_and_its_related_box(
    served: tuple[SiteServer, Site], tmp_path: Path, name: str
) -> None:
    server, site = served
    path, *flags = SOURCES[name]
    code, out, err = ingest(tmp_path, server.url + path, *flags)
    assert code == 0, out + err
    assert f"stored {len(site.articles)} articles" in out
    store = ArticleStore(tmp_path / "articles.sqlite3")
    titles = stored_titles(store)
    for article in site.articles:
        stored = store.get(article.page_id)
        assert stored is not None, f"{name}: {article.page_id} not stored"
        got = stored.article
        assert got.url == site.url(article)
        assert got.title == article.title
        assert got.published is not None and got.published.startswith(article.published[:7])
        assert got.section == article.section and tuple(got.tags) == article.tags
        assert chrome_lines(got.body, site, article.title, article.tags) == []
        ranked = ranked_article(got, Chrome(), titles)
        assert chrome_lines(ranked.body, site, article.title, article.tags) == []
        assert article.paragraphs[0][:60] in got.body
    precision, recall = curated_precision_recall(store, site)
    assert precision >= 0.95 and recall >= 0.95, (name, precision, recall)


def test_a_single_page_is_stored_and_its_links_wait_for_their_targets(
    served: tuple[SiteServer, Site], tmp_path: Path
) -> None:
    server, site = served
    article = next(a for a in site.articles if len(a.related) == 3)
    code, out, _ = ingest(tmp_path, site.url(article))
    assert code == 0 and "stored 1 articles" in out and "3 unresolved" in out
    store = ArticleStore(tmp_path / "articles.sqlite3")
    assert store.count() == 1 and store.curated(article.page_id) == []
    code, out, _ = ingest(tmp_path, server.url + "/sitemap.xml")
    assert code == 0
    assert [t for t, _ in store.curated(article.page_id)] == site.related_pages(article)


def test_ids_from_slugs_and_no_curated_links_when_asked(
    served: tuple[SiteServer, Site], tmp_path: Path
) -> None:
    server, site = served
    code, out, _ = ingest(tmp_path, server.url + "/feed.xml", "--id-from", "slug", "--no-curated")
    assert code == 0, out
    store = ArticleStore(tmp_path / "articles.sqlite3")
    assert {s.article.id for s in store.iter_articles()} == {a.slug for a in site.articles}
    assert store.curated_counts() == (0, 0)


@pytest.mark.parametrize(
    "path, kind, what",
    [
        ("/not-a-feed.xml", "feed", "is not a feed: it is an HTML page"),
        ("/feed.xml", "sitemap", "is not a sitemap: it is an RSS feed"),
        ("/wp-json/wp/v2/posts", "sitemap", "is not a sitemap: it is JSON"),
    ],
)
def test_a_source_that_is_not_what_it_is_said_to_be_is_a_clear_error(
    served: tuple[SiteServer, Site], tmp_path: Path, path: str, kind: str, what: str
) -> None:
    server, _ = served
    code, out, _ = ingest(tmp_path, server.url + path, "--from", kind)
    assert code == 2
    assert f"{server.url}{path} {what}" in out
    assert ArticleStore(tmp_path / "articles.sqlite3").count() == 0


def test_pages_that_fail_are_named_and_the_others_stored(
    served: tuple[SiteServer, Site], tmp_path: Path
) -> None:
    server, site = served
    server.state.extra_sitemap_urls = [
        "/missing.html",
        "/private/secret.html",
        "http://elsewhere.invalid/story.html",
        "/huge",
    ]
    try:
        code, out, _ = ingest(
            tmp_path, server.url + "/sitemap.xml", "--json", RELATED_CRAWL_MAX_BYTES="1000000"
        )
    finally:
        server.state.extra_sitemap_urls = []
    assert code == 3
    report = json.loads(out)
    assert report["stored"] == len(site.articles) and report["ok"] is False
    reasons = {f["source"]: f["reason"] for f in report["failed"]}
    assert reasons[server.url + "/missing.html"] == "HTTP 404 Not Found"
    assert reasons[server.url + "/private/secret.html"] == "disallowed by robots.txt"
    assert reasons["http://elsewhere.invalid/story.html"].startswith("off the site")
    assert reasons[server.url + "/huge"].startswith("larger than 1000000 bytes")


def test_several_sources_in_one_command_and_a_records_file_beside_them(
    served: tuple[SiteServer, Site], tmp_path: Path
) -> None:
    server, site = served
    records = tmp_path / "extra.jsonl"
    records.write_text(json.dumps({"id": "extra-1", "title": "Extra", "body": "An extra."}) + "\n")
    code, out, _ = ingest(tmp_path / "d", server.url + "/atom.xml", str(records))
    assert code == 0, out
    assert "read 1 records: 1 inserted" in out
    assert ArticleStore(tmp_path / "d" / "articles.sqlite3").count() == len(site.articles) + 1


def test_the_kind_of_a_source_is_told_by_what_it_is_or_forced(tmp_path: Path) -> None:
    (tmp_path / "posts").mkdir()
    for name in ("export.xml", "page.html", "articles.jsonl", "articles.csv"):
        (tmp_path / name).write_text("x")
    kinds = {
        name: Source.parse(str(tmp_path / name)).local_kind()
        for name in ("posts", "export.xml", "page.html", "articles.jsonl", "articles.csv")
    }
    assert kinds == {
        "posts": "markdown",
        "export.xml": "wxr",
        "page.html": "page",
        "articles.jsonl": "file",
        "articles.csv": "file",
    }
    forced = Source.parse("wordpress:https://blog.example")
    assert (forced.kind, forced.location, forced.is_url) == (
        "wordpress",
        "https://blog.example",
        True,
    )
    assert Source.parse("https://site.example/feed.xml").kind is None
    with pytest.raises(NotASource, match="no such file or folder"):
        Source.parse(str(tmp_path / "missing.jsonl")).local_kind()
    with pytest.raises(NotASource, match="--from sitemap needs an http"):
        Source.parse(str(tmp_path / "export.xml"), "sitemap").local_kind()


def test_a_markdown_folder_and_a_wxr_export_go_through_the_same_command(
    served: tuple[SiteServer, Site], tmp_path: Path
) -> None:
    _, site = served
    folder = tmp_path / "content"
    sitegen.write_markdown(site, folder)
    code, out, err = ingest(tmp_path / "md", str(folder))
    assert code == 0, out + err
    assert f"(markdown): stored {len(site.articles)} articles" in out
    export = tmp_path / "export.xml"
    export.write_text(sitegen.wxr(site), encoding="utf-8")
    code, out, err = ingest(tmp_path / "wxr", str(export))
    assert code == 0, out + err
    store = ArticleStore(tmp_path / "wxr" / "articles.sqlite3")
    assert {s.article.url for s in store.iter_articles()} == {site.url(a) for a in site.articles}


def test_scraped_text_as_records_gives_its_foot_headlines_as_curated_links(
    served: tuple[SiteServer, Site], tmp_path: Path
) -> None:
    _, site = served
    scraped = tmp_path / "scraped.jsonl"
    records = sitegen.scraped_records(site)
    scraped.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    code, out, err = ingest(tmp_path / "d", str(scraped))
    assert code == 0, out + err
    store = ArticleStore(tmp_path / "d" / "articles.sqlite3")
    precision, recall = curated_precision_recall(store, site)
    assert precision >= 0.95 and recall >= 0.95, (precision, recall)
    code, _, _ = ingest(tmp_path / "none", str(scraped), "--no-curated")
    assert code == 0 and ArticleStore(tmp_path / "none" / "articles.sqlite3").curated_counts() == (
        0,
        0,
    )


def test_a_gzipped_sitemap_and_an_index_are_read_and_other_documents_named() -> None:
    urlset = (
        b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://s.example/a</loc><lastmod>2024-05-01</lastmod></url>"
        b"<url><loc>https://s.example/b</loc></url></urlset>"
    )
    pages, children = parse_sitemap(gzip.compress(urlset), "https://s.example/sitemap.xml.gz")
    assert pages == [
        SitemapEntry("https://s.example/a", "2024-05-01"),
        SitemapEntry("https://s.example/b", None),
    ]
    assert children == []
    index = urlset.replace(b"urlset", b"sitemapindex").replace(b"<url>", b"<sitemap>")
    index = index.replace(b"</url>", b"</sitemap>")
    pages, children = parse_sitemap(index, "https://s.example/index.xml")
    assert pages == [] and [c.url for c in children] == [
        "https://s.example/a",
        "https://s.example/b",
    ]
    for content, found in [
        (b"<rss><channel></channel></rss>", "an RSS feed"),
        (b'{"posts": []}', "JSON"),
        (b"<catalog><book/></catalog>", "an XML document whose root is <catalog>"),
        (b"", "an empty document"),
    ]:
        with pytest.raises(
            NotASource, match=f"https://s.example/x is not a sitemap: it is {found}"
        ):
            parse_sitemap(content, "https://s.example/x")
