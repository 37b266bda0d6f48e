"""HTML pages in (`service.ingest.page`): the article's text without the site's chrome, its
metadata, its body links, and its related box apart, on a generated news site (tests/sitegen.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.ingest.harvest import ingest_harvests
from service.ingest.page import Harvest, PageError, id_from_url, page_from_html
from service.ingest.targets import LinkTargets
from service.store import ArticleStore
from tests.sitegen import (
    WIDGETS,
    Site,
    _rng,
    body_link,
    clock_line,
    credit,
    load_site,
    page_html,
)


@pytest.fixture(scope="module")
def site() -> Site:
    return load_site()


@pytest.fixture(scope="module")
def harvests(site: Site) -> list[Harvest]:
    # Fetched from a loopback address: the canonical URL each page declares wins.
    return [
        page_from_html(page_html(site, a), url=f"http://127.0.0.1:9/{a.path}")
        for a in site.articles
    ]


def test_every_page_gives_its_article_with_the_metadata_it_declares(
    site: Site, harvests: list[Harvest]
) -> None:
    for article, harvest in zip(site.articles, harvests, strict=True):
        record = harvest.record
        _, when = clock_line(article, _rng(site, article))
        assert record["id"] == article.page_id
        assert record["url"] == site.url(article)
        assert record["title"] == article.title
        assert record["published"] == when
        assert record["section"] == article.section
        assert record["tags"] == list(article.tags)
        assert record["body"] == article.clean_body
        link = body_link(site, article)
        assert record.get("links", []) == ([link] if link else [])


def test_no_chrome_is_left_in_the_text(site: Site, harvests: list[Harvest]) -> None:
    for article, harvest in zip(site.articles, harvests, strict=True):
        body = harvest.record["body"]
        clock, _ = clock_line(article, _rng(site, article))
        others = [a.title for a in site.articles if a is not article]
        chrome = [clock, "Listen Live", "Get short URL", "READ MORE", "©", "Most read", *WIDGETS]
        chrome.append(credit(_rng(site, article)))
        assert not [c for c in chrome if c in body], article.id
        assert not [t for t in others if t in body], article.id
        if article.tags:
            assert ", ".join(article.tags) not in body


def test_the_related_box_is_harvested_in_order_with_precision_and_recall_of_one(
    site: Site, harvests: list[Harvest]
) -> None:
    targets = LinkTargets((r["id"], r["url"], r["title"]) for r in site.clean_records())
    found = wanted = hits = 0
    for article, harvest in zip(site.articles, harvests, strict=True):
        got = [targets.resolve(link) for link in harvest.related]
        want = site.related_pages(article)
        assert got == want, article.id
        found, wanted = found + len(got), wanted + len(want)
        hits += len(set(got) & set(want))
    assert wanted > 100
    assert hits / found == 1.0 and hits / wanted == 1.0


def test_navigation_and_most_read_are_never_the_related_box() -> None:
    page = """<html><head><link rel="canonical" href="https://site.example/a/story"></head><body>
    <nav aria-label="Related sections"><h2>Related</h2><ul><li><a href="/world/">World</a></li></ul></nav>
    <article><h1>A story of some length</h1><p>The only paragraph of this story, long enough.</p>
    <aside><h2>Most read</h2><ul><li><a href="/b/popular">Popular story</a></li></ul></aside>
    <div class="box"><h4>Trending now</h4><ul><li><a href="/c/trend">Trend</a></li></ul></div>
    <div><h3>Further reading</h3><ul><li><a href="/d/next">Next story</a></li>
    <li><a href="https://elsewhere.example/x">Off site</a></li></ul></div></article></body></html>"""
    harvest = page_from_html(page)
    assert harvest.related == ("https://site.example/d/next",)
    assert harvest.record["body"] == "The only paragraph of this story, long enough."


def test_metadata_falls_back_to_json_ld_and_time_and_pages_without_an_article_use_trafilatura() -> (
    None
):
    words = " ".join(f"word{i}" for i in range(60))
    page = f"""<html><head><title>Fallback title | Site</title>
    <meta property="og:url" content="https://site.example/2024/05/fallback.html">
    <script type="application/ld+json">{
        json.dumps(
            {
                "@graph": [
                    {"@type": "WebSite"},
                    {
                        "@type": "NewsArticle",
                        "headline": "Fallback headline",
                        "articleSection": "Tech",
                        "keywords": "one, two",
                    },
                ]
            }
        )
    }</script></head>
    <body><div class="content"><time datetime="2024-05-06T07:08:09Z">6 May</time>
    <p>{words}.</p><p>Second paragraph of the story with {words}.</p></div></body></html>"""
    record = page_from_html(page).record
    assert record["id"] == "2024/05/fallback"
    assert record["title"] == "Fallback headline"
    assert record["section"] == "Tech" and record["tags"] == ["one", "two"]
    assert record["published"] == "2024-05-06T07:08:09Z"
    assert record["body"].startswith("word0 word1") and "Second paragraph" in record["body"]


def test_a_wordpress_post_marked_with_its_tags_is_kept_and_its_share_bar_is_not() -> None:
    page = """<html><head><link rel="canonical" href="https://blog.example/2024/05/post/"></head>
    <body><div id="post-7" class="post-7 post type-post hentry category-news tag-china tag-ads">
    <h1 class="entry-title">A post about China</h1><div class="entry-content">
    <p>The first paragraph of the post.</p><div class="sharedaddy sd-sharing-enabled">
    <div class="sd-social-icon share-buttons"><p>Share this:</p></div></div>
    <p>The second paragraph of the post.</p></div></div></body></html>"""
    record = page_from_html(page).record
    assert record["id"] == "2024/05/post"
    assert record["body"] == "The first paragraph of the post.\nThe second paragraph of the post."


@pytest.mark.parametrize(
    ("url", "id_from", "expected"),
    [
        ("https://s.example/2024/05/title.html", "url", "2024/05/title"),
        ("https://s.example/blog/title/", "url", "blog/title"),
        ("https://s.example/blog/title/index.html", "url", "blog/title"),
        ("https://s.example/blog/title.htm?x=1", "slug", "title"),
    ],
)
def test_ids_come_from_the_canonical_path(url: str, id_from: str, expected: str) -> None:
    assert id_from_url(url, id_from=id_from) == expected


def test_a_page_that_cannot_be_an_article_is_refused_with_why() -> None:
    with pytest.raises(PageError, match="no URL to take its id from"):
        page_from_html("<html><body><h1>No URL</h1><p>text</p></body></html>")
    with pytest.raises(PageError, match="empty"):
        page_from_html("  ", url="https://s.example/a")
    with pytest.raises(PageError, match="home page"):
        page_from_html("<html><body><p>x</p></body></html>", url="https://s.example/")


def test_pages_are_stored_one_by_one_with_their_boxes_as_curated_links(
    site: Site, harvests: list[Harvest], tmp_path: Path
) -> None:
    broken = Harvest({"id": "x/broken", "title": " "}, (), "https://site.example/x/broken")
    with ArticleStore(tmp_path / "store.sqlite3") as store:
        report = ingest_harvests(store, [*harvests, broken])
        assert report.stored == len(site.articles)
        assert report.failed == [
            ("https://site.example/x/broken", "field 'title': must not be empty")
        ]
        assert report.curated_links == sum(len(a.related) for a in site.articles)
        assert report.unresolved == 0
        for article in site.articles:
            assert [t for t, _ in store.curated(article.page_id)] == site.related_pages(article)
        stored = store.get(site.articles[0].page_id)
        assert stored is not None and stored.article.body == site.articles[0].clean_body
        again = ingest_harvests(store, harvests, curated=False)
        assert again.unchanged == len(site.articles) and again.curated_links == 0
