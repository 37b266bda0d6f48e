"""Site chrome: lines and sentences that repeat across a large share of a collection.

Scraped pages carry text that is on every page and says nothing about the article: a clock
line, "Listen Live", a section label, a photo credit, "Community standards", "Comment via
Facebook". Left in, it makes every article look alike to the model (which reads only the first
256 tokens) and feeds shared terms to the lexical side. `Chrome.fit` finds such text by
document frequency over a sample of the collection: a line, or a sentence inside a line, counts
as chrome when it appears in at least `share` of the sampled documents (and in `min_documents`
of them). Matching ignores case, spacing and digits, so "Updated 10:42" and "Updated 9:05"
are one line. `strip` removes it from a text; what is stored is unchanged.

A `Chrome` also carries the caller's verdict on the collection's kind (`page_rules`, with the
`page_share` it was decided on): whether its texts are scraped pages', where a caller's own
per-page rules apply (`service.ingest.chrome`). This module only keeps and stores the verdict.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

_SPACE = re.compile(r"\s+")
_DIGIT = re.compile(r"\d")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=\S)")
FILE = "chrome.json"


def _key(text: str) -> str:
    normal = _DIGIT.sub("0", _SPACE.sub(" ", text.strip().lower()))
    return hashlib.blake2b(normal.encode("utf-8"), digest_size=8).hexdigest()


def _pieces(line: str) -> list[str]:
    """The sentences of a line (the line itself when it is one sentence)."""
    return [p for p in _SENTENCE.split(line.strip()) if p.strip()]


class Chrome:
    """The chrome of one collection: keys of repeated lines and sentences."""

    def __init__(
        self,
        keys: Iterable[str] = (),
        *,
        share: float = 0.0,
        sampled: int = 0,
        page_rules: bool = True,
        page_share: float | None = None,
    ) -> None:
        self.keys = frozenset(keys)
        self.share = share
        self.sampled = sampled
        self.page_rules = page_rules
        """Whether the caller's per-page rules apply to this collection's texts (a file
        written before the verdict existed: they did)."""
        self.page_share = page_share
        """The share of sampled texts the verdict was decided on (None: not measured)."""

    def with_verdict(self, page_rules: bool, page_share: float) -> Chrome:
        return Chrome(
            self.keys,
            share=self.share,
            sampled=self.sampled,
            page_rules=page_rules,
            page_share=page_share,
        )

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def fit(cls, documents: Sequence[str], *, share: float, min_documents: int = 5) -> Chrome:
        """The lines and sentences found in at least `share` of `documents` (a share of 0 or
        more than 1 finds none)."""
        if not documents or not 0 < share <= 1:
            return cls(share=share, sampled=len(documents))
        counts: Counter[str] = Counter()
        for document in documents:
            seen: set[str] = set()
            for line in document.splitlines():
                if not line.strip():
                    continue
                seen.add(_key(line))
                pieces = _pieces(line)
                if len(pieces) > 1:
                    seen.update(_key(p) for p in pieces)
            counts.update(seen)
        needed = max(min_documents, share * len(documents))
        return cls(
            (k for k, n in counts.items() if n >= needed), share=share, sampled=len(documents)
        )

    def strip(self, text: str) -> str:
        """`text` without its chrome lines and sentences."""
        if not self.keys:
            return text
        kept: list[str] = []
        for line in text.splitlines():
            if not line.strip():
                kept.append(line)
                continue
            if _key(line) in self.keys:
                continue
            pieces = _pieces(line)
            if len(pieces) > 1 and any(_key(p) in self.keys for p in pieces):
                line = " ".join(p for p in pieces if _key(p) not in self.keys)
            kept.append(line)
        return "\n".join(kept).strip()

    def save(self, directory: Path) -> None:
        data = {
            "share": self.share,
            "sampled": self.sampled,
            "page_rules": self.page_rules,
            "page_share": self.page_share,
            "keys": sorted(self.keys),
        }
        (directory / FILE).write_text(json.dumps(data), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> Chrome:
        data = json.loads((directory / FILE).read_text(encoding="utf-8"))
        page_share = data.get("page_share")
        return cls(
            data["keys"],
            share=float(data["share"]),
            sampled=int(data["sampled"]),
            page_rules=bool(data.get("page_rules", True)),
            page_share=None if page_share is None else float(page_share),
        )
