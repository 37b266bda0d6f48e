#!/usr/bin/env python3
"""Convert the Linux man-pages project (roff sources) into a related-articles
evaluation collection.

Gold links = each page's "SEE ALSO" section (name(section) references written by
the page authors/maintainers).

Usage:
    python3 convert.py --src <checkout of man-pages> --out <dir>

Standard library only. Prints the counts as JSON at the end.
"""

import argparse
import collections
import json
import os
import re
import statistics
import sys

URL = "https://man7.org/linux/man-pages/man{sec}/{name}.{ext}.html"
SECTION_NAMES = {
    "1": "man1",
    "2": "man2",
    "3": "man3",
    "4": "man4",
    "5": "man5",
    "6": "man6",
    "7": "man7",
    "8": "man8",
}

GLYPHS = {
    "em": "\u2014",
    "en": "\u2013",
    "aq": "'",
    "dq": '"',
    "lq": "\u201c",
    "rq": "\u201d",
    "oq": "\u2018",
    "cq": "\u2019",
    "bu": "\u2022",
    "co": "\u00a9",
    "rg": "\u00ae",
    "tm": "\u2122",
    "de": "\u00b0",
    "mu": "\u00d7",
    "di": "\u00f7",
    "+-": "\u00b1",
    "<=": "\u2264",
    ">=": "\u2265",
    "!=": "\u2260",
    "->": "\u2192",
    "<-": "\u2190",
    "rs": "\\",
    "ti": "~",
    "ha": "^",
    "ga": "`",
    "ul": "_",
    "hy": "-",
    "pl": "+",
    "mi": "-",
    "eq": "=",
    "sl": "/",
    "ba": "|",
    "br": "|",
    "or": "|",
    "sc": "\u00a7",
    "ps": "\u00b6",
    "Fo": "\u00ab",
    "Fc": "\u00bb",
    "fo": "\u2039",
    "fc": "\u203a",
    "ct": "\u00a2",
    "Po": "\u00a3",
    "Eu": "\u20ac",
    "Ye": "\u00a5",
    "mc": "\u00b5",
    "*m": "\u00b5",
    "*a": "\u03b1",
    "*b": "\u03b2",
    "*p": "\u03c0",
    "if": "\u221e",
    "sp": " ",
    "dg": "\u2020",
    "lA": "\u21d0",
    "rA": "\u21d2",
    "ua": "\u2191",
    "da": "\u2193",
    "sq": "\u25a1",
    "ci": "\u25cb",
    "at": "@",
    "sh": "#",
    "Do": "$",
    "em ": "\u2014",
    "a~": "\u00e3",
    "e'": "\u00e9",
    "a'": "\u00e1",
    "o'": "\u00f3",
    "u:": "\u00fc",
    "o:": "\u00f6",
    "a:": "\u00e4",
    "ss": "\u00df",
    "e`": "\u00e8",
    "n~": "\u00f1",
}
STRINGS = {
    "lq": "\u201c",
    "rq": "\u201d",
    "R": "\u00ae",
    "Tm": "\u2122",
    "(lq": "\u201c",
    "(rq": "\u201d",
}

ESC_RE = re.compile(
    r"\\(?:"
    r"f(?:\[[^\]]*\]|\(..|.)"  # font change
    r"|s(?:\[[^\]]*\]|[+-]?\d+|\(\d\d)"  # size change
    r"|\*(?:\[([^\]]*)\]|\((..)|(.))"  # string interpolation
    r"|\[([^\]]*)\]"  # named glyph
    r"|\((..)"  # two-char glyph
    r"|[NhvwoHSlLxbDZXkYRz](?:'[^']*'|\[[^\]]*\]|.)"  # misc with argument
    r"|n(?:\[[^\]]*\]|\(..|.)"  # number register
    r"|(.)"  # single-char escape
    r")"
)


def _esc(m):
    g = m.group(0)
    c = g[1]
    if c in "fs":
        return ""
    if c == "*":
        name = m.group(1) or m.group(2) or m.group(3) or ""
        return STRINGS.get(name, "")
    if c == "[":
        name = m.group(4)
        if name.startswith("u") and re.fullmatch(r"u[0-9A-Fa-f]{4,6}", name):
            return chr(int(name[1:], 16))
        return GLYPHS.get(name, "")
    if c == "(":
        return GLYPHS.get(m.group(5), "")
    if c in "NhvwoHSlLxbDZXkYRz" or c == "n":
        return ""
    ch = m.group(6)
    return {
        "-": "-",
        "e": "\\",
        "\\": "\\",
        "&": "",
        "|": "",
        "^": "",
        "~": " ",
        "0": " ",
        " ": " ",
        "%": "",
        ":": "",
        ",": "",
        "/": "",
        "c": "",
        "t": "\t",
        "'": "'",
        "`": "`",
        ".": ".",
        '"': "",
        "}": "",
        "{": "",
        "a": "",
        "d": "",
        "u": "",
        "r": "",
        "p": "",
        "E": "",
        "!": "",
    }.get(ch, ch or "")


def unescape(s):
    s = re.sub(r'\\".*$', "", s)  # inline comment
    return ESC_RE.sub(_esc, s)


def split_args(s):
    """roff macro argument split: whitespace separated, double quotes group, "" = quote."""
    args, cur, inq, i, started = [], [], False, 0, False
    while i < len(s):
        ch = s[i]
        if inq:
            if ch == '"':
                if i + 1 < len(s) and s[i + 1] == '"':
                    cur.append('"')
                    i += 2
                    continue
                inq = False
            else:
                cur.append(ch)
        elif ch == '"' and not cur:
            inq, started = True, True
        elif ch in " \t":
            if cur or started:
                args.append("".join(cur))
                cur, started = [], False
        else:
            cur.append(ch)
        i += 1
    if cur or started:
        args.append("".join(cur))
    return args


FONT_SINGLE = {"B", "I", "SM", "SB"}
FONT_ALT = {"BR", "RB", "IR", "RI", "BI", "IB"}
SKIP_REQ = {
    "RS",
    "RE",
    "in",
    "ad",
    "na",
    "hy",
    "nh",
    "ne",
    "ft",
    "ps",
    "ti",
    "ce",
    "ll",
    "ta",
    "ds",
    "nr",
    "so",
    "ig",
    "de",
    "if",
    "ie",
    "el",
    "tr",
    "cc",
    "ec",
    "eo",
    "lf",
    "mso",
    "PD",
    "UC",
    "DT",
    "hw",
    "ss",
    "cs",
    "bd",
    "fam",
    "ev",
    "rm",
    "rr",
    "it",
    "pc",
    "tm",
    "HP",
    "ns",
    "rs",
    "fl",
    "OP",
    "ME",
    "UE",
    "SY",
    "YS",
    "ls",
    "vs",
    "pl",
    "wh",
    "ch",
    "bp",
    "ab",
    "nx",
    "pso",
    "sy",
    "em",
    "blm",
    "lsm",
    "cu",
    "ul",
    "uf",
    "fc",
    "lc",
    "mc",
    "nm",
    "nn",
    "pm",
    "po",
    "pn",
    "ex",
    "tc",
    '\\"',
}


def roff_to_sections(lines):
    """Return (th_args, [(section_name, text)])."""
    th = []
    sections = []
    cur_name, cur = "", []
    i = 0
    n = len(lines)
    in_example = False
    in_table = False
    table_fmt_done = False
    table_tab = "\t"

    nofill = False
    tp_tag = False

    def emit(t):
        nonlocal tp_tag
        if t and (nofill or tp_tag):
            t = t + "\x01"  # hard line break, kept through paragraph filling
            tp_tag = False
        cur.append(t)

    while i < n:
        raw = lines[i]
        i += 1
        # join continuation lines ending in \c or a lone backslash
        while i < n and (raw.endswith("\\c") or (raw.endswith("\\") and not raw.endswith("\\\\"))):
            raw = (raw[:-2] if raw.endswith("\\c") else raw[:-1]) + lines[i]
            i += 1
        if raw.startswith('.\\"') or raw.startswith("'\\\"") or raw.startswith('\\"'):
            continue
        if in_table:
            s = raw.rstrip()
            if s.startswith(".TE"):
                in_table = False
                emit("")
                continue
            if not table_fmt_done:
                if s.endswith(";"):
                    m = re.search(r"tab\s*\((.)\)", s)
                    if m:
                        table_tab = m.group(1)
                    continue
                if s.endswith("."):
                    table_fmt_done = True
                continue
            if s in ("_", "=", ".T&") or s.startswith(".sp") or s.startswith(".T&"):
                continue
            if s.startswith("."):
                continue
            cells = [
                unescape(c).replace("T{", "").replace("T}", "").strip() for c in s.split(table_tab)
            ]
            emit(" | ".join(c for c in cells if c))
            continue
        if raw.startswith(".") or raw.startswith("'"):
            body = raw[1:].lstrip()
            m = re.match(r"(\S+)\s*(.*)$", body)
            if not m:
                continue
            req, rest = m.group(1), m.group(2)
            if req == "EX":
                in_example = True
                continue
            if req == "EE":
                in_example = False
                continue
            if in_example:
                continue
            if req == "TH":
                th = split_args(rest)
                continue
            if req in ("SH", "SS"):
                title = unescape(" ".join(split_args(rest))).strip()
                if req == "SH":
                    sections.append((cur_name, cur))
                    cur_name, cur = title.upper(), []
                else:
                    emit("")
                    emit(title)
                    emit("")
                continue
            if req == "TS":
                in_table, table_fmt_done, table_tab = True, False, "\t"
                emit("")
                continue
            if req in ("PP", "P", "LP", "sp"):
                emit("")
                continue
            if req == "br":
                emit("\n")
                continue
            if req == "TP":
                emit("")
                tp_tag = True
                continue
            if req == "IP":
                args = split_args(rest)
                emit("")
                if args and args[0] and unescape(args[0]).strip() not in ("\u2022", "*", "-"):
                    tp_tag = True
                    emit(unescape(args[0]))
                continue
            if req in ("UR", "MT"):
                continue
            if req in FONT_SINGLE:
                if rest.strip():
                    emit(unescape(" ".join(split_args(rest))))
                continue
            if req in FONT_ALT:
                emit(unescape("".join(split_args(rest))))
                continue
            if req == "nf":
                nofill = True
                continue
            if req == "fi":
                nofill = False
                continue
            # any other request/macro: ignore (layout only)
            continue
        if in_example:
            continue
        emit(unescape(raw))
    sections.append((cur_name, cur))
    out = []
    for name, chunk in sections:
        text = "\n".join(chunk)
        text = re.sub(r"[ \t]+", " ", text)
        text = re.sub(r"(?m)^ +| +$", "", text)
        # join filled lines into paragraphs, keep blank-line paragraph breaks
        paras = [p.strip() for p in re.split(r"\n\s*\n", text)]
        paras = [re.sub(r"\s*\n\s*", " ", p) for p in paras if p]
        paras = [re.sub(r" *\x01 *", "\n", p).strip() for p in paras]
        paras = [p for p in paras if p]
        out.append((name, "\n\n".join(paras)))
    return th, out


REF_RE = re.compile(r"(?<![\w.\-/])([A-Za-z0-9_][\w.:+@\-]*)\s*\(([1-9][a-z]*)\)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--min-body-chars", type=int, default=200)
    ap.add_argument("--generic-min-indegree", type=int, default=25)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    stats = collections.OrderedDict()

    files = {}
    for d in sorted(os.listdir(args.src)):
        if not re.fullmatch(r"man[1-8]", d):
            continue
        for f in sorted(os.listdir(os.path.join(args.src, d))):
            p = os.path.join(args.src, d, f)
            if os.path.isfile(p) and re.fullmatch(r".+\.[1-8][a-z]*", f):
                with open(p, encoding="utf-8", errors="replace") as fh:
                    files[d + "/" + f] = fh.read().split("\n")
    stats["page_files"] = len(files)

    alias = {}
    for path, lines in files.items():
        for ln in lines:
            if ln.startswith('.\\"') or not ln.strip():
                continue
            m = re.match(r"\.so\s+(\S+)", ln)
            if m:
                alias[path] = m.group(1)
            break
    stats["so_alias_files"] = len(alias)

    lower = collections.defaultdict(list)
    for p in files:
        lower[p.lower()].append(p)

    def resolve(path, hops=0):
        if hops > 5:
            return None
        if path not in files:
            c = lower.get(path.lower(), [])
            if len(c) != 1:
                return None
            path = c[0]
        if path in alias:
            return resolve(alias[path], hops + 1)
        return path

    pages = {}
    drop = collections.Counter()
    dropped = []
    for path, lines in sorted(files.items()):
        if path in alias:
            continue
        th, secs = roff_to_sections(lines)
        secd = collections.OrderedDict()
        for name, text in secs:
            if name:
                secd.setdefault(name, text)
        name_line = secd.get("NAME", "").strip()
        see = secd.get("SEE ALSO", "")
        body_parts = []
        for name, text in secs:
            if not name or name in ("NAME", "SEE ALSO", "COLOPHON") or not text:
                continue
            body_parts.append(name.capitalize() + "\n\n" + text)
        body = "\n\n".join(body_parts).strip()
        if len(body) < args.min_body_chars:
            drop["short_body"] += 1
            dropped.append((path, "short_body"))
            continue
        stem = path.split("/", 1)[1]
        pname, ext = stem.rsplit(".", 1)
        sec = path[3]
        date = th[2] if len(th) > 2 and re.fullmatch(r"\d{4}-\d{2}-\d{2}", th[2] or "") else None
        title = re.sub(r"\s+", " ", name_line).strip() or stem
        pages[path] = {
            "id": stem,
            "title": title,
            "body": body,
            "see": see,
            "url": URL.format(sec=sec, name=pname, ext=ext),
            "published": date,
            "section": SECTION_NAMES[sec],
        }
    stats["dropped"] = dict(drop)

    related = {}
    unresolved = []
    ls = collections.Counter()
    for path, p in sorted(pages.items()):
        if not p["see"].strip():
            continue
        ls["pages_with_see_also"] += 1
        out = []
        refs = REF_RE.findall(p["see"])
        if not refs:
            ls["see_also_without_refs"] += 1
            unresolved.append(
                (p["id"], p["see"][:200].replace("\n", " "), "no name(section) reference")
            )
        for name, sec in refs:
            ls["entries"] += 1
            target = f"man{sec[0]}/{name}.{sec}"
            r = resolve(target)
            if r is None:
                ls["outside_project"] += 1
                unresolved.append((p["id"], f"{name}({sec})", "no such page in man-pages"))
                continue
            if r not in pages:
                ls["dropped_target"] += 1
                unresolved.append((p["id"], f"{name}({sec})", "target dropped (short)"))
                continue
            if r == path:
                ls["self"] += 1
                continue
            tid = pages[r]["id"]
            if tid in out:
                ls["duplicate"] += 1
                continue
            if r != target:
                ls["via_alias"] += 1
            out.append(tid)
        if out:
            related[p["id"]] = out
        else:
            ls["no_resolvable_link"] += 1
    stats["links"] = dict(ls)

    indeg = collections.Counter(t for lst in related.values() for t in lst)
    generic = {t for t, c in indeg.items() if c >= args.generic_min_indegree}
    spec = {s: [t for t in lst if t not in generic] for s, lst in related.items()}
    spec = {s: lst for s, lst in spec.items() if lst}

    with open(os.path.join(args.out, "articles.jsonl"), "w", encoding="utf-8") as fh:
        for _, p in sorted(pages.items(), key=lambda kv: kv[1]["id"]):
            rec = {"id": p["id"], "title": p["title"], "body": p["body"], "url": p["url"]}
            if p["published"]:
                rec["published"] = p["published"]
            rec["section"] = p["section"]
            rec["lang"] = "en"
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    with open(os.path.join(args.out, "related.jsonl"), "w", encoding="utf-8") as fh:
        for s in sorted(related):
            fh.write(json.dumps({"id": s, "related": related[s]}, ensure_ascii=False) + "\n")
    with open(os.path.join(args.out, "related_specific.jsonl"), "w", encoding="utf-8") as fh:
        for s in sorted(spec):
            fh.write(json.dumps({"id": s, "related": spec[s]}, ensure_ascii=False) + "\n")
    opens = collections.Counter(lst[0] for lst in related.values())
    with open(os.path.join(args.out, "generic_targets.tsv"), "w", encoding="utf-8") as fh:
        fh.write("id\tin_degree\topens_lists\ttitle\n")
        title_of = {p["id"]: p["title"] for p in pages.values()}
        for t, c in indeg.most_common():
            if t in generic:
                fh.write(f"{t}\t{c:d}\t{opens[t]:d}\t{title_of[t]}\n")
    with open(os.path.join(args.out, "unresolved_related.tsv"), "w", encoding="utf-8") as fh:
        fh.write("source_id\traw_entry\treason\n")
        for row in unresolved:
            fh.write("\t".join(x.replace("\t", " ") for x in row) + "\n")

    lens = sorted(len(p["body"]) for p in pages.values())
    nl = [len(v) for v in related.values()]
    pairs = {(a, b) for a, lst in related.items() for b in lst}
    stats["articles"] = len(pages)
    stats["articles_by_section"] = dict(collections.Counter(p["section"] for p in pages.values()))
    stats["sources"] = len(related)
    stats["sources_by_section"] = dict(
        collections.Counter(pages[f"man{s.rsplit('.', 1)[1][0]}/{s}"]["section"] for s in related)
    )
    stats["links_kept"] = sum(nl)
    stats["mean_links"] = round(sum(nl) / max(1, len(nl)), 2)
    stats["median_links"] = statistics.median(nl) if nl else 0
    stats["distinct_targets"] = len(indeg)
    stats["reciprocal_links"] = sum(1 for a, b in pairs if (b, a) in pairs)
    stats["generic_targets"] = len(generic)
    stats["generic_links"] = sum(indeg[t] for t in generic)
    stats["lists_opening_with_generic"] = sum(1 for lst in related.values() if lst[0] in generic)
    stats["lists_with_generic"] = sum(
        1 for lst in related.values() if any(t in generic for t in lst)
    )
    stats["specific_sources"] = len(spec)
    stats["specific_links"] = sum(len(v) for v in spec.values())
    stats["body_len_median"] = statistics.median(lens)
    stats["body_len_p90"] = lens[int(0.9 * (len(lens) - 1))]
    stats["body_len_max"] = lens[-1]
    json.dump(stats, sys.stdout, indent=1, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
