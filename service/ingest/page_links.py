"""The links of a page: which lead to other pages of the site, and the boxes of them.

A box is a list of links under a heading (or an element so labelled by `aria-label`): the
related box (Related, See also, Read more, More on this, Further reading) is the site's own
curated links and is taken out whole; "Most read", "Popular" and "Trending" boxes are chrome
and are dropped. A heading's parent is the box only when it is mostly the text of its links, so
an article holding a heading and a list is never taken for one.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from service.ingest.page_meta import absolute, text_of

RELATED_HEADING = re.compile(
    r"^\s*(related( articles| stories| posts| content| coverage| reading)?|see also|"
    r"read more|more on this( story| topic)?|further reading|you may also like|"
    r"more like this)\s*:?\s*$",
    re.IGNORECASE,
)
POPULAR_HEADING = re.compile(
    r"^\s*(most (read|popular|viewed|shared|commented)|popular( now| stories)?|trending"
    r"( now| stories)?|top stories|editor'?s picks)\s*:?\s*$",
    re.IGNORECASE,
)


def same_site(href: str, page_url: str | None) -> str | None:
    """`href` as an absolute URL when it is another page of the page's site, else None
    (without `page_url`: a relative `href` as a path, anything else None)."""
    if not href or href.startswith(("#", "mailto:", "javascript:", "tel:")):
        return None
    if page_url is None:
        parts = urlsplit(href.strip())
        relative = not parts.scheme and not parts.netloc and parts.path.strip("/")
        return urlunsplit(("", "", parts.path, parts.query, "")) if relative else None
    found = absolute(href, page_url)
    parts, page = urlsplit(found), urlsplit(page_url)
    if parts.scheme not in ("http", "https") or _host(parts.netloc) != _host(page.netloc):
        return None
    if parts.path.strip("/") in ("", urlsplit(page_url).path.strip("/")):
        return None
    return found


def _host(netloc: str) -> str:
    host = netloc.lower()
    return host[4:] if host.startswith("www.") else host


HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
BOX_LINK_SHARE = 0.6
"""Share of a box's text (its heading aside) that is link text: a list of links, not prose."""


def _is_heading(element: Any) -> bool:
    return element.tag in HEADINGS


def _is_link_list(element: Any, heading: Any) -> bool:
    """Whether `element` is a box of links under `heading`: no other heading, and mostly the
    text of its links (so never the article that merely holds a heading and a list)."""
    if element is None or element.tag in ("body", "html", "article", "main"):
        return False
    if len([e for e in element.iter(*HEADINGS)]) != 1 or not element.xpath(".//a[@href]"):
        return False
    text = len(text_of(element)) - len(text_of(heading))
    linked = sum(len(text_of(a)) for a in element.xpath(".//a[@href]"))
    return text <= 0 or linked >= BOX_LINK_SHARE * text


def _boxes(tree: Any, pattern: re.Pattern[str]) -> list[Any]:
    """Boxes of links under a heading matching `pattern` (or so labelled by `aria-label`): the
    heading's parent when it is such a box, else the heading and the list that follows it."""
    found: list[Any] = []
    for heading in tree.xpath("//h1|//h2|//h3|//h4|//h5|//h6|//*[@aria-label]"):
        label = text_of(heading) if _is_heading(heading) else heading.get("aria-label", "")
        if not pattern.match(label):
            continue
        if not _is_heading(heading):
            found.append(heading)
            continue
        parent = heading.getparent()
        if _is_link_list(parent, heading):
            found.append(parent)
            continue
        following = heading.getnext()
        if following is not None and following.tag in ("ul", "ol", "div", "p"):
            found.append((heading, following))
    return found


def _inside(element: Any, tags: tuple[str, ...]) -> bool:
    return any(ancestor.tag in tags for ancestor in element.iterancestors())


def related_box(tree: Any, page_url: str | None) -> list[str]:
    """The page's related box, its links in order (absolute URLs of the same site), removed
    from the tree. Navigation and "Most read"-like boxes are never a related box."""
    links: list[str] = []
    for box in _boxes(tree, RELATED_HEADING):
        parts = list(box) if isinstance(box, tuple) else [box]
        if _inside(parts[0], ("nav",)) or parts[0].tag == "nav":
            continue
        for part in parts:
            for anchor in part.xpath(".//a[@href]") if part.tag not in ("a",) else [part]:
                target = same_site(anchor.get("href", ""), page_url)
                if target and target not in links:
                    links.append(target)
        for part in parts:
            drop(part)
    return links


def drop(element: Any) -> None:
    parent = element.getparent()
    if parent is not None:
        element.drop_tree()


def drop_popular_boxes(tree: Any) -> None:
    """Cut the "Most read"-like boxes out of `tree`."""
    for box in _boxes(tree, POPULAR_HEADING):
        for part in list(box) if isinstance(box, tuple) else [box]:
            drop(part)
