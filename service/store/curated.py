"""The site's own curated links in the store: what editors linked by hand under each article.

Evaluation, learning the ranking and the editors' page read this one copy. A source's links
keep their curated order, each with a grade (1 for a plain link). Links may name articles the
store does not hold (yet): they are kept, and counted wherever they are used.

Links harvested from a site (a page's related box, front matter) may name their target by URL,
path, slug or title: a target no stored article answers to yet waits in `curated_pending` at its
place in the list, and joins the list when an article it names arrives
(`service.ingest.targets`). A list set by hand (or imported) replaces the harvested one, pending
links included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from service.store.base import Database

Links = dict[str, dict[str, float]]
"""source id -> {target id: grade}, targets in curated order."""


class CuratedLinks(Database):
    """Curated links, per source article."""

    def curated(self, source_id: str) -> list[tuple[str, float]]:
        """The links curated under `source_id`, in order: (target id, grade)."""
        rows = self._connection().execute(
            "SELECT target_id, grade FROM curated WHERE source_id = ? ORDER BY position",
            (source_id,),
        )
        return [(target, float(grade)) for target, grade in rows]

    def all_curated(self) -> Links:
        """Every source's links."""
        links: Links = {}
        rows = self._connection().execute(
            "SELECT source_id, target_id, grade FROM curated ORDER BY source_id, position"
        )
        for source, target, grade in rows:
            links.setdefault(source, {})[target] = float(grade)
        return links

    def curated_counts(self) -> tuple[int, int]:
        """(sources with links, links)."""
        row = (
            self._connection()
            .execute("SELECT COUNT(DISTINCT source_id), COUNT(*) FROM curated")
            .fetchone()
        )
        return int(row[0]), int(row[1])

    def set_curated(self, source_id: str, links: Sequence[tuple[str, float]]) -> None:
        """Replace the links of `source_id` (an empty list removes them)."""
        self.replace_curated({source_id: dict(links)}, everything=False)

    def replace_curated(
        self, links: Mapping[str, Mapping[str, float]], *, everything: bool
    ) -> None:
        """Replace the lists of the sources in `links` in one transaction; with `everything`,
        every other source's list is removed too."""
        with self._transaction() as conn:
            if everything:
                conn.execute("DELETE FROM curated")
                conn.execute("DELETE FROM curated_pending")
            for source, targets in links.items():
                conn.execute("DELETE FROM curated WHERE source_id = ?", (source,))
                conn.execute("DELETE FROM curated_pending WHERE source_id = ?", (source,))
                conn.executemany(
                    "INSERT INTO curated (source_id, position, target_id, grade)"
                    " VALUES (?, ?, ?, ?)",
                    [(source, i, t, float(g)) for i, (t, g) in enumerate(targets.items())],
                )

    def set_harvested(self, lists: Mapping[str, HarvestedList]) -> None:
        """Replace the lists of the sources in `lists` with harvested ones, in one transaction:
        the resolved links at their places in the list, the pending ones kept beside them."""
        with self._transaction() as conn:
            for source, harvested in lists.items():
                conn.execute("DELETE FROM curated WHERE source_id = ?", (source,))
                conn.execute("DELETE FROM curated_pending WHERE source_id = ?", (source,))
                conn.executemany(
                    "INSERT INTO curated (source_id, position, target_id, grade)"
                    " VALUES (?, ?, ?, 1.0)",
                    [(source, position, target) for position, target in harvested.resolved],
                )
                conn.executemany(
                    "INSERT INTO curated_pending (source_id, position, target) VALUES (?, ?, ?)",
                    [(source, position, target) for position, target in harvested.pending],
                )

    def pending_links(self) -> list[tuple[str, int, str]]:
        """Harvested links whose target is not stored yet: (source id, place, target)."""
        rows = self._connection().execute(
            "SELECT source_id, position, target FROM curated_pending ORDER BY source_id, position"
        )
        return [(source, int(position), target) for source, position, target in rows]

    def pending_count(self, source_ids: Sequence[str] | None = None) -> int:
        """Pending links, of every source or of `source_ids`."""
        if source_ids is None:
            row = self._connection().execute("SELECT COUNT(*) FROM curated_pending").fetchone()
            return int(row[0])
        rows = self._select_in(
            "SELECT COUNT(*) FROM curated_pending WHERE source_id IN ({marks})", list(source_ids)
        )
        return sum(int(row[0]) for row in rows)

    def resolve_pending(self, resolved: Sequence[tuple[str, int, str]]) -> int:
        """Move pending links whose target arrived into their lists: (source id, place, target
        id). A target already in the list (or the source itself) only leaves the pending table.
        Returns the links added."""
        added = 0
        with self._transaction() as conn:
            for source, position, target in resolved:
                conn.execute(
                    "DELETE FROM curated_pending WHERE source_id = ? AND position = ?",
                    (source, position),
                )
                present = conn.execute(
                    "SELECT 1 FROM curated WHERE source_id = ? AND (target_id = ? OR position = ?)",
                    (source, target, position),
                ).fetchone()
                if present is None and target != source:
                    conn.execute(
                        "INSERT INTO curated (source_id, position, target_id, grade)"
                        " VALUES (?, ?, ?, 1.0)",
                        (source, position, target),
                    )
                    added += 1
        return added


@dataclass(frozen=True)
class HarvestedList:
    """One article's harvested links: (place, target id) resolved, (place, target) pending."""

    resolved: tuple[tuple[int, str], ...] = ()
    pending: tuple[tuple[int, str], ...] = ()
