"""A static site's folder of posts (Hugo, Jekyll, Eleventy, Gatsby) as harvested articles.

Each `.md`/`.markdown` file (and each `.html` file with front matter) is one article. The front
matter (python-frontmatter) gives the title, the date, the slug, the section (`section`,
`categories` or `category`), the tags (`tags` or `keywords`) and the site's own related posts
(`related`, `related_posts`, `relatedposts`, `see_also`: by slug, path, URL or title). The body
is rendered by markdown-it and read like a page's content (`content_from_html`): code blocks
dropped, links kept as the article's links. Ids follow the generators' conventions: the slug
(front matter, else the file name without a Jekyll `YYYY-MM-DD-` date, else the folder of an
`index.md` bundle), under the file's folder relative to the source unless `id_from='slug'`.
Drafts (`draft: true`, `published: false`) are not articles.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import frontmatter
from markdown_it import MarkdownIt

from service.errors import NotASource
from service.ingest.page import Harvest, content_from_html

SUFFIXES = (".md", ".markdown", ".html", ".htm")
RELATED_KEYS = ("related", "related_posts", "relatedposts", "see_also")
SECTION_KEYS = ("section", "categories", "category")
TAG_KEYS = ("tags", "keywords")
JEKYLL_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})-(.+)$")
BUNDLE_NAMES = ("index", "_index")
_RENDER = MarkdownIt("commonmark", {"html": True})
HIGHLIGHT = re.compile(r"{%-?\s*highlight\b.*?{%-?\s*endhighlight\s*-?%}", re.DOTALL)
LIQUID = re.compile(r"{%.*?%}|{{.*?}}", re.DOTALL)
CODE = re.compile(r"<pre\b.*?</pre>", re.DOTALL | re.IGNORECASE)
"""A code block as markdown-it renders it: never prose."""


def read_markdown(folder: Path, *, id_from: str = "url") -> Iterator[Harvest]:
    """Every post under `folder`, in path order. `id_from='slug'`: the slug alone as id."""
    if not folder.is_dir():
        raise NotASource(f"{folder}: not a folder of Markdown or HTML files")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not any(p.suffix.lower() in (".md", ".markdown") for p in files):
        raise NotASource(
            f"{folder}: no Markdown files (.md, .markdown) in it; found "
            f"{len(files)} HTML files and nothing else this reads"
        )
    for path in files:
        if any(
            part.startswith(".") or part.startswith("_site")
            for part in path.relative_to(folder).parts
        ):
            continue
        harvest = read_post(path, folder, id_from=id_from)
        if harvest is not None:
            yield harvest


def read_post(path: Path, folder: Path, *, id_from: str = "url") -> Harvest | None:
    """One post as a harvest; None for a draft or an HTML file without front matter (a
    generator's template or output, not a post)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    is_html = path.suffix.lower() in (".html", ".htm")
    if is_html and not text.lstrip().startswith("---"):
        return None
    try:
        post = frontmatter.loads(text)
    except Exception as exc:  # the YAML/TOML parsers raise their own families
        return _failed(path, folder, f"unreadable front matter: {exc}")
    meta: dict[str, Any] = dict(post.metadata)
    if meta.get("draft") is True or meta.get("published") is False:
        return None
    slug, day = _slug_and_date(path, meta)
    relative = path.relative_to(folder).parent
    if path.stem in BUNDLE_NAMES:
        relative = relative.parent
    article_id = (
        slug if id_from == "slug" or str(relative) == "." else f"{relative.as_posix()}/{slug}"
    )
    html = post.content if is_html else CODE.sub("", _RENDER.render(_without_code(post.content)))
    title = _text(meta.get("title"))
    tags = _labels(_first(meta, TAG_KEYS))
    content = content_from_html(html, title=title or "", tags=tags, source=str(path))
    record: dict[str, Any] = {"id": article_id, "title": title, "body": content.body}
    section = _labels(_first(meta, SECTION_KEYS))
    extra = {
        "url": _text(meta.get("url")) if str(meta.get("url", "")).startswith("http") else None,
        "published": _date(meta.get("date")) or day,
        "section": section[0] if section else None,
        "tags": tags,
        "links": list(content.links),
        "lang": _text(meta.get("lang") or meta.get("language")),
    }
    record.update((k, v) for k, v in extra.items() if v)
    related = _related(_first(meta, RELATED_KEYS)) or list(content.related)
    return Harvest(record=record, related=tuple(related), source=str(path))


def _failed(path: Path, folder: Path, reason: str) -> Harvest:
    """A post that can't be read: named with its reason in the ingest's report."""
    return Harvest(record={}, related=(), source=str(path), problem=reason)


def _without_code(markdown: str) -> str:
    """The post without Jekyll's `{% highlight %}` blocks and Liquid tags (its fenced and
    indented code blocks go after rendering)."""
    markdown = HIGHLIGHT.sub("", markdown)
    return LIQUID.sub("", markdown)


def _slug_and_date(path: Path, meta: dict[str, Any]) -> tuple[str, str | None]:
    """The post's slug, and the date its Jekyll file name gives (if any)."""
    name = path.parent.name if path.stem in BUNDLE_NAMES else path.stem
    jekyll = JEKYLL_NAME.match(name)
    day = jekyll.group(1) if jekyll else None
    slug = _text(meta.get("slug")) or (jekyll.group(2) if jekyll else name)
    return slug.strip("/"), day


def _first(meta: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if meta.get(key):
            return meta[key]
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        text = " ".join(str(value).split())
        return text or None
    return None


def _labels(value: Any) -> list[str]:
    """Tags or categories: a list, or one string (comma- or space-separated, as Jekyll allows)."""
    if isinstance(value, str):
        parts = value.split(",") if "," in value else value.split()
        return [p.strip() for p in parts if p.strip()]
    if isinstance(value, list):
        return [t for t in (_text(v) for v in value) if t]
    return []


def _date(value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = _text(value)
    return text if text and re.match(r"^\d{4}-\d{2}-\d{2}", text) else None


def _related(value: Any) -> list[str]:
    """A front matter's related list: strings (slugs, paths, URLs, titles) or objects naming
    one (`url`, `slug`, `path`, `link`, `id` or `title`)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    found: list[str] = []
    for item in value:
        if isinstance(item, dict):
            item = next(
                (item[k] for k in ("url", "slug", "path", "link", "id", "title") if item.get(k)),
                None,
            )
        text = _text(item)
        if text:
            found.append(text)
    return found
