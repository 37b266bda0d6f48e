"""A WordPress export (WXR) in (`service.ingest.wxr`): published posts only, under their URLs,
with dates, categories and tags, and their content read without chrome."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.errors import NotASource
from service.ingest.harvest import ingest_harvests
from service.ingest.wxr import read_wxr
from service.store import ArticleStore
from tests.sitegen import Site, body_link, load_site, wxr


@pytest.fixture(scope="module")
def site() -> Site:
    return load_site()


def test_published_posts_are_the_articles(site: Site, tmp_path: Path) -> None:
    export = tmp_path / "export.xml"
    export.write_text(wxr(site), encoding="utf-8")
    harvests = list(read_wxr(export))
    assert [h.record["id"] for h in harvests] == [a.page_id for a in site.articles]
    for article, harvest in zip(site.articles, harvests, strict=True):
        record = harvest.record
        assert record["url"] == site.url(article)
        assert record["title"] == article.title
        assert record["published"] == f"{article.published}T08:30:00Z"
        assert record["section"] == article.section
        assert record["tags"] == list(article.tags)
        assert record["body"] == article.clean_body  # the READ MORE paragraph is gone
        link = body_link(site, article)
        assert record.get("links", []) == ([link] if link else [])
    assert [h.record["id"] for h in read_wxr(export, id_from="slug")] == [
        a.slug for a in site.articles
    ]
    with ArticleStore(tmp_path / "store.sqlite3") as store:
        report = ingest_harvests(store, read_wxr(export))
        assert report.stored == len(site.articles) and not report.failed
        for article in site.articles:
            assert [t for t, _ in store.curated(article.page_id)] == site.related_pages(article)


def test_a_file_that_is_not_an_export_is_refused_and_entities_are_never_resolved(
    tmp_path: Path,
) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text("<rss><channel><item><title>x</title></item></channel></rss>")
    with pytest.raises(NotASource, match="not a WordPress export"):
        list(read_wxr(feed))
    broken = tmp_path / "broken.xml"
    broken.write_text("<rss><channel>")
    with pytest.raises(NotASource, match="not a WordPress export"):
        list(read_wxr(broken))
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-CONTENT")
    hostile = tmp_path / "hostile.xml"
    hostile.write_text(
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<rss xmlns:wp="http://wordpress.org/export/1.2/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><item>'
        "<title>Post &x;</title><link>https://s.example/a/post/</link>"
        "<content:encoded><![CDATA[<p>Body.</p>]]></content:encoded>"
        "<wp:post_type>post</wp:post_type><wp:status>publish</wp:status>"
        "<wp:post_date_gmt>0000-00-00 00:00:00</wp:post_date_gmt>"
        "<wp:post_date>2024-01-02 03:04:05</wp:post_date></item></channel></rss>"
    )
    [harvest] = read_wxr(hostile)
    assert "SECRET" not in harvest.record["title"]
    assert harvest.record["id"] == "a/post" and harvest.record["body"] == "Body."
    assert harvest.record["published"] == "2024-01-02T03:04:05"
