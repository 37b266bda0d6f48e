"""The site's own curated links in the store: what editors linked by hand under each article.

Evaluation, learning the ranking and the editors' page read this one copy. A source's links
keep their curated order, each with a grade (1 for a plain link). Links may name articles the
store does not hold (yet): they are kept, and counted wherever they are used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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
            for source, targets in links.items():
                conn.execute("DELETE FROM curated WHERE source_id = ?", (source,))
                conn.executemany(
                    "INSERT INTO curated (source_id, position, target_id, grade)"
                    " VALUES (?, ?, ?, ?)",
                    [(source, i, t, float(g)) for i, (t, g) in enumerate(targets.items())],
                )
