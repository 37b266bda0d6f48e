"""Which article a harvested link names: by id, URL, path, slug or title.

A site's related box names its targets by URL, a Markdown front matter by slug or path, a
scraped page by headline. `LinkTargets` indexes articles (id, url, title) under each of those
names and answers a target string with an id, trying the most specific name first: the id
itself, the URL, the path (a URL's path is an id when ids come from URLs), the slug (the last
path segment, only when one article has it), then the title.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from service.ingest.chrome import normalized
from service.store import ArticleStore


def url_key(url: str) -> str | None:
    """A URL as links are compared: host without `www.`, path without slashes at its ends or
    `.html`, no scheme, query or fragment. None when `url` is not an absolute http(s) URL."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = parts.netloc.lower().removeprefix("www.")
    return f"{host}/{path_key(parts.path)}"


def path_key(path: str) -> str:
    """A path as links are compared: `/2024/05/title.html` and `2024/05/title/` -> `2024/05/title`."""
    path = unquote(path).strip().strip("/")
    path = re.sub(r"\.html?$", "", path, flags=re.IGNORECASE)
    return path.removesuffix("/index").strip("/")


class LinkTargets:
    """Articles by every name a link may give them."""

    def __init__(self, labels: Iterable[tuple[str, str | None, str]] = ()) -> None:
        self.ids: set[str] = set()
        self.urls: dict[str, str] = {}
        self.paths: dict[str, str] = {}
        self.slugs: dict[str, str | None] = {}
        """Slug -> id; None when two articles share the slug (it then names neither)."""
        self.titles: dict[str, str] = {}
        self.add(labels)

    def add(self, labels: Iterable[tuple[str, str | None, str]]) -> None:
        """Index articles given as (id, url, title)."""
        for article_id, url, title in labels:
            self.ids.add(article_id)
            paths = {path_key(article_id)}
            if url:
                key = url_key(url)
                if key is not None:
                    self.urls.setdefault(key, article_id)
                    paths.add(key.split("/", 1)[1])
            for path in paths:
                if not path:
                    continue
                self.paths.setdefault(path, article_id)
                slug = path.rsplit("/", 1)[-1]
                if self.slugs.get(slug, article_id) != article_id:
                    self.slugs[slug] = None
                else:
                    self.slugs[slug] = article_id
            if title and normalized(title):
                self.titles.setdefault(normalized(title), article_id)

    def resolve(self, target: str) -> str | None:
        """The id of the article `target` names, else None."""
        target = target.strip()
        if not target:
            return None
        if target in self.ids:
            return target
        key = url_key(target)
        if key is not None:
            found = self.urls.get(key)
            return found if found is not None else self.paths.get(key.split("/", 1)[1])
        path = path_key(target)
        if path in self.paths:
            return self.paths[path]
        if "/" not in path and self.slugs.get(path):
            return self.slugs[path]
        return self.titles.get(normalized(target))


def resolve_arrivals(store: ArticleStore, arrivals: Iterable[tuple[str, str | None, str]]) -> int:
    """Resolve the pending links that the arrived articles ((id, url, title)) answer to; the
    number of links added to their lists. Cheap when nothing is pending."""
    pending = store.pending_links()
    if not pending:
        return 0
    targets = LinkTargets(arrivals)
    if not targets.ids:
        return 0
    found = [
        (source, position, target_id)
        for source, position, target in pending
        if (target_id := targets.resolve(target)) is not None
    ]
    return store.resolve_pending(found) if found else 0
