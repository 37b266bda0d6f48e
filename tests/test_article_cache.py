"""Each process's copy of what related lists show (`service.related.article_cache`): bounded, and current with
every write of any process."""

from __future__ import annotations

from collections.abc import Callable

from service.article import Article
from service.config.settings import Settings
from service.related.article_cache import ArticleCache
from service.store import ArticleStore


def store_with(settings: Settings, count: int) -> ArticleStore:
    store = ArticleStore(settings.db_path)
    with store.write() as writer:
        for i in range(count):
            writer.upsert(Article(id=f"a{i}", title=f"Title {i}", body="Body text"))
    return store


def test_articles_come_without_their_body_and_the_copy_stays_bounded(
    settings_for: Callable[..., Settings],
) -> None:
    store = store_with(settings_for(), 5)
    catalog = ArticleCache(store, size=3)
    versions = catalog.versions()
    keys = list(store.keys_for([f"a{i}" for i in range(5)]).values())
    found = catalog.articles(keys, versions)
    assert [found[k].title for k in keys] == [f"Title {i}" for i in range(5)]
    assert all(article.body == "" for article in found.values())
    assert len(catalog._articles) == 3  # the least recently used left


def test_writes_of_another_connection_reach_the_copy_at_once(
    settings_for: Callable[..., Settings],
) -> None:
    settings = settings_for()
    store = store_with(settings, 3)
    catalog = ArticleCache(store, size=10)
    versions = catalog.versions()
    key = store.keys_for(["a1"])["a1"]
    assert catalog.articles([key], versions)[key].title == "Title 1"
    other = ArticleStore(settings.db_path)  # another process, as far as SQLite can tell
    with other.write() as writer:
        writer.upsert(Article(id="a1", title="Edited", body="Body text"))
        writer.delete("a2")
    versions = catalog.versions()
    assert catalog.articles([key], versions)[key].title == "Edited"
    assert catalog.entry("a2", versions) is None
    other.set_pins("a0", ["a1"])
    assert catalog.editorial("a0", catalog.versions()).pins == ["a1"]


def test_a_change_larger_than_the_copy_starts_it_afresh(
    settings_for: Callable[..., Settings],
) -> None:
    settings = settings_for()
    store = store_with(settings, 3)
    catalog = ArticleCache(store, size=2)
    versions = catalog.versions()
    key = store.keys_for(["a0"])["a0"]
    catalog.articles([key], versions)
    with store.write() as writer:
        for i in range(5):
            writer.upsert(Article(id=f"a{i}", title=f"New {i}", body="Body text"))
    versions = catalog.versions()
    assert len(catalog._articles) == 0  # more changed than it holds: it starts afresh
    assert catalog.articles([key], versions)[key].title == "New 0"
