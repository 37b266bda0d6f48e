"""The settings of the crawler and of source sync (`related ingest URL`, `related sync`), as a
group `Settings` inherits. Declared like every setting: a default and a `doc` per field."""

from __future__ import annotations

from dataclasses import dataclass, field

PROJECT_URL = "https://github.com/related-articles/related-articles"
"""Where a site's operator reads what the crawler is (named in its User-Agent)."""


def _doc(text: str) -> dict[str, str]:
    return {"doc": text}


@dataclass(frozen=True)
class CrawlSettings:
    """How politely pages are fetched, and which sources `related serve` keeps in sync."""

    crawl_url: str = field(
        default=PROJECT_URL,
        metadata=_doc(
            "URL named in the crawler's User-Agent (`related-articles/<version> (+URL)`), where a site's operator can read who is fetching."
        ),
    )
    crawl_connections: int = field(
        default=4, metadata=_doc("Connections the crawler opens to one host at most.")
    )
    crawl_rate: float = field(
        default=8.0,
        metadata=_doc(
            "Requests per second the crawler sends to one host at most (a robots.txt `Crawl-delay` slows it further)."
        ),
    )
    crawl_timeout: float = field(
        default=20.0,
        metadata=_doc("Seconds the crawler waits to connect, and between bytes of an answer."),
    )
    crawl_retries: int = field(
        default=3,
        metadata=_doc(
            "Retries of a page answered 429 or 5xx (or not answered), with backoff, honouring `Retry-After`."
        ),
    )
    crawl_max_wait: float = field(
        default=60.0,
        metadata=_doc(
            "Longest `Retry-After` (seconds) the crawler waits out; a page asking for more fails."
        ),
    )
    crawl_max_bytes: int = field(
        default=5 * 1024 * 1024,
        metadata=_doc("Largest page, feed or sitemap the crawler reads (bytes); larger fails."),
    )
    crawl_max_redirects: int = field(
        default=5, metadata=_doc("Redirects the crawler follows for one URL at most.")
    )
    crawl_allow_hosts: str = field(
        default="",
        metadata=_doc(
            "Comma-separated hosts the crawler may fetch besides the source's own (its `www.` twin included); others are skipped and named."
        ),
    )
    site_sources: str = field(
        default="",
        metadata=_doc(
            "Site sources (sitemaps, feeds, WordPress sites; not read replicas) `related serve` keeps in sync with `related sync` passes (space-separated, as `related sync` takes them; a `KIND:` prefix such as `wordpress:https://site` forces the kind); empty: none."
        ),
    )
    site_sync_every: float = field(
        default=300.0,
        metadata=_doc(
            "Seconds between the passes of `related serve`'s site sync over RELATED_SITE_SOURCES (and the default of `related sync --every`)."
        ),
    )
