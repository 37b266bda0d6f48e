"""A WordPress export file (WXR, Tools > Export) as harvested articles.

Only published posts are articles (`wp:post_type` post, `wp:status` publish): pages,
attachments, menu items and drafts are not. A post's `link` is its URL (its path the id, as
for pages), `wp:post_date_gmt` its published time (`wp:post_date` when the GMT one is the
export's zero date), its categories and tags come from its `category` elements, and its
`content:encoded` is read as a page's content (`content_from_html`): text without chrome, its
links, and a related box if the theme wrote one into the post. The file is parsed without
resolving entities or fetching anything (no XXE).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from service.errors import NotASource
from service.ingest.page import Harvest, PageError, content_from_html, id_from_url

WP_NAMESPACES = tuple(f"{{http://wordpress.org/export/1.{v}/}}" for v in (0, 1, 2))
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
ZERO_DATE = "0000-00-00 00:00:00"


def read_wxr(path: Path, *, id_from: str = "url") -> Iterator[Harvest]:
    """Every published post of the export at `path`, in file order."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        root = etree.parse(str(path), parser).getroot()
    except (etree.XMLSyntaxError, OSError) as exc:
        raise NotASource(f"{path}: not a WordPress export (WXR): {exc}") from None
    channel = root.find("channel")
    namespace = _wp_namespace(root)
    if root.tag != "rss" or channel is None or namespace is None:
        raise NotASource(
            f"{path}: not a WordPress export (WXR): found <{etree.QName(root).localname}> "
            "without WordPress's wp:post_type elements"
        )
    for number, item in enumerate(channel.iterfind("item"), start=1):
        if (
            _wp(item, namespace, "post_type") != "post"
            or _wp(item, namespace, "status") != "publish"
        ):
            continue
        yield _post(item, namespace, f"{path} item {number}", id_from)


def _wp_namespace(root: Any) -> str | None:
    """The export's wp: namespace (WXR 1.0, 1.1 or 1.2)."""
    for namespace in WP_NAMESPACES:
        if root.find(f".//{namespace}post_type") is not None:
            return namespace
    return None


def _wp(item: Any, namespace: str, name: str) -> str:
    return (item.findtext(f"{namespace}{name}") or "").strip()


def _post(item: Any, namespace: str, where: str, id_from: str) -> Harvest:
    url = (item.findtext("link") or "").strip() or None
    title = " ".join((item.findtext("title") or "").split())
    slug = _wp(item, namespace, "post_name")
    try:
        article_id = id_from_url(url, id_from=id_from) if url else slug
    except PageError:
        article_id = slug
    if not article_id:
        return Harvest({}, (), where, problem="the post has neither a link nor a post_name")
    categories = [c.text.strip() for c in item.iterfind("category[@domain='category']") if c.text]
    tags = [c.text.strip() for c in item.iterfind("category[@domain='post_tag']") if c.text]
    content = content_from_html(
        item.findtext(CONTENT) or "", url=url, title=title, tags=tags, source=where
    )
    record: dict[str, Any] = {"id": article_id, "title": title, "body": content.body}
    fields = {
        "url": url,
        "published": _published(item, namespace),
        "section": categories[0] if categories else None,
        "tags": tags,
        "links": list(content.links),
    }
    record.update((k, v) for k, v in fields.items() if v)
    return Harvest(record=record, related=content.related, source=url or where)


def _published(item: Any, namespace: str) -> str | None:
    """`post_date_gmt` as ISO 8601 UTC, else the local `post_date` (no zone known)."""
    gmt = _wp(item, namespace, "post_date_gmt")
    if gmt and gmt != ZERO_DATE:
        return gmt.replace(" ", "T") + "Z"
    local = _wp(item, namespace, "post_date")
    return local.replace(" ", "T") if local and local != ZERO_DATE else None
