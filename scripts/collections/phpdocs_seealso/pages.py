"""Which elements of the PHP manual are pages of php.net's chunked manual, and what they are.

Standard library only; for `convert.py` beside it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from docbook import squash

ALWAYS = {
    "refentry",
    "reference",
    "book",
    "part",
    "set",
    "chapter",
    "appendix",
    "preface",
    "article",
}
SECTIONS = {"section", "sect1"}
CONTAINERS = {"chapter", "appendix", "preface", "article", "book", "part"}


def is_page(e: ET.Element, parent: str | None) -> bool:
    """A page of php.net's chunked manual: the file's root (not a fragment such as a `para` or
    `variablelist` included elsewhere), every nested refentry/chapter/preface/..., and the
    `section`/`sect1` directly under a chapter, appendix, preface, article, book or part."""
    if not e.get("xml_id"):
        return False
    if parent is None:
        return e.tag in ALWAYS or e.tag in SECTIONS
    return e.tag in ALWAYS or (e.tag in SECTIONS and parent in CONTAINERS)


def is_see_also(e: ET.Element) -> bool:
    """`role="seealso"`, or a section titled "See Also" (`&reftitle.seealso;`) without it."""
    if e.get("role") == "seealso":
        return True
    t = e.find("title")
    return t is not None and squash("".join(t.itertext())).lower() == "see also"


def kind_of(e: ET.Element, pid: str) -> str:
    if e.tag == "refentry":
        return "function" if pid.startswith("function.") else "method or other refentry"
    if e.tag == "reference" and e.get("role") in ("class", "exception", "enum"):
        return "class"
    return e.tag


def own(e: ET.Element, pages: set[int]) -> list[ET.Element]:
    """Every element of the page `e` in document order, without its child pages."""
    out = [e]
    for c in e:
        if id(c) not in pages:
            out.extend(own(c, pages))
    return out


def page_title(e: ET.Element, default: str | None = None) -> str:
    for path in ("refnamediv/refname", "titleabbrev", "title", "info/titleabbrev", "info/title"):
        t = e.find(path)
        if t is not None and squash("".join(t.itertext())):
            return squash("".join(t.itertext()))
    return e.get("xml_id", "") if default is None else default
