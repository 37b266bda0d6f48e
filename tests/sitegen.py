"""A news site generated from article records, as a publisher has it: pages, Markdown, WXR, text.

Pure functions over a `Site` (articles with their hand-picked related links): `page_html`
renders an article as a scraped-looking news page (a clock line, "Listen Live", navigation, a
photo with its caption and credit, the section label, "Get short URL", an inline `READ MORE:`
link to another article, the body with one inline link, a related box of up to three links
under a heading, a tags line, comment widgets, a "Most read" box, a footer; its canonical URL,
Open Graph `article:*` properties and JSON-LD), `scraped_text` the visible text of its article
region (as a scraper keeps it), `write_markdown` the same articles as a static site's Markdown
folder with front matter, and `wxr` as a WordPress export. Every choice is seeded by the
article's place, so a site renders the same every time. Nothing here touches the network.
"""

from __future__ import annotations

import html
import json
import random
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SAMPLE = Path(__file__).resolve().parents[1] / "service" / "sample"
RELATED_HEADINGS = ("Related", "See also", "Read more", "More on this", "Further reading")
AGENCIES = ("Sputnik", "Reuters", "AFP", "Northport Daily")
PHOTOGRAPHERS = ("Valeriy Melnikov", "Ana Ruiz", "Tom Beck", "Lee Park", "Mo Diaz")
WIDGETS = ("Community standards", "Discussion", "Comment via Facebook", "Comment via Sputnik")
SITE_NAME = "Northport Daily"
CODE_EVERY = 3
"""Every third Markdown file has a fenced code block (which ingestion must drop)."""


@dataclass(frozen=True)
class SiteArticle:
    id: str
    """The id in the source records."""
    title: str
    body: str
    path: str
    """The page's path on the site, without the leading '/': 'city/night-trams-weekends'."""
    published: str
    section: str
    tags: tuple[str, ...]
    related: tuple[str, ...]
    """Ids (source records') of the hand-picked related articles, in order (at most 3)."""

    @property
    def page_id(self) -> str:
        """The id ingestion gives the page: its path without slashes at the ends or `.html`."""
        return re.sub(r"\.html?$", "", self.path.strip("/"))

    @property
    def slug(self) -> str:
        return self.page_id.rsplit("/", 1)[-1]

    @property
    def paragraphs(self) -> list[str]:
        return [" ".join(line.split()) for line in self.body.splitlines() if line.strip()]

    @property
    def linked_paragraph(self) -> int | None:
        """The paragraph whose first words link to another article: the first after the
        lede long enough that the link is not the whole paragraph."""
        for index, paragraph in enumerate(self.paragraphs[1:], start=1):
            if len(paragraph.split()) >= 8:
                return index
        return None

    @property
    def clean_body(self) -> str:
        """The body as extracted text should read: one paragraph a line."""
        return "\n".join(self.paragraphs)


@dataclass
class Site:
    base: str
    """Scheme and host of the canonical URLs: 'https://news.northport.example'."""
    articles: list[SiteArticle]
    by_id: dict[str, SiteArticle] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {a.id: a for a in self.articles}

    def url(self, article: SiteArticle) -> str:
        return f"{self.base}/{article.path}"

    def related_pages(self, article: SiteArticle) -> list[str]:
        """Page ids of the article's related box, in order."""
        return [self.by_id[r].page_id for r in article.related]

    def other(self, article: SiteArticle, step: int) -> SiteArticle:
        """A deterministic other article, never one of its related ones."""
        index = self.articles.index(article)
        for offset in range(step, step + len(self.articles)):
            candidate = self.articles[(index + offset) % len(self.articles)]
            if candidate is not article and candidate.id not in article.related:
                return candidate
        return article

    def clean_records(self) -> list[dict[str, Any]]:
        """The same articles as clean records, under their page ids: the collection to compare
        every ingested source with."""
        return [
            {
                "id": a.page_id,
                "title": a.title,
                "body": a.clean_body,
                "url": self.url(a),
                "published": a.published,
                "section": a.section,
                "tags": list(a.tags),
            }
            for a in self.articles
        ]


def load_site(
    directory: Path = SAMPLE, *, limit: int | None = None, base: str | None = None
) -> Site:
    """The site of `directory`'s articles.jsonl and related.jsonl (the bundled sample by
    default; ../shared/data/auth0_blog for benches). `base` replaces the URLs' scheme and host."""
    lines = (directory / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    records = records[:limit] if limit else records
    known = {r["id"] for r in records}
    related: dict[str, list[str]] = {}
    related_file = directory / "related.jsonl"
    if related_file.is_file():
        for line in related_file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                related[row["id"]] = [t for t in row["related"] if t in known and t != row["id"]]
    hosts = [urlsplit(r["url"]) for r in records if r.get("url")]
    site_base = base or (
        f"{hosts[0].scheme}://{hosts[0].netloc}" if hosts else "https://site.example"
    )
    articles = []
    for record in records:
        url = record.get("url")
        section = record.get("section") or "News"
        path = urlsplit(url).path.lstrip("/") if url else f"{section.lower()}/{record['id']}.html"
        articles.append(
            SiteArticle(
                id=record["id"],
                title=" ".join(record["title"].split()),
                body=record.get("body") or "",
                path=path,
                published=(record.get("published") or "2024-01-01")[:10],
                section=section,
                tags=tuple(record.get("tags") or ()),
                related=tuple(related.get(record["id"], [])[:3]),
            )
        )
    return Site(site_base.rstrip("/"), articles)


def _rng(site: Site, article: SiteArticle) -> random.Random:
    return random.Random(site.articles.index(article))


def clock_line(article: SiteArticle, rng: random.Random) -> tuple[str, str]:
    """('02:58 GMT +3 15 December 2018', the ISO datetime it shows)."""
    day = date.fromisoformat(article.published)
    hour, minute = rng.randint(0, 23), rng.randint(0, 59)
    shown = f"{hour:02d}:{minute:02d} GMT +3 {day.day} {day.strftime('%B')} {day.year}"
    return shown, f"{article.published}T{hour:02d}:{minute:02d}:00+03:00"


def credit(rng: random.Random) -> str:
    return f"© {rng.choice(AGENCIES)} / {rng.choice(PHOTOGRAPHERS)}"


def _link(site: Site, article: SiteArticle) -> str:
    return f'<a href="/{html.escape(article.path)}">{html.escape(article.title)}</a>'


def _body_html(site: Site, article: SiteArticle) -> str:
    """The paragraphs, a `READ MORE:` link paragraph after the first, and an inline link on the
    first words of `linked_paragraph`."""
    paragraphs = [html.escape(p) for p in article.paragraphs]
    linked_at = article.linked_paragraph
    if linked_at is not None:
        words = article.paragraphs[linked_at].split(" ")
        linked, rest = " ".join(words[:3]), " ".join(words[3:])
        target = site.other(article, 2)
        paragraphs[linked_at] = (
            f'<a href="/{html.escape(target.path)}">{html.escape(linked)}</a> {html.escape(rest)}'
        )
    blocks = [f"<p>{p}</p>" for p in paragraphs]
    blocks.insert(1, f"<p>READ MORE: {_link(site, site.other(article, 1))}</p>")
    return "\n".join(blocks)


def body_link(site: Site, article: SiteArticle) -> str | None:
    """The URL the page's body links to (on the second paragraph's first words), if any."""
    return site.url(site.other(article, 2)) if article.linked_paragraph is not None else None


def _related_box(site: Site, article: SiteArticle, rng: random.Random) -> str:
    if not article.related:
        return ""
    heading = rng.choice(RELATED_HEADINGS)
    items = "".join(f"<li>{_link(site, site.by_id[r])}</li>" for r in article.related)
    shape = rng.randrange(3)
    if shape == 0:
        return f'<section class="related-articles"><h3>{heading}</h3><ul>{items}</ul></section>'
    if shape == 1:
        return f"<div><h2>{heading}</h2><ul>{items}</ul></div>"
    return f"<h3>{heading}</h3>\n<ul>{items}</ul>"


def content_html(site: Site, article: SiteArticle) -> str:
    """The article's content as a CMS holds it (a feed's `content:encoded`, WordPress's
    `content.rendered`): the body with its `READ MORE:` and inline links, then its related box."""
    return _body_html(site, article) + "\n" + _related_box(site, article, _rng(site, article))


def _most_read(site: Site, article: SiteArticle) -> str:
    picks = [site.other(article, step) for step in (5, 7, 11, 13)]
    items = "".join(f"<li>{_link(site, a)}</li>" for a in picks)
    return f'<aside class="sidebar"><h2>Most read</h2><ol>{items}</ol></aside>'


def page_html(site: Site, article: SiteArticle) -> str:
    """The article as a page of a news site (see the module's note)."""
    rng = _rng(site, article)
    clock, when = clock_line(article, rng)
    url = site.url(article)
    title = html.escape(article.title)
    tag_meta = "".join(
        f'<meta property="article:tag" content="{html.escape(t)}">' for t in article.tags
    )
    ld = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": article.title,
            "datePublished": when,
            "articleSection": article.section,
            "keywords": list(article.tags),
            "url": url,
        }
    )
    sections = sorted({a.section for a in site.articles})
    nav = "".join(f'<li><a href="/{s.lower()}/">{html.escape(s)}</a></li>' for s in sections)
    tags = ", ".join(html.escape(t) for t in article.tags)
    tags_block = (
        (f'<div class="tags">{tags}</div>' if rng.random() < 0.5 else f"<p>{tags}</p>")
        if article.tags
        else ""
    )
    widgets = "".join(f"<p>{w}</p>" for w in WIDGETS)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{title} - {SITE_NAME}</title>
<link rel="canonical" href="{html.escape(url)}">
<meta property="og:url" content="{html.escape(url)}">
<meta property="og:title" content="{title}">
<meta property="og:type" content="article">
<meta property="article:published_time" content="{when}">
<meta property="article:section" content="{html.escape(article.section)}">
{tag_meta}
<script type="application/ld+json">{ld}</script>
</head><body>
<header class="site-header"><div class="clock">{clock}</div>
<a class="live" href="/live">Listen Live</a>
<nav><ul><li><a href="/">Home</a></li>{nav}</ul></nav></header>
<main><article>
<div class="section-label"><a href="/{article.section.lower()}/">{html.escape(article.section.upper())}</a></div>
<h1>{title}</h1>
<time datetime="{when}">{clock}</time>
<figure><img src="/img/{article.slug}.jpg" alt="">
<figcaption>{html.escape(article.title.split(" ")[0])} in the photo. <span class="credit">{credit(rng)}</span></figcaption></figure>
<div class="share-bar"><a href="/s/{article.slug}">Get short URL</a> <a href="https://facebook.example/share">Share</a></div>
<div class="article-body">
{_body_html(site, article)}
</div>
{_related_box(site, article, rng)}
{tags_block}
<div class="comments">{widgets}</div>
</article>
{_most_read(site, article)}
</main>
<footer><p>© 2026 {SITE_NAME}. All rights reserved.</p><a href="/about">About us</a></footer>
</body></html>
"""


def scraped_text(site: Site, article: SiteArticle) -> str:
    """The visible text of the page's article region, one block a line, as a scraper keeps
    it: clock, "Listen Live", section, title, credit, "Get short URL", the body with its
    `READ MORE:` line, the related headlines, the tags line and the comment widgets."""
    rng = _rng(site, article)
    clock, _ = clock_line(article, rng)
    lines = [clock, "Listen Live", article.section.upper(), article.title, credit(rng)]
    lines.append("Get short URL")
    body = list(article.paragraphs)
    body.insert(1, f"READ MORE: {site.other(article, 1).title}")
    lines.extend(body)
    lines.extend(site.by_id[r].title for r in article.related)
    if article.tags:
        lines.append(", ".join(article.tags))
    lines.extend(WIDGETS)
    return "\n".join(lines)


def scraped_records(site: Site) -> list[dict[str, Any]]:
    """The site as records whose bodies are scraped text (the case of the page this project
    was started from), under their page ids."""
    return [
        {**record, "body": scraped_text(site, article)}
        for record, article in zip(site.clean_records(), site.articles, strict=True)
    ]


def write_pages(site: Site, directory: Path) -> dict[str, Path]:
    """Every page as `directory/<path>` (`.html` added where the path has none); page id ->
    file."""
    files = {}
    for article in site.articles:
        path = article.path.strip("/")
        name = path if path.endswith((".html", ".htm")) else f"{path}/index.html"
        file = directory / name
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(page_html(site, article), encoding="utf-8")
        files[article.page_id] = file
    return files


RELATED_KEYS = ("related", "related_posts", "see_also")


def markdown_file(site: Site, article: SiteArticle, *, jekyll: bool = False) -> tuple[str, str]:
    """(file name, text) of the article as a Markdown post with front matter: title, date,
    slug (Hugo; Jekyll names the file `YYYY-MM-DD-slug.md` instead), categories, tags and its
    related posts by slug, under one of the keys static-site themes use."""
    index = site.articles.index(article)
    key = RELATED_KEYS[index % len(RELATED_KEYS)]
    lines = ["---", f"title: {json.dumps(article.title)}", f"date: {article.published}"]
    if not jekyll:
        lines.append(f"slug: {article.slug}")
    lines.append(f"categories: [{json.dumps(article.section)}]")
    lines.append(f"tags: {json.dumps(list(article.tags))}")
    if article.related:
        lines.append(f"{key}:")
        lines.extend(f"  - {site.by_id[r].slug}" for r in article.related)
    lines.append("---")
    paragraphs = [p.replace("*", r"\*").replace("_", r"\_") for p in article.paragraphs]
    linked_at = article.linked_paragraph
    if linked_at is not None:
        target = site.other(article, 2)
        words = paragraphs[linked_at].split(" ")
        paragraphs[linked_at] = f"[{' '.join(words[:3])}](/{target.path}) {' '.join(words[3:])}"
    if index % CODE_EVERY == 0:
        paragraphs.insert(min(1, len(paragraphs)), "```python\nprint('not prose')\n```")
    name = f"{article.published}-{article.slug}.md" if jekyll else f"{article.slug}.md"
    return name, "\n".join(lines) + "\n\n" + "\n\n".join(paragraphs) + "\n"


def write_markdown(site: Site, directory: Path, *, jekyll: bool = False) -> dict[str, Path]:
    """Every article as a Markdown post in `directory`; slug -> file."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    for article in site.articles:
        name, text = markdown_file(site, article, jekyll=jekyll)
        (directory / name).write_text(text, encoding="utf-8")
        files[article.slug] = directory / name
    return files


def wxr(site: Site) -> str:
    """The site as a WordPress export (WXR 1.2): every article a published post (its content
    with the related box an editor's block would write), plus a draft, a page and an attachment
    that are not articles."""
    items = [_wxr_item(site, a, i + 1) for i, a in enumerate(site.articles)]
    first = site.articles[0]
    items.append(_wxr_item(site, first, 90001, status="draft", slug="draft-post"))
    items.append(_wxr_item(site, first, 90002, post_type="page", slug="about"))
    items.append(_wxr_item(site, first, 90003, post_type="attachment", slug="photo"))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
 xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>{SITE_NAME}</title><link>{site.base}</link><wp:wxr_version>1.2</wp:wxr_version>
{"".join(items)}
</channel></rss>
"""


def _wxr_item(
    site: Site,
    article: SiteArticle,
    post_id: int,
    *,
    status: str = "publish",
    post_type: str = "post",
    slug: str | None = None,
) -> str:
    url = site.url(article) if slug is None else f"{site.base}/{slug}/"
    content = content_html(site, article)
    categories = f'<category domain="category" nicename="{article.section.lower()}"><![CDATA[{article.section}]]></category>'
    tags = "".join(
        f'<category domain="post_tag" nicename="{_nicename(t)}"><![CDATA[{t}]]></category>'
        for t in article.tags
    )
    title = article.title if slug is None else f"{slug} {post_type}"
    return f"""<item><title>{html.escape(title)}</title><link>{html.escape(url)}</link>
<pubDate>Mon, 01 Jan 2024 00:00:00 +0000</pubDate><dc:creator><![CDATA[editor]]></dc:creator>
<content:encoded><![CDATA[{content}]]></content:encoded>
<wp:post_id>{post_id}</wp:post_id><wp:post_date_gmt>{article.published} 08:30:00</wp:post_date_gmt>
<wp:post_name>{slug or article.slug}</wp:post_name><wp:status>{status}</wp:status>
<wp:post_type>{post_type}</wp:post_type>{categories}{tags}</item>
"""


def _nicename(label: str) -> str:
    return re.sub(r"\W+", "-", label.lower()).strip("-")
