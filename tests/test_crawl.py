"""The crawler's manners, against a real site on 127.0.0.1 (tests/siteserver.py): robots.txt,
its User-Agent, connections and pace per host, retries honouring Retry-After, timeouts, the
size limit, redirects, staying on the site, conditional GET, and failures named with why."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from service.ingest.fetch import CrawlPolicy, Fetcher, FetchFailed, retry_after
from service.ingest.fetched import AGENT, Validators, user_agent
from tests.siteserver import SitePage, SiteServer

PAGES = [
    SitePage(
        path=f"/news/story-{n}.html",
        html=f"<html><head><title>Story {n}</title></head><body><p>Story {n}.</p></body></html>",
        content=f"<p>Story {n}.</p>",
        title=f"Story {n}",
        published=f"2018-12-{n + 1:02d}T02:58:00Z",
    )
    for n in range(12)
] + [
    SitePage(
        path="/private/secret.html",
        html="<html><body><p>no</p></body></html>",
        content="<p>no</p>",
        title="Secret",
        published="2018-12-01T00:00:00Z",
    )
]


@pytest.fixture()
def site() -> Iterator[SiteServer]:
    with SiteServer(PAGES) as server:
        yield server


class Sleeps:
    """The crawler's sleep, recorded and skipped: retries are checked without waiting them out."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def fast(**changes: object) -> CrawlPolicy:
    base = {"rate": 1000.0, "backoff": 0.01, "timeout": 10.0}
    base.update(changes)
    return CrawlPolicy(**base)  # type: ignore[arg-type]


def test_the_user_agent_names_the_project_and_its_url(site: SiteServer) -> None:
    agent = user_agent("https://publisher.example/about-our-crawler")
    with Fetcher(fast(user_agent=agent), site.url) as fetcher:
        fetcher.fetch(site.url + "/news/story-1.html")
    sent = {entry.headers["User-Agent"] for entry in site.requests()}
    assert sent == {agent}
    assert (
        agent.startswith(AGENT + "/") and "(+https://publisher.example/about-our-crawler)" in agent
    )


def test_robots_txt_is_read_once_and_a_disallowed_page_is_never_requested(site: SiteServer) -> None:
    with Fetcher(fast(), site.url) as fetcher:
        with pytest.raises(FetchFailed, match=r"disallowed by robots\.txt"):
            fetcher.fetch(site.url + "/private/secret.html")
        assert fetcher.fetch(site.url + "/news/story-2.html").status == 200
    paths = [entry.path for entry in site.requests()]
    assert paths == ["/robots.txt", "/news/story-2.html"]


def test_robots_txt_rules_for_the_crawlers_own_name_apply(site: SiteServer) -> None:
    site.state.robots = f"User-agent: {AGENT}\nDisallow: /news/\n\nUser-agent: *\nAllow: /\n"
    with Fetcher(fast(), site.url) as fetcher, pytest.raises(FetchFailed, match="robots"):
        fetcher.fetch(site.url + "/news/story-1.html")


def test_a_robots_txt_that_cannot_be_read_forbids_the_site_with_the_reason(
    site: SiteServer,
) -> None:
    # RFC 9309: a server error on robots.txt means "assume everything is disallowed".
    site.state.robots_status = 503
    with (
        Fetcher(fast(retries=1), site.url, sleep=Sleeps()) as fetcher,
        pytest.raises(FetchFailed, match=r"robots.txt could not be read \(HTTP 503"),
    ):
        fetcher.fetch(site.url + "/news/story-1.html")
    assert [entry.path for entry in site.requests()] == ["/robots.txt", "/robots.txt"]


@pytest.mark.parametrize("status, body", [(404, "gone"), (200, "")])
def test_a_missing_or_empty_robots_txt_allows_everything(
    site: SiteServer, status: int, body: str
) -> None:
    site.state.robots_status, site.state.robots = status, body
    with Fetcher(fast(), site.url) as fetcher:
        assert fetcher.fetch(site.url + "/private/secret.html").status == 200


def test_crawl_delay_paces_requests_to_the_host(site: SiteServer) -> None:
    site.state.robots = "User-agent: *\nCrawl-delay: 1\n"  # robotparser reads whole seconds
    with Fetcher(fast(), site.url) as fetcher:
        for n in range(3):
            fetcher.fetch(site.url + f"/news/story-{n}.html")
    times = [entry.at for entry in site.requests("/news/")]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(gaps) == 2 and min(gaps) >= 0.95


def test_the_request_rate_per_host_is_limited(site: SiteServer) -> None:
    with Fetcher(fast(rate=10.0), site.url) as fetcher:
        list(fetcher.fetch_many(site.url + f"/news/story-{n}.html" for n in range(6)))
    times = [entry.at for entry in site.requests()]  # robots.txt included: 7 starts
    assert times[-1] - times[0] >= 0.55


def test_at_most_the_configured_connections_are_open_to_a_host(site: SiteServer) -> None:
    urls = [site.url + f"/paced/news/story-{n}.html" for n in range(12)]
    with Fetcher(fast(connections=3), site.url) as fetcher:
        results = list(fetcher.fetch_many(urls))
    assert [url for url, _ in results] == urls
    assert all(not isinstance(page, FetchFailed) for _, page in results)
    assert site.state.most_in_flight <= 3


def test_429_is_retried_after_the_servers_retry_after(site: SiteServer) -> None:
    sleeps = Sleeps()
    site.state.retry_after = 7
    with Fetcher(fast(retries=3), site.url, sleep=sleeps) as fetcher:
        page = fetcher.fetch(site.url + "/flaky/news/story-3.html")
    assert page.status == 200 and b"Story 3." in page.content
    assert sleeps.waits.count(7) == 2
    assert fetcher.stats.retries == 2


def test_503_is_retried_with_backoff_then_named_when_it_persists(site: SiteServer) -> None:
    sleeps = Sleeps()
    with (
        Fetcher(fast(retries=2, backoff=0.5), site.url, sleep=sleeps) as fetcher,
        pytest.raises(FetchFailed, match=r"always-503: HTTP 503"),
    ):
        fetcher.fetch(site.url + "/always-503")
    assert len(site.requests("/always-503")) == 3
    assert [w for w in sleeps.waits if w >= 0.5] == [0.5, 1.0]


def test_a_retry_after_beyond_the_limit_fails_at_once(site: SiteServer) -> None:
    site.state.retry_after = 3600
    with (
        Fetcher(fast(max_wait=60), site.url, sleep=Sleeps()) as fetcher,
        pytest.raises(FetchFailed, match=r"asks to wait 3600s"),
    ):
        fetcher.fetch(site.url + "/busy/news/story-1.html")
    assert len(site.requests("/busy/")) == 1


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after("120") == 120.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: no wait
    assert retry_after("soon") is None and retry_after(None) is None


def test_a_slow_page_times_out_and_is_named(site: SiteServer) -> None:
    with (
        Fetcher(fast(timeout=0.5, retries=0), site.url) as fetcher,
        pytest.raises(FetchFailed, match=r"/slow: timed out \(after 0.5s\)"),
    ):
        fetcher.fetch(site.url + "/slow")


def test_a_page_over_the_size_limit_is_refused(site: SiteServer) -> None:
    with (
        Fetcher(fast(max_bytes=100_000), site.url) as fetcher,
        pytest.raises(FetchFailed, match="larger than 100000 bytes"),
    ):
        fetcher.fetch(site.url + "/huge")


def test_redirects_are_followed_on_the_site_and_limited(site: SiteServer) -> None:
    with Fetcher(fast(max_redirects=3), site.url) as fetcher:
        page = fetcher.fetch(site.url + "/old/news/story-4.html")
        assert page.final_url == site.url + "/news/story-4.html" and page.url.endswith(
            "/old/news/story-4.html"
        )
        with pytest.raises(FetchFailed, match="more than 3 redirects"):
            fetcher.fetch(site.url + "/loop")
        with pytest.raises(
            FetchFailed, match=r"redirected to http://elsewhere.invalid/story, off the site"
        ):
            fetcher.fetch(site.url + "/offsite")
    assert len(site.requests("/loop")) == 4


def test_only_http_urls_on_the_site_are_fetched(site: SiteServer) -> None:
    with Fetcher(fast(), site.url) as fetcher, pytest.raises(FetchFailed, match="not an http"):
        fetcher.fetch("file:///etc/passwd")
        with pytest.raises(FetchFailed, match="off the site"):
            fetcher.fetch("http://elsewhere.invalid/story")
    assert site.requests() == []
    allowed = fast(allow_hosts=frozenset({"localhost"}))
    localhost = site.url.replace("127.0.0.1", "localhost")
    with Fetcher(allowed, site.url) as fetcher:
        assert fetcher.fetch(localhost + "/news/story-1.html").status == 200


def test_conditional_get_sends_the_validators_and_reads_304(site: SiteServer) -> None:
    url = site.url + "/news/story-5.html"
    with Fetcher(fast(), site.url) as fetcher:
        first = fetcher.fetch(url)
        assert first.validators.etag and first.validators.last_modified
        again = fetcher.fetch(url, first.validators)
        by_date = fetcher.fetch(url, Validators(last_modified=first.validators.last_modified))
    assert again.not_modified and again.content == b""
    assert by_date.not_modified
    sent = site.requests("/news/story-5.html")[1].headers
    assert sent["If-None-Match"] == first.validators.etag
    assert Validators.from_json(first.validators.to_json()) == first.validators


def test_fetch_many_names_each_failure_and_returns_the_rest(site: SiteServer) -> None:
    urls = [
        site.url + "/news/story-1.html",
        site.url + "/missing.html",
        site.url + "/private/secret.html",
        site.url + "/news/story-2.html",
    ]
    with Fetcher(fast(), site.url) as fetcher:
        results = dict(fetcher.fetch_many(urls))
    failed = {url: str(r) for url, r in results.items() if isinstance(r, FetchFailed)}
    assert failed == {
        urls[1]: f"{urls[1]}: HTTP 404 Not Found",
        urls[2]: f"{urls[2]}: disallowed by robots.txt",
    }
    assert {url for url, r in results.items() if not isinstance(r, FetchFailed)} == {
        urls[0],
        urls[3],
    }
