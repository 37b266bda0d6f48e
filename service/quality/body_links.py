"""The links inside articles' bodies as weak labels: what `related tune --from links` learns from.

A site without curated links still says what its writers relate: its articles link each other
in their text. Each article's body links (the records' `links` field: ids or URLs, in text
order) are resolved to the stored articles they name, by id or by URL as the links signal
matches them (`embeddings.signals.link_key`); self-links, repeats and links to articles not
stored are left out. Each resolved link is a label of gain 1, as a plain curated link is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from embeddings.signals import link_key
from service.article import Article
from service.store import Links

CURATED = "curated"
BODY_LINKS = "links"
LABEL_SOURCES = (CURATED, BODY_LINKS)
"""What `related tune` may learn from: the stored curated links, or the body links."""


@dataclass(frozen=True)
class BodyLinks:
    """Body links resolved to stored articles, and how many could not be."""

    links: Links
    written: int
    """Body links of all articles, as written."""
    unresolved: int
    """Links to no stored article (other sites, pages not ingested)."""

    @property
    def resolved(self) -> int:
        return sum(len(targets) for targets in self.links.values())


def body_link_labels(articles: Iterable[Article]) -> BodyLinks:
    """Every article's body links that name another stored article, in text order."""
    stored = list(articles)
    named: dict[str, str] = {}
    for article in stored:
        named.setdefault(link_key(article.id), article.id)
        if article.url:
            named.setdefault(link_key(article.url), article.id)
    links: Links = {}
    written = unresolved = 0
    for article in stored:
        for link in article.links:
            written += 1
            target = named.get(link_key(link))
            if target is None:
                unresolved += 1
            elif target != article.id:
                links.setdefault(article.id, {}).setdefault(target, 1.0)
    return BodyLinks(links, written, unresolved)
