"""A static site's Markdown folder in (`service.ingest.markdown`): every post under its slug,
its front matter's fields and related posts, code blocks out; drafts and non-posts skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.errors import NotASource
from service.ingest.harvest import ingest_harvests
from service.ingest.markdown import read_markdown
from service.store import ArticleStore
from tests.sitegen import Site, load_site, write_markdown


@pytest.fixture(scope="module")
def site() -> Site:
    return load_site()


@pytest.mark.parametrize("jekyll", [False, True], ids=["hugo", "jekyll"])
def test_every_post_is_read_under_its_slug_with_its_front_matter(
    site: Site, tmp_path: Path, jekyll: bool
) -> None:
    write_markdown(site, tmp_path / "posts", jekyll=jekyll)
    harvests = {h.record["id"]: h for h in read_markdown(tmp_path / "posts")}
    assert sorted(harvests) == sorted(a.slug for a in site.articles)
    for article in site.articles:
        harvest = harvests[article.slug]
        record = harvest.record
        assert record["title"] == article.title
        assert record["published"] == article.published
        assert record["section"] == article.section
        assert record["tags"] == list(article.tags)
        assert record["body"] == article.clean_body  # code blocks and markup gone
        assert "print(" not in record["body"]
        assert list(harvest.related) == [site.by_id[r].slug for r in article.related]


def test_a_folder_is_stored_with_its_related_posts_as_curated_links(
    site: Site, tmp_path: Path
) -> None:
    write_markdown(site, tmp_path / "posts")
    with ArticleStore(tmp_path / "store.sqlite3") as store:
        report = ingest_harvests(store, read_markdown(tmp_path / "posts"))
        assert report.stored == len(site.articles) and not report.failed
        assert report.unresolved == 0
        for article in site.articles:
            want = [site.by_id[r].slug for r in article.related]
            assert [t for t, _ in store.curated(article.slug)] == want


def test_generator_conventions_drafts_and_unreadable_files(tmp_path: Path) -> None:
    folder = tmp_path / "content"
    (folder / "posts" / "bundle").mkdir(parents=True)
    (folder / "posts" / "bundle" / "index.md").write_text(
        "---\ntitle: A bundle\ndate: 2024-03-04T05:06:07Z\ncategories: Guides\ntags: one two\n"
        "related_posts:\n  - {title: Plain post}\n  - url: https://site.example/x/later\n---\n"
        "Text with `inline code` and a [link](/posts/plain/).\n\n    indented code block\n\n"
        "{% highlight js %}\nvar x = 1;\n{% endhighlight %}\nLast line.\n"
    )
    (folder / "posts" / "plain.markdown").write_text("---\ntitle: Plain post\n---\nJust text.\n")
    (folder / "posts" / "draft.md").write_text("---\ntitle: Draft\ndraft: true\n---\nNot yet.\n")
    (folder / "broken.md").write_text("---\ntitle: [unclosed\n---\nText\n")
    (folder / "layout.html").write_text("<html><body>{{ content }}</body></html>")
    harvests = {h.source: h for h in read_markdown(folder)}
    bundle = harvests[str(folder / "posts" / "bundle" / "index.md")]
    assert bundle.record["id"] == "posts/bundle"
    assert bundle.record["published"].startswith("2024-03-04T05:06:07")
    assert bundle.record["section"] == "Guides" and bundle.record["tags"] == ["one", "two"]
    assert bundle.record["body"] == "Text with inline code and a link.\nLast line."
    assert bundle.record["links"] == ["/posts/plain/"]
    assert bundle.related == ("Plain post", "https://site.example/x/later")
    assert harvests[str(folder / "posts" / "plain.markdown")].record["id"] == "posts/plain"
    assert str(folder / "posts" / "draft.md") not in harvests
    assert str(folder / "layout.html") not in harvests
    assert "front matter" in (harvests[str(folder / "broken.md")].problem or "")
    ids = {h.record.get("id") for h in read_markdown(folder, id_from="slug") if not h.problem}
    assert ids == {"bundle", "plain"}
    with ArticleStore(tmp_path / "store.sqlite3") as store:
        report = ingest_harvests(store, read_markdown(folder))
        assert report.stored == 2 and [s for s, _ in report.failed] == [str(folder / "broken.md")]
        assert [t for t, _ in store.curated("posts/bundle")] == ["posts/plain"]
        assert report.unresolved == 1  # the URL of a post not stored yet


def test_a_folder_without_markdown_is_not_a_source(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("<p>x</p>")
    with pytest.raises(NotASource, match="no Markdown files"):
        list(read_markdown(tmp_path))
    with pytest.raises(NotASource, match="not a folder"):
        list(read_markdown(tmp_path / "page.html"))
