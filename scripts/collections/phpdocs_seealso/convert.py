#!/usr/bin/env python3
"""Convert the PHP manual's DocBook sources (php/doc-en) into a related-articles collection.

Gold links = each page's writer-curated "See also" section (`<refsect1 role="seealso">`, the
few `<section>`/`<sect2>`/`<simplesect>` with that role, and sections titled
`&reftitle.seealso;` without it). Articles are the manual's pages under `reference/` and
`language/`, cut as php.net cuts them (see `pages.is_page`); `links` holds the pages each
body links to outside its See also. Reads a bare mirror, no work tree:

    python3 convert.py --git-dir <php/doc-en mirror> --out <dir> [--rev HEAD]
        [--min-body-chars 100] [--keep-code] [--no-synopsis-links]

Standard library only (and `docbook.py` beside it). Prints the counts as JSON at the end.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from typing import Any

from docbook import Entities, Text, parse, squash
from includes import Includes
from pages import is_page, is_see_also, kind_of, own, page_title
from report import summary, write

URL = "https://www.php.net/manual/en/{}.php"
TREES = ("reference", "language", "entities", "language-snippets.ent")
LINKS = {"function", "methodname", "classname", "interfacename", "enumname", "exceptionname"}
LINKS |= {"link", "xref"}
REFS = LINKS | {"xi_include"}
CLASSES = {"classname", "interfacename", "enumname", "exceptionname"}


def read_tree(git_dir: str, rev: str) -> dict[str, str]:
    """Path -> text of the XML and entity files the manual's pages need."""
    ls = subprocess.run(
        ["git", "--git-dir", git_dir, "ls-tree", "-r", rev, *TREES],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rows = [ln.split(None, 3)[2:] for ln in ls.splitlines() if ln.split()[1] == "blob"]
    rows = [row for row in rows if row[1].endswith((".xml", ".ent"))]
    batch = "".join(sha + "\n" for sha, _ in rows).encode()
    out = subprocess.run(
        ["git", "--git-dir", git_dir, "cat-file", "--batch"],
        input=batch,
        check=True,
        capture_output=True,
    ).stdout
    files, pos = {}, 0
    for _, path in rows:
        nl = out.index(b"\n", pos)
        size = int(out[pos:nl].split()[2])
        files[path] = out[nl + 1 : nl + 1 + size].decode("utf-8", "replace")
        pos = nl + 2 + size
    return files


def section_of(path: str) -> str:
    top, sub = path.split("/")[:2]
    if top == "reference":
        return sub
    return "language." + sub if sub in ("predefined", "context", "wrappers") else "language"


def key(name: str) -> str:
    return squash(name).lower().lstrip("\\").removesuffix("()")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--git-dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rev", default="HEAD")
    ap.add_argument("--min-body-chars", type=int, default=100)
    ap.add_argument("--keep-code", action="store_true", help="keep example code and output")
    ap.add_argument(
        "--no-synopsis-links",
        action="store_true",
        help="leave out of `links` the method pages a class page lists in its synopsis",
    )
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    files = read_tree(args.git_dir, args.rev)
    ents = Entities([t for p, t in sorted(files.items()) if p.endswith(".ent")])
    stats: dict[str, Any] = collections.OrderedDict()
    stats["xml_files"] = sum(1 for p in files if p.endswith(".xml"))
    drop: collections.Counter[str] = collections.Counter()
    dropped: list[tuple[str, str, str]] = []
    pages: dict[str, dict[str, Any]] = {}
    anchor: dict[str, str] = {}  # every xml:id -> the id of the page it is on
    names: dict[str, str] = {}  # refnames and class names, lower case -> page id
    titles: dict[str, str] = {}  # every xml:id -> its title, for the text of `<xref>`
    texts: dict[str, Text] = {}
    elements: dict[str, tuple[ET.Element, str]] = {}  # every page found, kept or not
    for path, text in sorted(files.items()):
        if not path.endswith(".xml"):
            continue
        try:
            root = parse(text, ents)
        except ET.ParseError as exc:
            drop["parse_error"] += 1
            dropped.append(("", path, f"parse error: {exc}"))
            continue
        found: list[ET.Element] = []
        stack: list[tuple[ET.Element, str | None]] = [(root, None)]
        while stack:
            e, parent = stack.pop()
            if is_page(e, parent):
                found.append(e)
            stack.extend((c, e.tag) for c in reversed(e))
        if not found:
            drop["fragment_file"] += 1
            continue
        ids = {id(e) for e in found}
        for e in found:
            pid = e.get("xml_id", "")
            if pid in pages:
                # A section written inside a larger file (setup.xml) wins over a whole file
                # with the same id (a configure.xml left over from the skeleton, included
                # nowhere); otherwise the first file in path order wins.
                drop["duplicate_id"] += 1
                if e is root or pages[pid]["nested"]:
                    dropped.append((pid, path, "duplicate id"))
                    continue
                dropped.append((pid, pages[pid]["path"], "duplicate id"))
            elems = own(e, ids)
            elements[pid] = (e, path)
            for x in elems:
                if x.get("xml_id"):
                    anchor.setdefault(x.get("xml_id", ""), pid)
                    titles.setdefault(x.get("xml_id", ""), page_title(x, ""))
            see, see_ids = [], set()  # the outermost See also sections, everything in them
            for x in elems:
                if id(x) not in see_ids and is_see_also(x):
                    see.append(x)
                    see_ids |= {id(y) for y in x.iter()}
            skip = {id(x) for x in see} | ids
            title = page_title(e)
            txt = Text(lambda x, skip=skip: id(x) in skip, args.keep_code)  # type: ignore[misc]
            for c in e:
                if c.tag not in ("title", "titleabbrev"):
                    txt.walk(c)
                txt.cur.append(c.tail or "")
            for rn in e.findall("refnamediv/refname"):
                names.setdefault(key("".join(rn.itertext())), pid)
            if e.tag == "reference" and e.get("role") in ("class", "exception", "enum"):
                names.setdefault(key(title), pid)
            pages[pid] = {
                "id": pid,
                "title": title,
                "body": "",
                "url": URL.format(pid),
                "section": section_of(path),
                "kind": kind_of(e, pid),
                "nested": e is not root,
                "path": path,
                "see": [x for s in see for x in s.iter() if x.tag in LINKS],
                "see_members": [x for s in see for x in s.iter() if x.tag == "member"],
                "refs": [x for x in elems if x.tag in REFS and id(x) not in see_ids],
                "has_see": bool(see),
            }
            texts[pid] = txt
    inc = Includes(elements)
    for pid, p in list(pages.items()):
        p["body"] = texts[pid].text(titles, lambda xp: inc.text(xp, titles))
        if len(p["body"]) < args.min_body_chars:
            drop["short_body"] += 1
            dropped.append((pid, p["path"], f"body under {args.min_body_chars} chars"))
            del pages[pid]
    stats["pages_found"] = len(pages) + drop["short_body"]
    stats["dropped"] = dict(drop)
    stats["entities_expanded"] = ents.expanded
    stats["entities_dropped"] = sum(ents.dropped.values())
    stats["entities_dropped_names"] = len(ents.dropped)
    stats["entities_dropped_top"] = dict(ents.dropped.most_common(12))

    def resolve(x: ET.Element) -> tuple[str | None, str, str]:
        """(page id or None, what was written, why not)."""
        if x.tag in ("link", "xref"):
            end = x.get("linkend")
            if not end:
                return None, x.get("xlink_href", ""), "external link"
            t = anchor.get(end)
            if t is None:
                return None, end, "id not in reference/ or language/"
            return (t, end, "") if t in pages else (None, end, "target page dropped")
        raw = squash("".join(x.itertext()))
        k = key(raw)
        if x.tag in CLASSES:
            guesses = ["class." + k.replace("\\", "-"), names.get(k, "")]
        elif x.tag == "methodname" or "::" in k or "->" in k:
            cls, _, meth = k.replace("->", "::").partition("::")
            guess = cls.replace("\\", "-") + "." + meth.lstrip("_").replace("_", "-")
            guesses = [names.get(k.replace("->", "::"), ""), guess]
        else:
            guesses = ["function." + k.replace("_", "-"), names.get(k, "")]
        for g in guesses:
            if g in pages:
                return g, raw, ""
        if any(g in anchor for g in guesses):
            return None, raw, "target page dropped"
        return None, raw, "no page of that name"

    related: dict[str, list[str]] = {}
    unresolved: list[tuple[str, str, str, str]] = []
    ls: collections.Counter[str] = collections.Counter()
    bl: collections.Counter[str] = collections.Counter()
    body_unres: collections.Counter[tuple[str, str, str]] = collections.Counter()
    for pid, p in sorted(pages.items()):
        ls["pages_with_see_also_section"] += p["has_see"]
        out: list[str] = []
        for x in p["see"]:
            ls["entries"] += 1
            t, raw, why = resolve(x)
            if t is None:
                ls["unresolved: " + why] += 1
                unresolved.append((pid, x.tag, raw, why))
            elif t == pid:
                ls["self"] += 1
            elif t in out:
                ls["duplicate"] += 1
            else:
                out.append(t)
        for m in p["see_members"]:
            if not any(c.tag in LINKS for c in m.iter()):
                ls["members_without_link"] += 1
                unresolved.append(
                    (pid, "member", squash("".join(m.itertext()))[:200], "plain text")
                )
        if out:
            related[pid] = out
        elif p["has_see"]:
            ls["sections_without_resolvable_link"] += 1
        links: list[str] = []
        for x in p["refs"]:
            if x.tag == "xi_include":
                if args.no_synopsis_links:
                    continue
                for t, _ in inc.synopses(x.get("xpointer", "")):
                    bl["class synopsis method lines"] += 1
                    if t in pages and t != pid and t not in links:
                        links.append(t)
                        bl["class synopsis methods kept"] += 1
                continue
            bl["written"] += 1
            t, raw, why = resolve(x)
            if t is None:
                bl["unresolved: " + why] += 1
                body_unres[(x.tag, raw, why)] += 1
            elif t == pid:
                bl["self"] += 1
            elif t in links:
                bl["repeat"] += 1
            else:
                links.append(t)
        p["links"] = links
    stats["includes"] = dict(inc.counts)
    stats["see_also"] = dict(ls)
    stats["body_links"] = dict(bl)
    write(args.out, pages, related, dropped, unresolved, body_unres)
    stats.update(summary(pages, related))
    json.dump(stats, sys.stdout, indent=1, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
