"""Ingestion: validated records into the store, as one transaction.

A file (or an API request) is all-or-nothing: every bad record is reported with where it came
from, and nothing is stored unless `skip_invalid` asks to keep the valid ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from service.articles import Article, FieldProblem, validate_record
from service.errors import InvalidArticles
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

    def add_problems(self, problems: list[FieldProblem]) -> None:
        self.problem_count += len(problems)
        room = MAX_REPORTED_PROBLEMS - len(self.problems)
        self.problems.extend(problems[: max(room, 0)])

    def summary(self) -> str:
        text = (
            f"read {self.read} records: {self.inserted} inserted, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.invalid} invalid"
        )
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
            "problem_count": self.problem_count,
            "problems": [p.to_json() for p in self.problems],
        }


class _Abort(Exception):
    """Raised inside the write transaction to roll it back once all records were checked."""


def ingest(
    store: ArticleStore,
    records: Iterable[tuple[str, Any]],
    *,
    skip_invalid: bool = False,
    csv_cells: bool = False,
    progress: Callable[[], None] | None = None,
) -> IngestReport:
    """Validate and upsert `records` ((where, raw record or FieldProblem) pairs) in one transaction.

    Raises InvalidArticles (with every problem, capped) when any record is invalid and
    `skip_invalid` is off; the store is then unchanged.
    """
    report = IngestReport()
    first_seen: dict[str, str] = {}
    try:
        with store.write() as writer:
            report.revision = writer.revision
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
                # Once a record is bad and nothing will be stored, keep validating but skip writes.
                if report.invalid and not skip_invalid:
                    continue
                outcome = writer.upsert(result)
                setattr(report, outcome, getattr(report, outcome) + 1)
            if report.invalid and not skip_invalid:
                raise _Abort
    except _Abort:
        report.inserted = report.updated = report.unchanged = 0
        report.revision = None
        more = report.problem_count - len(report.problems)
        suffix = f" (and {more} more)" if more > 0 else ""
        first = "; ".join(str(p) for p in report.problems[:3])
        raise InvalidArticles(
            f"{report.invalid} of {report.read} records are invalid, nothing was stored: {first}"
            + (" ..." if len(report.problems) > 3 else "")
            + suffix,
            details=[p.to_json() for p in report.problems],
        ) from None
    report.committed = True
    return report
