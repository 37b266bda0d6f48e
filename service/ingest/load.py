"""Ingestion: validated records into the store, as one transaction.

A file (or an API request) is all-or-nothing: every bad record is reported with where it came
from, and nothing is stored unless `skip_invalid` asks to keep the valid ones. Records are
staged while they are read and published at the end in one short transaction
(`service.store.staging`), so reading a large file never holds the store's write lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from service.article import Article
from service.errors import InvalidArticles
from service.ingest.chrome import foot_lines
from service.ingest.harvest import harvest_feet
from service.ingest.records import FieldProblem, validate_record
from service.ingest.targets import resolve_arrivals
from service.store import ArticleStore

MAX_REPORTED_PROBLEMS = 100


@dataclass
class IngestReport:
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0
    problems: list[FieldProblem] = field(default_factory=list)
    problem_count: int = 0
    committed: bool = False
    revision: int | None = None
    curated_links: int = 0
    """Links harvested from the related headlines at the foot of plain-text bodies."""

    def add_problems(self, problems: list[FieldProblem]) -> None:
        self.problem_count += len(problems)
        room = MAX_REPORTED_PROBLEMS - len(self.problems)
        self.problems.extend(problems[: max(room, 0)])

    def summary(self) -> str:
        text = (
            f"read {self.read} records: {self.inserted} inserted, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.invalid} invalid"
        )
        if self.curated_links:
            text += f"; {self.curated_links} curated links from the headlines at their feet"
        return text if self.committed else text + " (nothing stored)"

    def to_json(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "invalid": self.invalid,
            "committed": self.committed,
            "revision": self.revision,
            "curated_links": self.curated_links,
            "problem_count": self.problem_count,
            "problems": [p.to_json() for p in self.problems],
        }


def ingest(
    store: ArticleStore,
    records: Iterable[tuple[str, Any]],
    *,
    skip_invalid: bool = False,
    csv_cells: bool = False,
    progress: Callable[[], None] | None = None,
    curated: bool = True,
) -> IngestReport:
    """Validate `records` ((where, raw record or FieldProblem) pairs) and upsert them together.

    The records are staged first (`ArticleStore.stage`), without the store's write lock, and
    published in one short transaction, so a large file neither blocks other writers while it
    is read nor is ever half stored. Raises InvalidArticles (with every problem, capped) when any
    record is invalid and `skip_invalid` is off; the store is then unchanged. A plain-text body
    that ends in other articles' titles (a scraped page's related box) gives the article those
    curated links, unless `curated` is off.
    """
    report = IngestReport()
    first_seen: dict[str, str] = {}
    arrivals: list[tuple[str, str | None, str]] = []
    feet: dict[str, tuple[str, ...]] = {}
    with store.stage() as stage:
        for where, raw in records:
            report.read += 1
            if progress is not None:
                progress()
            result = (
                raw
                if isinstance(raw, FieldProblem)
                else validate_record(raw, where, csv_cells=csv_cells)
            )
            if isinstance(result, FieldProblem):
                result = [result]
            if isinstance(result, Article) and result.id in first_seen:
                result = [
                    FieldProblem(
                        where,
                        "id",
                        f"duplicate id {result.id!r} (first seen at {first_seen[result.id]})",
                    )
                ]
            if isinstance(result, list):
                report.invalid += 1
                report.add_problems(result)
                continue
            first_seen[result.id] = where
            # Once a record is bad and nothing will be stored, keep validating but stage nothing.
            if not report.invalid or skip_invalid:
                stage.add(result)
                arrivals.append((result.id, result.url, result.title))
                if curated and (foot := foot_lines(result)):
                    feet[result.id] = foot
        if report.invalid and not skip_invalid:
            raise _invalid(report)
        published = stage.publish()
    report.inserted, report.updated = published.inserted, published.updated
    report.unchanged, report.revision = published.unchanged, published.revision
    report.committed = True
    # Links harvested earlier may have been waiting for these articles.
    resolve_arrivals(store, arrivals)
    report.curated_links = harvest_feet(store, feet).curated_links
    return report


def ingest_one(store: ArticleStore, raw: Any, where: str = "body") -> tuple[str, Article]:
    """Validate and upsert one record; (outcome, the article as stored). The article comes from
    the record itself, not from a read after the write, which a concurrent delete could empty."""
    result = validate_record(raw, where)
    if not isinstance(result, Article):
        report = IngestReport(read=1, invalid=1)
        report.add_problems(result)
        raise _invalid(report)
    published = store.publish_rows([result])
    resolve_arrivals(store, [(result.id, result.url, result.title)])
    if foot := foot_lines(result):
        harvest_feet(store, {result.id: foot})
    outcome = "inserted" if published.inserted else "updated" if published.updated else "unchanged"
    return outcome, result


def _invalid(report: IngestReport) -> InvalidArticles:
    """The one-line error for a batch with invalid records (every problem in `details`)."""
    more = report.problem_count - len(report.problems)
    suffix = f" (and {more} more)" if more > 0 else ""
    first = "; ".join(str(p) for p in report.problems[:3])
    return InvalidArticles(
        f"{report.invalid} of {report.read} records are invalid, nothing was stored: {first}"
        + (" ..." if len(report.problems) > 3 else "")
        + suffix,
        details=[p.to_json() for p in report.problems],
    )
