"""The manual's `<xi:include xpointer=...>` in the two forms php.net's pages rely on.

A class page lists its methods by including their synopses from the method pages, its own and
inherited ones: `id('class.x')/db:refentry/db:refsect1[@role='description']/descendant::
db:methodsynopsis[not(@role='procedural')]` (or `[1]`, `[@role='Exception']`, and the same for
constructor and destructor synopses); the method pages of `class.x` are the pages in the
pages whose id extends the class's (`bcmath-number.add` for `class.bcmath-number`), else those
in the directory beside its file (`reference/gmagick/gmagick.xml` -> `reference/gmagick/gmagick/`).
A function page can share a section of another page: `id('function.x')/db:refsect1[@role=
'parameters']`. Every other form (fields, constants, whole pages) is dropped and counted.
"""

from __future__ import annotations

import collections
import re
import xml.etree.ElementTree as ET

from docbook import Text, synopsis

SYNOPSIS = re.compile(
    r"id\('([^']+)'\)/db:refentry/db:refsect1\[@role='description'\]/descendant::"
    r"db:(\w+synopsis)(?:\[([^\]]*)\])?\)"
)
SECTION = re.compile(r"id\('([^']+)'\)/db:refsect1\[@role='([^']+)'\]\)")
ROLE = re.compile(r"@role='([^']+)'")


class Includes:
    """Resolves an xpointer to paragraphs of text and to the pages it shows as links."""

    def __init__(self, elements: dict[str, tuple[ET.Element, str]]) -> None:
        """`elements`: every page found (kept or not) -> (its element, its file's path)."""
        self.elements = elements
        dirs = {path[:-4]: pid for pid, (e, path) in elements.items() if e.tag == "reference"}
        self.children: dict[str, list[str]] = collections.defaultdict(list)
        for pid, (e, path) in sorted(elements.items(), key=lambda kv: kv[1][1]):
            if e.tag != "refentry":
                continue
            by_id = "class." + pid.rsplit(".", 1)[0]  # `bcmath-number.add` -> `class.bcmath-number`
            parent = by_id if by_id in elements else dirs.get(path.rsplit("/", 1)[0])
            if parent and not pid.startswith("function."):
                self.children[parent].append(pid)
        self.counts: collections.Counter[str] = collections.Counter()

    def synopses(self, xpointer: str) -> list[tuple[str, str]]:
        """(method page, its signature line) for a class synopsis include, else []."""
        m = SYNOPSIS.search(xpointer)
        if not m:
            return []
        cls, kind, pred = m.group(1), m.group(2), m.group(3) or ""
        out: list[tuple[str, str]] = []
        for child in self.children.get(cls, []):
            e = self.elements[child][0]
            found = [
                s
                for d in e.findall("refsect1")
                if d.get("role") == "description"
                for s in d.iter(kind)
            ]
            if pred == "1":
                found = found[:1]
            elif pred.startswith("not("):
                found = [s for s in found if s.get("role") != "procedural"]
            elif ROLE.fullmatch(pred):
                found = [s for s in found if s.get("role") == ROLE.fullmatch(pred).group(1)]  # type: ignore[union-attr]
            out.extend((child, synopsis(s)) for s in found)
        return out

    def text(self, xpointer: str, titles: dict[str, str]) -> str:
        syn = self.synopses(xpointer)
        if syn:
            self.counts["class synopsis includes"] += 1
            self.counts["method lines included"] += len(syn)
            return "\n\n".join(s for _, s in syn)
        m = SECTION.search(xpointer)
        target = self.elements.get(m.group(1)) if m else None
        sect = None
        if m and target:
            sect = next(
                (d for d in target[0].iter("refsect1") if d.get("role") == m.group(2)), None
            )
        if sect is None:
            self.counts[
                "dropped: "
                + ("empty class synopsis" if SYNOPSIS.search(xpointer) else "other form")
            ] += 1
            return ""
        self.counts["shared sections included"] += 1
        txt = Text(lambda x: False)
        for c in sect:
            if c.tag != "title":
                txt.walk(c)
            txt.cur.append(c.tail or "")
        return txt.text(titles, lambda xp: "")
