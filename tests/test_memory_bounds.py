"""Every cache a request can fill is bounded in bytes (`service.related.sized`): the answer
cache (RELATED_RESPONSE_CACHE_BYTES) and the article cache (RELATED_ARTICLE_CACHE_BYTES) keep
under their ceilings whatever the sizes of what a flood of distinct URLs brings, say so in
/metrics, and their estimates are not below what Python really holds."""

from __future__ import annotations

import re
import tracemalloc
from collections.abc import Callable

from embeddings.hashing import HashingEncoder
from service.article import Article
from service.config.settings import Settings
from service.related.article_cache import ArticleCache
from service.related.filters import CACHED_LABEL_CHARS, _cached_token, section_token
from service.related.sized import ENTRY_OVERHEAD, MAX_SHARE, SizedLRU, article_bytes
from service.store import ArticleStore
from service.web.app import create_app
from service.web.caching import Answer, AnswerCache, answer_bytes
from tests.conftest import HEATWAVE, make_settings


def test_the_lru_evicts_by_bytes_and_refuses_an_entry_too_large_for_it() -> None:
    seen: list[tuple[int, int]] = []
    cache: SizedLRU[str, str] = SizedLRU(100, 10_000, lambda b, n: seen.append((b, n)))
    for i in range(50):
        cache.put(f"k{i}", "v", 1000 - ENTRY_OVERHEAD)
    assert cache.bytes <= 10_000 and len(cache) == 10
    assert list(cache.keys()) == [f"k{i}" for i in range(40, 50)]  # the newest stayed
    assert cache.get("k40") == "v" and list(cache.keys())[-1] == "k40"
    assert cache.put("huge", "v", int(10_000 * MAX_SHARE)) == [] and "huge" not in cache
    assert seen[-1] == (cache.bytes, len(cache))
    cache.clear()
    assert (cache.bytes, len(cache), seen[-1]) == (0, 0, (0, 0))


def test_a_flood_of_distinct_large_answers_stays_under_the_answer_ceiling() -> None:
    ceiling = 2_000_000
    cache = AnswerCache(10_000, ceiling)
    for i in range(2_000):
        body = b"x" * (10_000 + 37 * i % 50_000)  # 10-60 KB, as include_body answers are
        cache.put(
            (HEATWAVE, f"min_score=0.{i}".encode()), Answer(("g", (1, 1)), "e", body, "index")
        )
        assert cache.nbytes <= ceiling
    assert 10 < len(cache) < 100  # a count of 10,000 alone would have kept 2,000 (70 MB)
    assert cache.get((HEATWAVE, b"min_score=0.1999"), ("g", (1, 1))) is not None


def test_the_answer_estimate_covers_the_body_and_its_gzipped_copy() -> None:
    body = bytes(range(256)) * 200  # incompressible-ish
    answer = Answer(("g", (1, 1)), 'W/"e"', body, "index")
    _, gzipped = answer.encoded(gzip=True)
    assert gzipped and answer.gzipped is not None
    assert answer_bytes(("id", b"q"), answer) >= len(answer.body) + len(answer.gzipped)


def test_the_article_cache_stays_under_its_byte_ceiling_and_its_ids_agree(
    settings_for: Callable[..., Settings],
) -> None:
    store = ArticleStore(settings_for().db_path)
    with store.write() as writer:
        for i in range(300):
            # Titles of 50 to 5,000 characters: sizes a count can't bound.
            writer.upsert(Article(id=f"a{i}", title="t" * (50 + 17 * i % 5_000), section="s"))
    ceiling = 200_000
    catalog = ArticleCache(store, size=50_000, max_bytes=ceiling)
    versions = catalog.versions()
    keys = list(store.keys_for([f"a{i}" for i in range(300)]).values())
    for start in range(0, 300, 30):
        found = catalog.articles(keys[start : start + 30], versions)
        assert len(found) == 30 and catalog.nbytes <= ceiling
    assert 0 < len(catalog) < 300
    assert set(catalog._keys.values()) == set(catalog._articles.keys())  # no stale id left
    assert catalog.entry("a299", versions) is not None  # still answers from the store
    store.close()


def test_the_article_estimate_is_not_below_what_python_holds() -> None:
    def make(i: int) -> Article:
        return Article(
            id=f"2024/05/article-{i}",
            title=f"A title of some length, number {i} " * 3,
            url=f"https://example.com/2024/05/article-{i}",
            published="2024-05-01T10:00:00+00:00",
            section="Climate",
            tags=("grid", f"tag-{i}"),
            lang="en",
            extra={"author": f"Writer {i}", "words": i},
        )

    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    articles = [make(i) for i in range(2_000)]
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    estimated = sum(article_bytes(a) for a in articles)
    assert held <= estimated <= 3 * held, (held, estimated)


def test_long_labels_from_queries_are_not_remembered() -> None:
    _cached_token.cache_clear()
    section_token("Climate")
    section_token("x" * (CACHED_LABEL_CHARS + 1))
    assert _cached_token.cache_info().currsize == 1


def test_metrics_show_each_cache_within_its_ceiling_after_a_flood_of_urls(
    settings: Settings, hashing: HashingEncoder
) -> None:
    ceiling = 300_000
    bounded = make_settings(settings.data_dir, response_cache_bytes=ceiling)
    client = create_app(bounded, encoder=hashing).test_client()
    for i in range(200):
        url = f"/articles/{HEATWAVE}/related?include_body=true&explain=true&min_score=0.0{i:03d}"
        assert client.get(url).status_code == 200
    text = client.get("/metrics").get_data(as_text=True)
    answers = re.search(r'related_cache_bytes\{cache="answers"\} ([\d.e+]+)', text)
    entries = re.search(r'related_cache_entries\{cache="answers"\} ([\d.e+]+)', text)
    articles = re.search(r'related_cache_bytes\{cache="articles"\} ([\d.e+]+)', text)
    assert answers and entries and articles, text
    assert 0 < float(answers.group(1)) <= ceiling
    assert 0 < float(entries.group(1)) < 200
    assert 0 < float(articles.group(1)) <= bounded.article_cache_bytes
