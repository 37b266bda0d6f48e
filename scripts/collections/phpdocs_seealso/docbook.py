"""DocBook of the PHP manual (php/doc-en) to plain text, for `convert.py` beside it.

Entities: the manual's own definitions (`language-snippets.ent`, `entities/*.ent`) are expanded
recursively, the five XML ones and numeric references are kept for the parser, HTML names
(`&nbsp;`, `&mdash;`) become their characters, and every other name (the build's generated file
includes such as `&reference.apcu.entities.functions;`, doc-base's own entities) is dropped and
counted. Namespaces are flattened before parsing (`xml:id` -> `xml_id`, `xlink:href` ->
`xlink_href`, `xi:include` -> `xi_include`), so tags are plain names. Standard library only.
"""

from __future__ import annotations

import collections
import html.entities
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

ENTITY_DECL = re.compile(r"<!ENTITY\s+([\w.:-]+)\s+(?:'([^']*)'|\"([^\"]*)\")\s*>", re.S)
ENTITY_ELEM = re.compile(r'<entity\s+name="([^"]+)"\s*(?:/>|>(.*?)</entity>)', re.S)
ENTITY_REF = re.compile(r"&([A-Za-z_][\w.:-]*);")
SPECIAL = re.compile(r"(<!\[CDATA\[.*?\]\]>|<!--.*?-->)", re.S)
TAG = re.compile(r"<[/A-Za-z][^<>]*>")
XMLNS = re.compile(r"\s+xmlns(?::\w+)?\s*=\s*(?:\"[^\"]*\"|'[^']*')")
PREFIXED = re.compile(r"(</?|\s)([A-Za-z]\w*):([\w.-]+)")
XREF = re.compile("\x02([^\x03]*)\x03")
INCLUDE = re.compile("\x04([^\x05]*)\x05")
XML_ENTITIES = {"lt", "gt", "amp", "quot", "apos"}

# Elements whose content starts and ends a paragraph of the text.
BLOCKS = {
    "para",
    "simpara",
    "formalpara",
    "title",
    "refpurpose",
    "term",
    "listitem",
    "member",
    "row",
    "note",
    "warning",
    "tip",
    "caution",
    "important",
    "example",
    "informalexample",
    "refsect1",
    "refsect2",
    "refsect3",
    "section",
    "sect1",
    "sect2",
    "sect3",
    "sect4",
    "simplesect",
    "partintro",
    "blockquote",
    "methodsynopsis",
    "constructorsynopsis",
    "destructorsynopsis",
    "fieldsynopsis",
    "ooclass",
    "classsynopsisinfo",
    "procedure",
    "step",
    "literallayout",
    "refnamediv",
    "preface",
    "chapter",
    "appendix",
    "article",
    "book",
    "part",
}
# Code, program output and machinery: not prose, dropped (example titles and prose stay).
SKIPPED = {
    "programlisting",
    "screen",
    "xi_include",
    "titleabbrev",
    "refname",
    "info",
    "mediaobject",
}
CODE = {"programlisting", "screen"}
SYNOPSES = {"methodsynopsis", "constructorsynopsis", "destructorsynopsis", "fieldsynopsis"}


class Entities:
    """The manual's entity table, expanded on demand; `dropped` counts the unknown names."""

    def __init__(self, sources: list[str]) -> None:
        self.raw: dict[str, str] = {}
        for text in sources:
            for m in ENTITY_DECL.finditer(text):
                self.raw.setdefault(
                    m.group(1), m.group(2) if m.group(2) is not None else m.group(3)
                )
            for m in ENTITY_ELEM.finditer(text):
                self.raw.setdefault(m.group(1), m.group(2) or "")
        self.done: dict[str, str] = {}
        self.dropped: collections.Counter[str] = collections.Counter()
        self.expanded = 0

    def value(self, name: str, depth: int) -> str:
        if name not in self.done:
            self.done[name] = "" if depth > 12 else self.clean(self.raw[name], depth + 1)
        return self.done[name]

    def _ref(self, m: re.Match[str], depth: int) -> str:
        name = m.group(1)
        if name in XML_ENTITIES:
            return m.group(0)
        if name in self.raw:
            self.expanded += 1
            return self.value(name, depth)
        char = html.entities.html5.get(name + ";")
        if char is not None:
            return char.replace("&", "&amp;").replace("<", "&lt;")
        self.dropped[name] += 1
        return ""

    def clean(self, text: str, depth: int = 0) -> str:
        """Comments dropped, CDATA escaped, namespaces flattened, entities expanded."""
        out = []
        for piece in SPECIAL.split(text):
            if piece.startswith("<!--"):
                continue
            if piece.startswith("<![CDATA["):
                body = piece[9:-3]
                out.append(body.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
                continue
            piece = TAG.sub(lambda t: PREFIXED.sub(r"\1\2_\3", XMLNS.sub("", t.group(0))), piece)
            out.append(ENTITY_REF.sub(lambda m: self._ref(m, depth), piece))
        return "".join(out)


def parse(text: str, entities: Entities) -> ET.Element:
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    return ET.fromstring(entities.clean(text))


def squash(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def inline(e: ET.Element) -> str:
    """Every text under `e`, in order, without the skipped elements."""
    parts = [e.text or ""]
    for c in e:
        if c.tag not in SKIPPED:
            parts.append(inline(c))
        parts.append(c.tail or "")
    return "".join(parts)


def type_text(e: ET.Element) -> str:
    kids = [c for c in e if c.tag == "type"]
    if not kids:
        return squash(inline(e))
    sep = "&" if e.get("class") == "intersection" else "|"
    return sep.join(type_text(k) for k in kids)


def field(e: ET.Element, mods: list[str], typ: list[str]) -> str:
    """`public readonly int $length`, `const int EOL_ANY = 0`."""
    var = "".join(squash("".join(c.itertext())) for c in e if c.tag == "varname")
    init = "".join(squash(inline(c)) for c in e if c.tag == "initializer")
    var = var if "const" in mods or not var else "$" + var
    return " ".join([*mods, *typ, var]) + (f" = {init}" if init else "")


def synopsis(e: ET.Element) -> str:
    """`str_replace(array|string $search, ..., int &$count = null): string|array`."""
    mods = [squash(inline(c)) for c in e if c.tag == "modifier"]
    ret = [type_text(c) for c in e if c.tag == "type"]
    if e.tag == "fieldsynopsis":
        return field(e, mods, ret)
    name = "".join(squash(inline(c)) for c in e if c.tag == "methodname")
    params = []
    for p in (c for c in e if c.tag == "methodparam"):
        typ = "".join(type_text(c) for c in p if c.tag == "type")
        par = p.find("parameter")
        ref = "&" if par is not None and par.get("role") == "reference" else ""
        rep = "..." if p.get("rep") == "repeat" else ""
        arg = f"{typ} {ref}{rep}${squash(inline(par)) if par is not None else ''}".strip()
        init = p.find("initializer")
        params.append(arg + (f" = {squash(inline(init))}" if init is not None else ""))
    head = " ".join([*mods, name])
    return f"{head}({', '.join(params)})" + (f": {ret[0]}" if ret else "")


class Text:
    """Paragraphs of one page; `skip(e)` says which subtrees (child pages, See also) to leave."""

    def __init__(self, skip: Callable[[ET.Element], bool], code: bool = False) -> None:
        self.skip = skip
        self.code = code
        self.paras: list[str] = []
        self.cur: list[str] = []

    def flush(self) -> None:
        s = squash("".join(self.cur))
        if s and (not self.paras or self.paras[-1] != s):
            self.paras.append(s)
        self.cur = []

    def walk(self, e: ET.Element, top: bool = False) -> None:
        if self.code and e.tag in CODE:
            self.flush()
            self.paras.append("".join(e.itertext()).strip("\n"))
            return
        if e.tag == "xi_include" and not self.skip(e):
            self.flush()
            self.paras.append(f"\x04{e.get('xpointer', '')}\x05")
            return
        if not top and (e.tag in SKIPPED or self.skip(e)):
            return
        if e.tag in SYNOPSES:
            self.flush()
            self.cur = [synopsis(e)]
            self.flush()
            return
        block = e.tag in BLOCKS
        if block:
            self.flush()
        if e.tag == "xref":
            self.cur.append(f"\x02{e.get('linkend', '')}\x03")
        self.cur.append(e.text or "")
        for c in e:
            self.walk(c)
            if c.tag == "entry":
                self.cur.append(" | ")
            self.cur.append(c.tail or "")
        if block:
            s = squash("".join(self.cur)).rstrip("| ").strip()
            self.cur = [s]
            self.flush()

    def text(self, titles: dict[str, str], include: Callable[[str], str]) -> str:
        """The paragraphs, each `<xref>` replaced by its target's title as the manual shows it
        and each `<xi:include>` by what `include(xpointer)` gives (possibly nothing)."""
        self.flush()
        paras = [INCLUDE.sub(lambda m: include(m.group(1)), p) for p in self.paras]
        out = "\n\n".join(p for p in paras if p.strip())
        return XREF.sub(lambda m: titles.get(m.group(1), ""), out)
