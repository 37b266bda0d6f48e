"""The crawler's terms: the policy it is given (`CrawlPolicy`, from the RELATED_CRAWL_*
settings), and what a fetch gives back (`Page`, its `Validators` for the next conditional GET)
or raises (`FetchFailed`, naming the URL and why). The crawler itself is `service.ingest.fetch`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from service.config.settings import Settings

AGENT = "related-articles"


def user_agent(url: str) -> str:
    """`related-articles/<version> (+url)`: who is fetching, and where to read about it."""
    try:
        version = metadata.version("related-articles")
    except metadata.PackageNotFoundError:
        version = "dev"
    return f"{AGENT}/{version} (+{url})" if url else f"{AGENT}/{version}"


@dataclass(frozen=True)
class CrawlPolicy:
    """How politely one source is fetched (see the module docstring; settings RELATED_CRAWL_*)."""

    user_agent: str = field(default_factory=lambda: user_agent(""))
    connections: int = 4
    rate: float = 8.0
    timeout: float = 20.0
    retries: int = 3
    max_wait: float = 60.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    allow_hosts: frozenset[str] = frozenset()
    backoff: float = 0.5
    """Seconds before the first retry when the server gives no Retry-After; doubled each time."""

    @classmethod
    def from_settings(cls, settings: Settings) -> CrawlPolicy:
        hosts = {h.strip().lower() for h in settings.crawl_allow_hosts.split(",") if h.strip()}
        return cls(
            user_agent=user_agent(settings.crawl_url),
            connections=settings.crawl_connections,
            rate=settings.crawl_rate,
            timeout=settings.crawl_timeout,
            retries=settings.crawl_retries,
            max_wait=settings.crawl_max_wait,
            max_bytes=settings.crawl_max_bytes,
            max_redirects=settings.crawl_max_redirects,
            allow_hosts=frozenset(hosts),
        )


@dataclass(frozen=True)
class Validators:
    """What a server said identifies a page's version: for the next pass's conditional GET."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        found = {"If-None-Match": self.etag, "If-Modified-Since": self.last_modified}
        return {name: value for name, value in found.items() if value}

    def to_json(self) -> dict[str, str]:
        return {k: v for k, v in (("etag", self.etag), ("last_modified", self.last_modified)) if v}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Validators:
        return cls(data.get("etag"), data.get("last_modified"))


@dataclass(frozen=True)
class Page:
    """One fetched URL: `url` as asked, `final_url` after redirects."""

    url: str
    final_url: str
    status: int
    content: bytes
    content_type: str
    validators: Validators
    headers: Mapping[str, str] = field(default_factory=dict)
    """Every response header, by lower-case name."""

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def text(self) -> str:
        """The content as text, in the charset the server named (UTF-8 otherwise)."""
        charset = "utf-8"
        for part in self.content_type.split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.lower() == "charset" and value:
                charset = value.strip("\"'")
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")


class FetchFailed(Exception):
    """A URL that could not be fetched, and why (one line for the ingest report)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


@dataclass
class CrawlStats:
    requests: int = 0
    retries: int = 0
    bytes: int = 0
    not_modified: int = 0
