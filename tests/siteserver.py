"""A publisher's site on 127.0.0.1, for the crawler and the site sources to be tested against.

`SiteServer(pages)` serves generated pages (tests/sitegen.py renders them) at their paths, with
what a real site has around them: robots.txt (with a disallowed folder and a Sitemap line), a
sitemap and a sitemap index (`lastmod` per page), an RSS feed whose items carry the full text in
`content:encoded` and an Atom feed whose entries only link to their page, and a WordPress REST
API (`/wp-json/wp/v2/posts` paginated with `X-WP-Total`/`X-WP-TotalPages`, `modified_after`,
categories and tags by id). Pages answer conditional GETs (ETag, Last-Modified). Around them the
paths that test a crawler's manners: 429 and 503 with Retry-After for the first few requests
(`/flaky/...`, `/busy/...`), a slow page, pages that take a moment (`/paced/...`), an oversized page, redirects (one hop, a loop, off the
site), a page disallowed by robots.txt and a "feed" that is an HTML page. Every request is
logged (path, headers, time) and the most requests in flight at once is kept, so tests can
check what the crawler sent and how many connections it held.

Pages can be added, changed and removed while it runs (`put`, `remove`), as a site publishes;
`site_pages(site)` makes them of a tests/sitegen.py `Site`.
Nothing leaves the machine: the server binds 127.0.0.1 on a free port.
"""

from __future__ import annotations

import html
import json
import re
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from tests import sitegen
from tests.sitegen import Site

ISO = "%Y-%m-%dT%H:%M:%SZ"
SITEMAP_CHUNK = 40
"""Pages per child sitemap of the sitemap index (so a small site still has several)."""
SLOW_SECONDS = 3.0
PACED_SECONDS = 0.2
"""How long `/paced/<path>` takes to answer: long enough that a crawler's requests overlap."""
HUGE_BYTES = 3 * 1024 * 1024


@dataclass(frozen=True)
class SitePage:
    """One article as the site publishes it."""

    path: str
    """Where it is served, e.g. `/world/2018/12/drills.html`."""
    html: str
    """The whole page (chrome, related box and all)."""
    content: str
    """The article's own HTML as a CMS holds it (what a feed's `content:encoded` and the
    WordPress API's `content.rendered` carry)."""
    title: str
    published: str
    """ISO 8601 in UTC, e.g. `2018-12-15T02:58:00Z`."""
    section: str = ""
    tags: tuple[str, ...] = ()
    slug: str = ""
    modified: str = ""
    """When it last changed (ISO 8601, UTC); the published time when empty."""

    @property
    def changed(self) -> str:
        return self.modified or self.published


@dataclass
class Logged:
    path: str
    headers: dict[str, str]
    at: float


@dataclass
class SiteState:
    pages: dict[str, SitePage]
    log: list[Logged] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    retry_after: int = 1
    """Seconds the 429/503 paths ask the crawler to wait."""
    refusals: int = 2
    """Requests `/flaky/...` and `/busy/...` refuse before they answer."""
    refused: dict[str, int] = field(default_factory=dict)
    robots: str = ""
    robots_status: int = 200
    sitemap_lastmod: bool = True
    """Whether sitemaps give each page's `lastmod` (without, a crawler must ask each page)."""
    extra_sitemap_urls: list[str] = field(default_factory=list)
    """URLs /sitemap.xml lists besides the pages (broken, disallowed or off-site ones)."""
    lock: threading.Lock = field(default_factory=threading.Lock)


class SiteServer:
    """The site, served on 127.0.0.1 (a context manager; `url` is its root, without `/`)."""

    def __init__(self, pages: Iterable[SitePage], *, robots: str | None = None) -> None:
        self.state = SiteState({page.path: page for page in pages})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.state.robots = robots if robots is not None else default_robots(self.url)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> SiteServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def put(self, page: SitePage) -> None:
        with self.state.lock:
            self.state.pages[page.path] = page

    def remove(self, path: str) -> None:
        with self.state.lock:
            del self.state.pages[path]

    def requests(self, prefix: str = "") -> list[Logged]:
        with self.state.lock:
            return [entry for entry in self.state.log if entry.path.startswith(prefix)]

    def clear_log(self) -> None:
        with self.state.lock:
            self.state.log.clear()
            self.state.most_in_flight = 0


@contextmanager
def serve(pages: Iterable[SitePage], **options: Any) -> Iterator[SiteServer]:
    with SiteServer(pages, **options) as server:
        yield server


def default_robots(url: str) -> str:
    return (
        "User-agent: *\nDisallow: /private/\nAllow: /\n\n"
        "User-agent: BadBot\nDisallow: /\n\n"
        f"Sitemap: {url}/sitemap_index.xml\n"
    )


def site_pages(site: Site) -> list[SitePage]:
    """The pages of a generated site (its base must be this server's URL for the canonical
    URLs to point here). A post's content, as its CMS holds it, is its body with the inline
    links and the related box its editors put in it; the published time is the page's own."""
    pages = []
    for article in site.articles:
        _, when = sitegen.clock_line(article, sitegen._rng(site, article))
        pages.append(
            SitePage(
                path="/" + article.path,
                html=sitegen.page_html(site, article),
                content=sitegen.content_html(site, article),
                title=article.title,
                published=datetime.fromisoformat(when).astimezone(UTC).strftime(ISO),
                section=article.section,
                tags=article.tags,
                slug=article.slug,
            )
        )
    return pages


CLOCK = re.compile(r"^\d{2}:\d{2} GMT")


def chrome_lines(text: str, site: Site, title: str, tags: Iterable[str]) -> list[str]:
    """The lines of an article's `text` that are the generated site's chrome (clock, credits,
    widgets, labels, the tags line, `READ MORE:`, the footer) or another article's title."""
    others = {a.title for a in site.articles} - {title}
    tags_line = ", ".join(tags)
    found = []
    for line in (raw.strip() for raw in text.splitlines()):
        if (
            CLOCK.match(line)
            or "©" in line
            or line in ("Listen Live", "Get short URL", "Most read")
            or line in sitegen.WIDGETS
            or line.startswith("READ MORE")
            or line in others
            or (tags_line and line == tags_line)
            or "All rights reserved" in line
        ):
            found.append(line)
    return found


def touched(page: SitePage, when: str, html_text: str | None = None) -> SitePage:
    """`page` changed at `when` (its page text replaced when given)."""
    return replace(page, modified=when, html=html_text if html_text is not None else page.html)


def _http_date(iso: str) -> str:
    return format_datetime(_parse(iso), usegmt=True)


def _parse(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC)


def _handler(state: SiteState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            with state.lock:
                state.log.append(Logged(self.path, dict(self.headers.items()), time.monotonic()))
                state.in_flight += 1
                state.most_in_flight = max(state.most_in_flight, state.in_flight)
            try:
                self._route()
            finally:
                with state.lock:
                    state.in_flight -= 1

        def _send(
            self,
            status: int,
            body: bytes | str = b"",
            content_type: str = "text/html; charset=utf-8",
            headers: dict[str, str] | None = None,
        ) -> None:
            data = body.encode("utf-8") if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _route(self) -> None:
            parts = urlsplit(self.path)
            path, query = parts.path, parse_qs(parts.query)
            with state.lock:
                pages = sorted(state.pages.values(), key=lambda p: p.published)
            if path == "/robots.txt":
                return self._send(state.robots_status, state.robots, "text/plain")
            if path == "/sitemap.xml":
                body = _urlset(
                    self._root(), pages, state.extra_sitemap_urls, lastmod=state.sitemap_lastmod
                )
                return self._send(200, body, "application/xml")
            if path == "/sitemap_index.xml":
                return self._send(200, _sitemap_index(self._root(), pages), "application/xml")
            if path.startswith("/sitemaps/posts-"):
                number = int(path.removeprefix("/sitemaps/posts-").removesuffix(".xml"))
                chunk = pages[(number - 1) * SITEMAP_CHUNK : number * SITEMAP_CHUNK]
                body = _urlset(self._root(), chunk, lastmod=state.sitemap_lastmod)
                return self._send(200, body, "application/xml")
            if path == "/feed.xml":
                return self._send(200, _rss(self._root(), pages), "application/rss+xml")
            if path == "/atom.xml":
                return self._send(200, _atom(self._root(), pages), "application/atom+xml")
            if path.startswith("/wp-json/wp/v2/"):
                return self._wordpress(path.removeprefix("/wp-json/wp/v2/"), query, pages)
            if path == "/not-a-feed.xml":
                return self._send(200, "<html><body><p>Hello</p></body></html>")
            if path.startswith(("/flaky/", "/busy/")):
                with state.lock:
                    count = state.refused.get(path, 0)
                    state.refused[path] = count + 1
                if count < state.refusals:
                    status = 429 if path.startswith("/flaky/") else 503
                    return self._send(
                        status, "wait", headers={"Retry-After": str(state.retry_after)}
                    )
                path = "/" + path.split("/", 2)[2]
            if path.startswith("/paced/"):
                time.sleep(PACED_SECONDS)
                path = "/" + path.split("/", 2)[2]
            if path == "/slow":
                time.sleep(SLOW_SECONDS)
                return self._send(200, "<html><body><p>late</p></body></html>")
            if path == "/huge":
                return self._send(200, "<html><body>" + "x" * HUGE_BYTES + "</body></html>")
            if path == "/loop":
                return self._send(302, headers={"Location": "/loop"})
            if path == "/offsite":
                return self._send(301, headers={"Location": "http://elsewhere.invalid/story"})
            if path.startswith("/old/"):
                return self._send(301, headers={"Location": path.removeprefix("/old")})
            if path == "/always-503":
                return self._send(503, "down")
            with state.lock:
                page = state.pages.get(path)
            if page is None:
                return self._send(404, "<html><body><h1>Not found</h1></body></html>")
            return self._page(page)

        def _root(self) -> str:
            return f"http://{self.headers.get('Host', '127.0.0.1')}"

        def _page(self, page: SitePage) -> None:
            etag = f'"{abs(hash((page.path, page.changed, page.html))):x}"'
            modified = _http_date(page.changed)
            validators = {"ETag": etag, "Last-Modified": modified}
            if self.headers.get("If-None-Match") == etag or (
                "If-None-Match" not in self.headers
                and self.headers.get("If-Modified-Since") == modified
            ):
                self.send_response(304)
                for name, value in validators.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._send(200, page.html, headers=validators)

        def _wordpress(self, what: str, query: dict[str, list[str]], pages: list[SitePage]) -> None:
            per_page = min(int(query.get("per_page", ["10"])[0]), 100)
            number = int(query.get("page", ["1"])[0])
            categories = _terms(p.section for p in pages if p.section)
            tags = _terms(t for p in pages for t in p.tags)
            if what in ("categories", "tags"):
                terms = categories if what == "categories" else tags
                items: list[dict[str, Any]] = [
                    {"id": term_id, "name": name, "slug": name.lower().replace(" ", "-")}
                    for name, term_id in terms.items()
                ]
            elif what == "posts":
                after = query.get("modified_after", [""])[0]
                chosen = [p for p in pages if not after or _parse(p.changed) > _parse(after)]
                items = [_post(self._root(), p, categories, tags) for p in reversed(chosen)]
            else:
                return self._send(404, json.dumps({"code": "rest_no_route"}), "application/json")
            total_pages = max(1, -(-len(items) // per_page))
            if number > total_pages:
                body = {"code": "rest_post_invalid_page_number", "data": {"status": 400}}
                return self._send(400, json.dumps(body), "application/json")
            shown = items[(number - 1) * per_page : number * per_page]
            headers = {"X-WP-Total": str(len(items)), "X-WP-TotalPages": str(total_pages)}
            self._send(200, json.dumps(shown), "application/json; charset=UTF-8", headers)

    return Handler


def _terms(names: Iterable[str]) -> dict[str, int]:
    return {name: number for number, name in enumerate(sorted(set(names)), start=2)}


def _post(
    root: str, page: SitePage, categories: dict[str, int], tags: dict[str, int]
) -> dict[str, Any]:
    return {
        "id": abs(hash(page.path)) % 10**6,
        "date_gmt": page.published.removesuffix("Z"),
        "modified_gmt": page.changed.removesuffix("Z"),
        "slug": page.slug or page.path.rstrip("/").rsplit("/", 1)[-1].split(".")[0],
        "status": "publish",
        "type": "post",
        "link": root + page.path,
        "title": {"rendered": html.escape(page.title)},
        "content": {"rendered": page.content, "protected": False},
        "excerpt": {"rendered": ""},
        "categories": [categories[page.section]] if page.section else [],
        "tags": [tags[t] for t in page.tags],
    }


def _urlset(
    root: str, pages: list[SitePage], extra: Iterable[str] = (), *, lastmod: bool = True
) -> str:
    entries = "".join(
        f"<url><loc>{escape(root + p.path)}</loc>"
        + (f"<lastmod>{p.changed}</lastmod>" if lastmod else "")
        + "</url>"
        for p in pages
    ) + "".join(
        f"<url><loc>{escape(url if '://' in url else root + url)}</loc></url>" for url in extra
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    )


def _sitemap_index(root: str, pages: list[SitePage]) -> str:
    children = []
    for number in range(1, -(-len(pages) // SITEMAP_CHUNK) + 1):
        chunk = pages[(number - 1) * SITEMAP_CHUNK : number * SITEMAP_CHUNK]
        latest = max(p.changed for p in chunk)
        children.append(
            f"<sitemap><loc>{root}/sitemaps/posts-{number}.xml</loc>"
            f"<lastmod>{latest}</lastmod></sitemap>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{''.join(children)}</sitemapindex>"
    )


def _rss(root: str, pages: list[SitePage]) -> str:
    items = "".join(
        "<item>"
        f"<title>{escape(p.title)}</title><link>{escape(root + p.path)}</link>"
        f"<guid>{escape(root + p.path)}</guid>"
        f"<pubDate>{_http_date(p.published)}</pubDate>"
        + (f"<category>{escape(p.section)}</category>" if p.section else "")
        + "".join(f"<category>{escape(t)}</category>" for t in p.tags)
        + f"<content:encoded><![CDATA[{p.content}]]></content:encoded>"
        "</item>"
        for p in reversed(pages)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>The site</title><link>{root}/</link>"
        f"<description>Everything</description>{items}</channel></rss>"
    )


def _atom(root: str, pages: list[SitePage]) -> str:
    entries = "".join(
        "<entry>"
        f'<title>{escape(p.title)}</title><link href="{escape(root + p.path)}"/>'
        f"<id>{escape(root + p.path)}</id><updated>{p.changed}</updated>"
        f"<published>{p.published}</published><summary>{escape(p.title)}</summary>"
        "</entry>"
        for p in reversed(pages)
    )
    latest = max((p.changed for p in pages), default="2000-01-01T00:00:00Z")
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>The site</title><id>{root}/</id><updated>{latest}</updated>{entries}</feed>"
    )
