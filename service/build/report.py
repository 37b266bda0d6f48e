"""What a build reports: the generation it published and what it did to make it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class BuildReport:
    articles: int
    encoded: int
    reused: int
    generation: str
    seconds: float
    index_kind: str
    built_at: str
    removed_generations: list[str]
    mode: str = "full"
    lists_recomputed: int = 0
    answers: int = 0
    """Articles whose answers the generation stores (`RELATED_STORE_ANSWERS`)."""
    answers_carried: int = 0
    """Of those, carried over from the previous generation (`service.related.answer_reuse`)."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        return (
            f"built generation {self.generation} ({self.mode}): {self.articles} articles "
            f"({self.encoded} encoded, {self.reused} reused), {self.index_kind} index, "
            f"{self.lists_recomputed} lists ranked anew, {self.answers} answers stored "
            f"({self.answers_carried} carried over), {self.seconds:.1f}s"
        )
