"""Harvested articles into the store: the records, then the site's own related links.

Every source of pages (HTML, feeds, WordPress, Markdown, WXR, scraped text) yields `Harvest`es;
this is the one way they are stored. Unlike a file of records, a site is not all-or-nothing: a
page whose record is invalid is named with its reason and the others are stored. Each page's
related links (its related box, its front matter's list, or, in plain text, the block of other
articles' titles at its foot) become that article's curated links, in order, each target
resolved to an id (`service.ingest.targets`); a target not stored yet stays pending and joins
the list when it arrives, in this ingest or any later one (`resolve_arrivals`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from service.article import Article
from service.ingest.chrome import Titles, foot_lines, foot_titles
from service.ingest.page import Harvest
from service.ingest.records import validate_record
from service.ingest.targets import LinkTargets, resolve_arrivals
from service.store import ArticleStore
from service.store.curated import HarvestedList

__all__ = ["Harvest", "IngestReport", "ingest_harvests", "resolve_arrivals"]


@dataclass
class IngestReport:
    """What one ingest of harvested pages did."""

    stored: int = 0
    """Articles stored (inserted, updated or unchanged)."""
    failed: list[tuple[str, str]] = field(default_factory=list)
    """(source, reason) of each page that was not stored."""
    curated_links: int = 0
    """Curated links harvested and resolved to a stored article."""
    unresolved: int = 0
    """Harvested links of these pages still waiting for their target."""
    resolved_later: int = 0
    """Links pending from earlier ingests that this one's articles resolved."""
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    revision: int | None = None
    ids: list[str] = field(default_factory=list)
    """The ids stored, in source order."""

    def summary(self) -> str:
        text = (
            f"stored {self.stored} articles ({self.inserted} inserted, {self.updated} updated, "
            f"{self.unchanged} unchanged), {len(self.failed)} failed; {self.curated_links} "
            f"curated links harvested, {self.unresolved} unresolved"
        )
        if self.resolved_later:
            text += f", {self.resolved_later} earlier links resolved"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "stored": self.stored,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": [{"source": s, "reason": r} for s, r in self.failed],
            "curated_links": self.curated_links,
            "unresolved": self.unresolved,
            "resolved_later": self.resolved_later,
            "revision": self.revision,
        }


def ingest_harvests(
    store: ArticleStore,
    harvests: Iterable[Harvest],
    *,
    curated: bool = True,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Validate and upsert the harvested records (staged, then published in one transaction),
    then store each one's related links as its curated links (unless `curated` is off).
    `progress` is called with the number of harvests read so far."""
    report = IngestReport()
    related: dict[str, tuple[str, ...]] = {}
    feet: dict[str, tuple[str, ...]] = {}
    arrivals: list[tuple[str, str | None, str]] = []
    seen: dict[str, str] = {}
    with store.stage() as stage:
        for count, harvest in enumerate(harvests, start=1):
            article = _valid(harvest, seen, report)
            if article is not None:
                stage.add(article)
                seen[article.id] = harvest.source
                if harvest.related:
                    related[article.id] = harvest.related
                elif foot := foot_lines(article):
                    feet[article.id] = foot
                arrivals.append((article.id, article.url, article.title))
                report.ids.append(article.id)
            if progress is not None:
                progress(count)
        published = stage.publish()
    report.stored = published.inserted + published.updated + published.unchanged
    report.inserted, report.updated = published.inserted, published.updated
    report.unchanged, report.revision = published.unchanged, published.revision
    report.resolved_later = resolve_arrivals(store, arrivals)
    if curated and (related or feet):
        store_related(store, related, feet, report)
    return report


def _valid(harvest: Harvest, seen: dict[str, str], report: IngestReport) -> Article | None:
    if harvest.problem is not None:
        report.failed.append((harvest.source, harvest.problem))
        return None
    result = validate_record(harvest.record, harvest.source)
    if not isinstance(result, Article):
        reasons = "; ".join(
            f"field {p.field!r}: {p.reason}" if p.field else p.reason for p in result
        )
        report.failed.append((harvest.source, reasons))
        return None
    if result.id in seen:
        report.failed.append(
            (harvest.source, f"duplicate id {result.id!r} (also {seen[result.id]})")
        )
        return None
    return result


def store_related(
    store: ArticleStore,
    related: dict[str, tuple[str, ...]],
    feet: dict[str, tuple[str, ...]],
    report: IngestReport,
) -> None:
    """Each article's harvested links (`related`) as its curated list; for an article without
    a related box, the block of other articles' titles among its `foot_lines` (`feet`: a
    scraped page's box), when it has one."""
    labels = list(store.labels())
    targets = LinkTargets(labels)
    lists = {source: resolved_list(source, links, targets) for source, links in related.items()}
    if feet:
        titles = Titles((article_id, title) for article_id, _, title in labels)
        for source, lines in feet.items():
            found = foot_titles(lines, titles, source)
            if found:
                lists[source] = resolved_list(source, found, targets)
    store.set_harvested(lists)
    report.curated_links += sum(len(h.resolved) for h in lists.values())
    report.unresolved += sum(len(h.pending) for h in lists.values())


def harvest_feet(store: ArticleStore, feet: dict[str, tuple[str, ...]]) -> IngestReport:
    """The related headlines at the foot of plain-text bodies stored by a file ingest
    (`service.ingest.load`), as those articles' curated links."""
    report = IngestReport()
    if feet:
        store_related(store, {}, feet, report)
    return report


def resolved_list(source_id: str, links: Sequence[str], targets: LinkTargets) -> HarvestedList:
    """`links` in order as ids where a stored article answers to them, else pending; the
    article itself and repeats left out."""
    resolved: list[tuple[int, str]] = []
    pending: list[tuple[int, str]] = []
    seen: set[str] = {source_id}
    for position, link in enumerate(links):
        target = targets.resolve(link)
        key = target if target is not None else link.strip()
        if not key or key in seen:
            continue
        seen.add(key)
        (resolved if target is not None else pending).append((position, key))
    return HarvestedList(tuple(resolved), tuple(pending))
