"""The polite crawler: every page, feed and sitemap of a site source is fetched through it.

One `Fetcher` per source. It asks robots.txt first (RFC 9309: a missing file allows all, one
that can't be read forbids all) and honours its `Crawl-delay`; names itself in the User-Agent;
opens at most `connections` connections to a host and starts at most `rate` requests a second
there; times out; retries 429 and 5xx (and unanswered requests) with exponential backoff or
the server's `Retry-After`; stops reading a page past `max_bytes`; fetches only http(s), only
on the source's site (its host and `www.` twin, plus hosts allowed by name), and follows a few
redirects at most, each hop checked like the first URL. Conditional GET: given a page's
`Validators` from the last pass it sends `If-None-Match` / `If-Modified-Since`, and a 304
comes back as a `Page` with `not_modified`. A URL that can't be fetched raises `FetchFailed`
naming it and why; `fetch_many` hands those back in place of pages, so one bad page never
stops a crawl. The transport is injectable (httpx's seam), the clock and sleep too.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from service.ingest.fetched import CrawlPolicy, CrawlStats, FetchFailed, Page, Validators

__all__ = ["CrawlPolicy", "FetchFailed", "Fetcher", "Page", "Validators", "retry_after"]

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class _Host:
    """One host's share of the politeness: its connection slots, its pace, its robots.txt."""

    def __init__(self, connections: int, interval: float) -> None:
        self.slots = threading.Semaphore(connections)
        self.interval = interval
        self.next_start = 0.0
        self.lock = threading.Lock()
        self.robots: RobotFileParser | None = None
        self.robots_lock = threading.Lock()


def site_hosts(url: str) -> frozenset[str]:
    """The host of `url` and its `www.` twin: what counts as the source's own site."""
    host = (urlsplit(url).hostname or "").lower()
    bare = host.removeprefix("www.")
    return frozenset({bare, "www." + bare} if bare else set())


class Fetcher:
    """Fetches the URLs of one source (`site`), politely. Use as a context manager."""

    def __init__(
        self,
        policy: CrawlPolicy,
        site: str,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy
        self.hosts = site_hosts(site) | policy.allow_hosts
        self.stats = CrawlStats()
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._per_host: dict[str, _Host] = {}
        self._client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(policy.timeout),
            follow_redirects=False,
            headers={"User-Agent": policy.user_agent},
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def on_site(self, url: str) -> bool:
        return (urlsplit(url).hostname or "").lower() in self.hosts

    def check(self, url: str) -> None:
        """FetchFailed unless `url` is http(s), on the site and allowed by its robots.txt."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise FetchFailed(url, f"not an http(s) URL (scheme {parts.scheme or 'none'!r})")
        if not self.on_site(url):
            raise FetchFailed(
                url,
                f"off the site ({parts.hostname} is not one of {', '.join(sorted(self.hosts))};"
                " allow it with RELATED_CRAWL_ALLOW_HOSTS)",
            )
        robots = self._robots(url)
        if not robots.can_fetch(self.policy.user_agent, url):
            raise FetchFailed(url, "disallowed by robots.txt")

    def fetch(self, url: str, validators: Validators | None = None) -> Page:
        """The page at `url`, after redirects (each checked as `url` is). Raises FetchFailed."""
        self.check(url)
        current = url
        for _ in range(self.policy.max_redirects + 1):
            headers = validators.headers() if validators is not None and current == url else {}
            response, content = self._request(current, headers)
            if response.status_code in REDIRECT_STATUSES and "location" in response.headers:
                target = urljoin(current, response.headers["location"])
                try:
                    self.check(target)
                except FetchFailed as exc:
                    raise FetchFailed(url, f"redirected to {target}, {exc.reason}") from None
                current = target
                continue
            if response.status_code == 304:
                self.stats.not_modified += 1
            elif response.status_code >= 300:
                raise FetchFailed(url, _status_reason(response))
            return Page(
                url,
                current,
                response.status_code,
                content,
                response.headers.get("content-type", ""),
                Validators(response.headers.get("etag"), response.headers.get("last-modified")),
                {name.lower(): value for name, value in response.headers.items()},
            )
        raise FetchFailed(url, f"more than {self.policy.max_redirects} redirects")

    def fetch_many(
        self,
        urls: Iterable[str],
        validators: Mapping[str, Validators] | None = None,
    ) -> Iterator[tuple[str, Page | FetchFailed]]:
        """(url, page or why not) for each of `urls`, in order, fetched `connections` at a time;
        a bounded window of requests runs ahead of the reader, so memory stays flat."""
        known = validators or {}
        window = self.policy.connections * 4

        def one(url: str) -> Page | FetchFailed:
            try:
                return self.fetch(url, known.get(url))
            except FetchFailed as exc:
                return exc

        with ThreadPoolExecutor(self.policy.connections, thread_name_prefix="crawl") as pool:
            pending: list[tuple[str, Future[Page | FetchFailed]]] = []
            for url in urls:
                pending.append((url, pool.submit(one, url)))
                if len(pending) >= window:
                    first, future = pending.pop(0)
                    yield first, future.result()
            for url, future in pending:
                yield url, future.result()

    def _host(self, url: str) -> _Host:
        netloc = urlsplit(url).netloc.lower()
        with self._lock:
            if netloc not in self._per_host:
                interval = 1.0 / self.policy.rate
                self._per_host[netloc] = _Host(self.policy.connections, interval)
            return self._per_host[netloc]

    def _robots(self, url: str) -> RobotFileParser:
        host = self._host(url)
        with host.robots_lock:
            if host.robots is None:
                host.robots = self._read_robots(url)
                delay = host.robots.crawl_delay(self.policy.user_agent)
                if delay is not None:
                    host.interval = max(host.interval, float(delay))
            return host.robots

    def _read_robots(self, url: str) -> RobotFileParser:
        parts = urlsplit(url)
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        parser = RobotFileParser(robots_url)
        try:
            response, content = self._request(robots_url, {})
            for _ in range(self.policy.max_redirects):
                if response.status_code not in REDIRECT_STATUSES:
                    break
                target = urljoin(robots_url, response.headers.get("location", ""))
                response, content = self._request(target, {})
        except FetchFailed as exc:
            raise FetchFailed(url, f"robots.txt could not be read ({exc.reason})") from None
        status = response.status_code
        if status >= 500:
            raise FetchFailed(url, f"robots.txt could not be read ({_status_reason(response)})")
        if 400 <= status < 500 or status in REDIRECT_STATUSES:
            parser.parse([])  # RFC 9309: an unavailable robots.txt sets no restrictions
        else:
            parser.parse(content.decode("utf-8", errors="replace").splitlines())
        return parser

    def _request(self, url: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
        """One GET with retries: the response and its content (read up to max_bytes)."""
        policy = self.policy
        host = self._host(url)
        for attempt in range(policy.retries + 1):
            last = attempt == policy.retries
            failure: str | None = None
            with host.slots:
                self._pace(host)
                try:
                    response, content = self._get(url, headers)
                except httpx.TimeoutException:
                    failure = f"timed out (after {policy.timeout:g}s)"
                except httpx.RequestError as exc:
                    failure = f"could not be fetched ({type(exc).__name__}: {exc})"
                except httpx.InvalidURL as exc:
                    raise FetchFailed(url, f"not a valid URL ({exc})") from None
            if failure is not None:
                if last:
                    raise FetchFailed(url, failure)
                self._backoff(attempt, None)
                continue
            if response.status_code not in RETRY_STATUSES or last:
                return response, content
            self._backoff(attempt, response, url)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _get(self, url: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
        with self._lock:
            self.stats.requests += 1
        limit = self.policy.max_bytes
        with self._client.stream("GET", url, headers=headers) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise FetchFailed(url, f"larger than {limit} bytes ({declared} declared)")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise FetchFailed(url, f"larger than {limit} bytes")
                chunks.append(chunk)
        with self._lock:
            self.stats.bytes += size
        return response, b"".join(chunks)

    def _pace(self, host: _Host) -> None:
        """Wait for this host's next start time (the rate limit), then claim the one after."""
        with host.lock:
            now = self._clock()
            start = max(now, host.next_start)
            host.next_start = start + host.interval
        if start > now:
            self._sleep(start - now)

    def _backoff(self, attempt: int, response: httpx.Response | None, url: str = "") -> None:
        wait = self.policy.backoff * 2**attempt
        asked = retry_after(response.headers.get("retry-after")) if response is not None else None
        if asked is not None:
            if asked > self.policy.max_wait:
                assert response is not None
                raise FetchFailed(
                    url,
                    f"{_status_reason(response)} and asks to wait {asked:.0f}s "
                    f"(more than RELATED_CRAWL_MAX_WAIT, {self.policy.max_wait:g}s)",
                )
            wait = asked
        with self._lock:
            self.stats.retries += 1
        self._sleep(wait)


def retry_after(value: str | None) -> float | None:
    """Seconds a `Retry-After` header asks for (delta-seconds or an HTTP date), None if none."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _status_reason(response: httpx.Response) -> str:
    return f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
