"""An HTML page as a record: its main text without the site's chrome, its metadata, its links.

The page is cleaned first, by structure: navigation, header, footer, scripts, figures and their
captions, share and comment widgets, "Most read"/"Popular"/"Trending" boxes and paragraphs that
are only a link to another article (`READ MORE: ...`) are cut out of the tree, and the related
box (a list of links under a heading such as Related or See also) is taken out whole, as the
page's curated links (`service.ingest.page_links`). What is left is read block by block where
the page marks its article (`<article>`, `itemprop=articleBody`), else by trafilatura, which
finds the main text in markup that says nothing; the plain-text filter
(`service.ingest.chrome`) catches the chrome lines that survive both. Metadata comes from the page's own declarations: the canonical
URL (`<link rel=canonical>`, `og:url`), Open Graph `article:*` properties, JSON-LD, `<time>`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import lxml.html
import trafilatura
from lxml.etree import ParserError

from service.ingest.chrome import clean_lines
from service.ingest.page_links import drop, drop_popular_boxes, related_box, same_site
from service.ingest.page_meta import PageMeta, text_of

ID_FROM = ("url", "slug")
"""How an id is made of a page's canonical URL: its whole path, or its last segment."""

CHROME_WORDS = frozenset(
    [
        "share",
        "sharing",
        "social",
        "comment",
        "comments",
        "disqus",
        "newsletter",
        "subscribe",
        "promo",
        "advert",
        "ad",
        "ads",
        "sponsor",
        "sponsored",
        "cookie",
        "cookies",
        "breadcrumb",
        "breadcrumbs",
        "related",
        "mostread",
        "popular",
        "trending",
        "caption",
        "credit",
        "tag",
        "tags",
        "toolbar",
        "widget",
        "player",
    ]
)
"""Words of class or id names (split at '-' and '_') of elements that are never the text."""
TAXONOMY_PREFIXES = ("tag-", "category-", "post-", "type-", "status-", "format-", "hentry")
"""WordPress marks a post's own element with its terms (`tag-china`, `category-news`): such a
class says what the post is about, not that the element is chrome."""
LANDMARKS = ("navigation", "banner", "contentinfo", "complementary")


def _marked_chrome(element: Any) -> bool:
    """Whether the element's class, id or role says it is chrome (`share-bar`, `most_read`)."""
    if element.get("role") in LANDMARKS:
        return True
    names = f"{element.get('class', '')} {element.get('id', '')}".lower().split()
    for name in names:
        if name.startswith(TAXONOMY_PREFIXES):
            continue
        parts = set(re.split(r"[-_]", name))
        if parts & CHROME_WORDS or "most-read" in name or "most_read" in name:
            return True
    return False


DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "header",
    "footer",
    "aside",
    "figure",
    "figcaption",
    "form",
    "button",
    "iframe",
    "svg",
    "select",
)
LINK_LABEL = re.compile(
    r"^\s*(read more|read also|also read|see also|related|more)\s*[:»>-]?\s*$", re.I
)
BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "dd", "dt")


class PageError(ValueError):
    """A page that can't become a record, with why (no URL for its id, not HTML)."""


@dataclass(frozen=True)
class Harvest:
    """One article harvested from a source, with the site's own related links beside it."""

    record: dict[str, Any]
    """The article in the input schema (id, title, body as plain text, url, published, section,
    tags, links: the body's links, the related box excluded), validated when it is ingested."""
    related: tuple[str, ...]
    """The page's curated related links in order: URLs, paths, slugs or titles."""
    source: str
    """Where it came from (a URL or a file path), for errors and reports."""
    problem: str | None = None
    """Why the source could not be read (then `record` is empty): the ingest reports it as
    failed, with the rest stored."""


def page_from_html(html: str, *, url: str | None = None, id_from: str = "url") -> Harvest:
    """The article of one HTML page. `url`: where the page was fetched (the canonical URL the
    page declares wins); `id_from`: 'url' (the path) or 'slug' (its last segment). Raises
    PageError when the page is not HTML or has no URL to take an id from."""
    if id_from not in ID_FROM:
        raise PageError(f"id_from must be one of {', '.join(ID_FROM)}, got {id_from!r}")
    source = url or "page"
    tree = _parse(html, source)
    meta = PageMeta.read(tree, url)
    if meta.url is None:
        raise PageError(
            f"{source}: the page has no URL to take its id from (no <link rel=canonical>, "
            "no og:url, and no page URL given)"
        )
    content = read_content(tree, meta.url, title=meta.title or "", tags=meta.tags)
    record: dict[str, Any] = {
        "id": id_from_url(meta.url, id_from=id_from),
        "title": meta.title,
        "body": content.body,
        "url": meta.url,
    }
    record.update(
        (name, value)
        for name, value in (
            ("published", meta.published),
            ("section", meta.section),
            ("tags", list(meta.tags)),
            ("links", list(content.links)),
            ("lang", meta.lang),
        )
        if value
    )
    return Harvest(record=record, related=content.related, source=source)


@dataclass(frozen=True)
class Content:
    """What an article's HTML holds: its text, the links in it, its related box."""

    body: str
    """Plain text, one paragraph a line, the chrome left out."""
    links: tuple[str, ...]
    related: tuple[str, ...]


def content_from_html(
    fragment: str,
    *,
    url: str | None = None,
    title: str = "",
    tags: Sequence[str] = (),
    source: str = "content",
) -> Content:
    """An article's HTML content (a post's `content:encoded`, a CMS's rendered body, an HTML
    file of a static site) read as a page's is. Without `url` only relative links count as
    links to the site (and come back as paths). The whole fragment is the article: every
    paragraph counts (see `main_text`)."""
    if not fragment.strip():
        return Content("", (), ())
    return read_content(
        _parse(f"<html><body><article>{fragment}</article></body></html>", source),
        url,
        title=title,
        tags=tags,
    )


def read_content(tree: Any, page_url: str | None, *, title: str, tags: Sequence[str]) -> Content:
    """The related box taken out, the chrome cut, then the links and text of what is left."""
    related = related_box(tree, page_url)
    strip_chrome(tree, page_url)
    links = body_links(_main(tree), page_url)
    body = clean_lines(main_text(tree), title=title, tags=tags)
    return Content(body, tuple(links), tuple(related))


def id_from_url(url: str, *, id_from: str = "url") -> str:
    """An article id from its URL: the path without the leading and trailing '/' and without
    `.html`/`.htm` ('2024/05/title'), or with `id_from='slug'` its last segment ('title')."""
    path = urlsplit(url).path.strip("/")
    path = re.sub(r"\.html?$", "", path, flags=re.IGNORECASE).strip("/")
    if path.endswith("/index"):
        path = path[: -len("/index")]
    if not path:
        raise PageError(f"{url}: the URL has no path to take an id from (a home page?)")
    return path.rsplit("/", 1)[-1] if id_from == "slug" else path


def _parse(html: str, source: str) -> Any:
    if not html.strip():
        raise PageError(f"{source}: the page is empty")
    try:
        tree = lxml.html.document_fromstring(html)
    except (ParserError, ValueError) as exc:
        raise PageError(f"{source}: not an HTML page ({exc})") from exc
    return tree


def strip_chrome(tree: Any, page_url: str | None) -> None:
    """Cut what is never the article's text out of `tree`, in place (see the module's note)."""
    drop_popular_boxes(tree)
    for element in tree.xpath("//" + "|//".join(DROP_TAGS)):
        if (
            element.tag in ("header",)
            and element.xpath("ancestor::article")
            and element.xpath(".//h1")
        ):
            # An article's own header holds its title and standfirst: keep the text, not the bar.
            continue
        drop(element)
    for element in tree.xpath("//*[@class or @id or @role]"):
        if element.tag in ("html", "body", "article", "main"):
            continue
        if element.get("itemprop") != "articleBody" and _marked_chrome(element):
            drop(element)
    for paragraph in tree.xpath("//p|//div[not(.//p)]|//li"):
        if _only_a_link(paragraph, page_url):
            drop(paragraph)


def _only_a_link(element: Any, page_url: str | None) -> bool:
    """A paragraph that is a link to another page of the site and nothing else but a label."""
    anchors = element.xpath(".//a[@href]")
    if len(anchors) != 1 or not same_site(anchors[0].get("href", ""), page_url):
        return False
    rest = text_of(element).replace(text_of(anchors[0]), "", 1)
    return not rest.strip() or bool(LINK_LABEL.match(rest))


def _declared(tree: Any) -> Any | None:
    """The element the page declares as its article (`itemprop=articleBody`, `<article>`)."""
    for xpath in ("//*[@itemprop='articleBody']", "//article"):
        found = tree.xpath(xpath)
        if found:
            return found[0]
    return None


def _main(tree: Any) -> Any:
    """The element holding the article: the declared one, else `<main>`, else the body."""
    declared = _declared(tree)
    if declared is not None:
        return declared
    for xpath in ("//main", "//body"):
        found = tree.xpath(xpath)
        if found:
            return found[0]
    return tree


def body_links(main: Any, page_url: str | None) -> list[str]:
    """Absolute URLs of the site's other pages the article's text links to, in text order."""
    links: list[str] = []
    for anchor in main.xpath(".//a[@href]"):
        target = same_site(anchor.get("href", ""), page_url)
        if target and target not in links:
            links.append(target)
    return links


def main_text(tree: Any) -> str:
    """The main text as plain text, one paragraph a line. Where the page declares its article
    (`<article>`, `itemprop=articleBody`), the text of its blocks once the chrome is cut (every
    paragraph, the short ones too); elsewhere trafilatura's reading of the cleaned page, which
    finds the main text in markup that declares nothing."""
    declared = _declared(tree)
    if declared is not None:
        return block_text(declared)
    extracted = trafilatura.extract(
        tree,
        output_format="txt",
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        deduplicate=False,
    )
    return extracted.strip() if extracted else block_text(_main(tree))


def block_text(main: Any) -> str:
    """The text of `main`'s blocks (paragraphs, headings, list items), one a line."""
    lines: list[str] = []
    for block in main.iter(*BLOCKS):
        if any(ancestor.tag in BLOCKS for ancestor in block.iterancestors()):
            continue
        text = text_of(block)
        if text:
            lines.append(text)
    if not lines:
        text = text_of(main)
        return text
    return "\n".join(lines)
