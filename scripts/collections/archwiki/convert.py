#!/usr/bin/env python3
"""Convert the ArchWiki markdown mirror (greg-js/arch-wiki-md-repo) into a
related-articles evaluation collection.

Gold links = each page's editor-curated "Related articles" box (the
{{Related articles start}} / {{Related|...}} template, rendered by the mirror
as a line "Related articles" followed by a bullet list of wiki links).

Usage:
    python3 convert.py --src <checkout dir> --out <dir> [--git-dir <mirror .git>]

<checkout dir> is an extracted tree of the repository (it must contain
wiki/_content/english/ and wiki/db.json). --git-dir (the bare repository the
tree came from) is used only to date each file (first/last commit that touched
it); those dates drive the "stale renamed copy" filter. Without it the dates
are read from --dates (a page_dates.tsv written by an earlier run), else the
filter falls back to in-link counts.

Standard library only. Prints the counts as JSON at the end.
"""

import argparse
import collections
import hashlib
import html
import json
import os
import re
import statistics
import subprocess
import sys
import urllib.parse

WIKI_BASE = "https://wiki.archlinux.org/index.php/"
# Non-main namespaces present in the mirror (":" became "-" in file names).
NON_MAIN_NS = (
    "DeveloperWiki",
    "ArchWiki",
    "Help",
    "User",
    "Talk",
    "Template",
    "Category",
    "Special",
    "File",
    "MediaWiki",
    "ArchLinux",
)
LANG_SUFFIX = re.compile(
    r"\((?:العربية|Български|Bosanski|Català|Čeština|Dansk|Deutsch|Ελληνικά|English|"
    r"Español|Esperanto|Suomi|Français|עברית|Hrvatski|Magyar|Indonesia|Italiano|日本語|"
    r"한국어|Lietuvių|Norsk Bokmål|Nederlands|Polski|Português|Română|Русский|Slovenčina|"
    r"Српски|Svenska|ไทย|Türkçe|Українська|简体中文|正體中文|繁體中文|Tiếng Việt)\)",
    re.I,
)
STOPWORDS = set(
    [
        "the",
        "and",
        "of",
        "to",
        "a",
        "in",
        "is",
        "for",
        "that",
        "this",
        "with",
        "on",
        "be",
        "it",
        "as",
        "are",
        "you",
        "can",
        "by",
        "or",
        "not",
        "from",
        "if",
        "your",
        "an",
        "will",
        "at",
        "which",
        "use",
        "should",
        "have",
        "using",
        "also",
        "all",
        "more",
        "when",
        "then",
        "may",
        "has",
        "these",
        "there",
        "any",
        "but",
        "their",
        "other",
        "its",
        "only",
        "one",
        "some",
        "need",
    ]
)
FOREIGN_STOPWORDS = {
    "es": set(
        [
            "el",
            "la",
            "los",
            "las",
            "de",
            "del",
            "que",
            "y",
            "en",
            "un",
            "una",
            "por",
            "para",
            "con",
            "no",
            "se",
            "es",
            "su",
            "al",
            "lo",
            "como",
            "más",
            "pero",
            "sus",
            "le",
            "ya",
            "o",
            "este",
            "si",
            "porque",
            "esta",
            "entre",
            "cuando",
            "muy",
            "sin",
            "sobre",
            "también",
        ]
    ),
    "pt": set(
        [
            "o",
            "a",
            "os",
            "as",
            "de",
            "do",
            "da",
            "dos",
            "das",
            "que",
            "e",
            "em",
            "um",
            "uma",
            "para",
            "com",
            "não",
            "se",
            "é",
            "por",
            "mais",
            "como",
            "mas",
            "ao",
            "ele",
            "das",
            "à",
            "seu",
            "sua",
            "ou",
            "quando",
            "muito",
            "nos",
            "já",
            "eu",
            "também",
            "só",
            "pelo",
            "pela",
            "até",
            "isso",
        ]
    ),
    "it": set(
        [
            "il",
            "lo",
            "la",
            "i",
            "gli",
            "le",
            "di",
            "del",
            "della",
            "che",
            "e",
            "è",
            "un",
            "una",
            "per",
            "con",
            "non",
            "si",
            "sono",
            "come",
            "più",
            "ma",
            "anche",
            "nel",
            "nella",
            "al",
            "alla",
            "questo",
            "questa",
            "se",
        ]
    ),
    "de": set(
        [
            "der",
            "die",
            "das",
            "und",
            "ist",
            "in",
            "den",
            "von",
            "zu",
            "mit",
            "sich",
            "des",
            "auf",
            "für",
            "ein",
            "eine",
            "nicht",
            "als",
            "auch",
            "es",
            "an",
            "werden",
            "aus",
            "er",
            "hat",
            "dass",
            "sie",
            "nach",
            "wird",
            "bei",
            "einer",
            "um",
            "am",
            "sind",
            "noch",
            "wie",
            "einem",
            "über",
            "einen",
            "so",
            "zum",
        ]
    ),
    "fr": set(
        [
            "le",
            "la",
            "les",
            "de",
            "des",
            "du",
            "et",
            "est",
            "un",
            "une",
            "pour",
            "dans",
            "que",
            "qui",
            "en",
            "pas",
            "sur",
            "au",
            "par",
            "ce",
            "il",
            "plus",
            "ne",
            "se",
            "vous",
            "avec",
            "sont",
            "ou",
            "mais",
        ]
    ),
    "pl": set(
        [
            "i",
            "w",
            "na",
            "z",
            "do",
            "nie",
            "się",
            "że",
            "to",
            "jest",
            "o",
            "jak",
            "po",
            "od",
            "przez",
            "dla",
            "lub",
            "oraz",
            "tak",
            "może",
            "jeśli",
        ]
    ),
}

LINK_RE = re.compile(
    r'\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(([^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(?:\s+"([^"]*)")?\)'
)
IMG_RE = re.compile(r"!\[[^\]]*\]\([^)]*\)")


def wiki_key(title):
    """File-name form used by the mirror: '/', ':' and '"' become '-'."""
    return title.replace("/", "-").replace(":", "-").replace('"', "-")


def href_to_title(href):
    """'/index.php/Pacman/Tips_and_tricks#Foo' -> 'Pacman/Tips and tricks' (None if not internal)."""
    if href.startswith("https://wiki.archlinux.org/index.php/"):
        href = href[len("https://wiki.archlinux.org") :]
    if href.startswith("/index.php?title="):
        q = href[len("/index.php?title=") :].split("#", 1)[0]
        if "redlink=1" in q or "action=" in q:
            return None  # red link / edit link: page did not exist
        t = q.split("&", 1)[0]
    elif href.startswith("/index.php/"):
        t = href[len("/index.php/") :]
        t = t.split("#", 1)[0].split("?", 1)[0]
    else:
        return None
    t = urllib.parse.unquote(t).replace("_", " ").strip()
    if not t:
        return None
    return t[0].upper() + t[1:]


def make_id(title):
    return title.replace(" ", "_").replace("/", "~")


def page_url(title):
    return WIKI_BASE + urllib.parse.quote(title.replace(" ", "_"), safe="/:()',!*~-")


# --------------------------------------------------------------------------- parsing


def split_related_box(text):
    """Return (box_lines, text_without_box). The box is a line 'Related articles'
    followed (after optional blank lines) by consecutive bullet lines."""
    lines = text.split("\n")
    for i, ln in enumerate(lines):
        if ln.strip() == "Related articles":
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            k = j
            while k < len(lines) and lines[k].lstrip().startswith("*"):
                k += 1
            if k > j:
                return lines[j:k], "\n".join(lines[:i] + lines[k:])
    return None, text


def md_to_text(md):
    lines = md.split("\n")
    out = []
    in_code = False
    in_toc = False
    for ln in lines:
        s = ln.strip()
        if s.startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        if s.startswith("<input ") or s.startswith("<label "):
            continue
        if s == "## Contents":
            in_toc = True
            continue
        if in_toc:
            if s.startswith("#"):
                in_toc = False
            else:
                continue
        if s.startswith("Retrieved from "):
            continue
        out.append(ln)
    t = "\n".join(out)
    t = re.sub(r"<sup>.*?</sup>", "", t, flags=re.S)  # AUR / broken-link markers, footnote refs
    t = IMG_RE.sub("", t)
    for _ in range(2):  # nested [[1]](url) style links
        t = LINK_RE.sub(lambda m: m.group(1), t)
    t = re.sub(r"<[^>\n]+>", "", t)  # remaining HTML tags
    t = html.unescape(t)
    t = re.sub(r"(?m)^\s{0,3}#{1,6}\s*(.*)$", r"\n\1\n", t)  # headings: own paragraph
    t = re.sub(r"(?m)^\s*(?:[*+-]|\d+\.)\s+", "", t)  # list markers
    t = re.sub(r"(?m)^\s*\|\s*", "", t)  # table rows
    t = re.sub(r"[ \t]*\|[ \t]*", " | ", t)
    t = re.sub(r"(?m)(?: \|)+ *$", "", t)
    t = re.sub(r"\*\*|__", "", t)
    t = re.sub(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])", r"\1", t)
    t = t.replace("`", "")
    t = re.sub(r"\\([\\`*_{}\[\]()#+\-.!|>~])", r"\1", t)  # markdown escapes
    t = re.sub(r"[ \t\u00a0]+", " ", t)
    t = re.sub(r"(?m)^ +| +$", "", t)
    t = re.sub(r"\n{3,}", "\n\n", t)
    return t.strip()


def english_score(text):
    """(English stop-word ratio, best foreign stop-word ratio, non-Latin letter ratio)."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    if not words:
        return 0.0, 0.0, 0.0
    sw = sum(1 for w in words if w in STOPWORDS) / len(words)
    fw = max(sum(1 for w in words if w in ws) for ws in FOREIGN_STOPWORDS.values()) / len(words)
    letters = [c for c in text if c.isalpha()]
    nonlatin = sum(1 for c in letters if ord(c) > 0x24F) / max(1, len(letters))
    return sw, fw, nonlatin


def shingles(text, k=5, mod=4):
    words = re.findall(r"\w+", text.lower())
    out = set()
    for i in range(len(words) - k + 1):
        h = int(hashlib.md5(" ".join(words[i : i + k]).encode()).hexdigest()[:12], 16)
        if h % mod == 0:
            out.add(h)
    return out


# --------------------------------------------------------------------------- dates


def dates_from_git(git_dir, rel_dir):
    cmd = [
        "git",
        "--git-dir",
        git_dir,
        "-c",
        "core.quotepath=off",
        "log",
        "--format=@@%cI",
        "--name-only",
        "--",
        rel_dir,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    first, last = {}, {}
    cur = None
    prefix = rel_dir.rstrip("/") + "/"
    for line in out.split("\n"):
        if line.startswith("@@"):
            cur = line[2:12]
            continue
        if not line:
            continue
        if line.startswith('"') and line.endswith('"'):
            line = (
                line[1:-1]
                .encode("latin-1", "backslashreplace")
                .decode("unicode_escape")
                .encode("latin-1")
                .decode("utf-8", "replace")
            )
        if not line.startswith(prefix):
            continue
        name = line[len(prefix) :]
        last.setdefault(name, cur)
        first[name] = cur
    return first, last


# --------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--git-dir")
    ap.add_argument("--dates")
    ap.add_argument("--min-body-chars", type=int, default=300)
    ap.add_argument("--min-stopword-ratio", type=float, default=0.04)
    ap.add_argument("--dup-jaccard", type=float, default=0.5)
    ap.add_argument("--dup-jaccard-strict", type=float, default=0.75)
    ap.add_argument("--generic-min-indegree", type=int, default=15)
    args = ap.parse_args()

    en_dir = os.path.join(args.src, "wiki", "_content", "english")
    os.makedirs(args.out, exist_ok=True)
    stats = collections.OrderedDict()

    files = sorted(f for f in os.listdir(en_dir) if f.endswith(".md"))
    stats["english_folder_files"] = len(files)
    raw = {}
    for f in files:
        with open(os.path.join(en_dir, f), encoding="utf-8", errors="replace") as fh:
            raw[f[:-3]] = fh.read()

    # file dates (for the stale-copy filter and page_dates.tsv)
    first = last = None
    if args.git_dir:
        first, last = dates_from_git(args.git_dir, "wiki/_content/english")
        first = {k[:-3]: v for k, v in first.items() if k.endswith(".md")}
        last = {k[:-3]: v for k, v in last.items() if k.endswith(".md")}
    elif args.dates and os.path.exists(args.dates):
        first, last = {}, {}
        with open(args.dates, encoding="utf-8") as fh:
            next(fh)
            for ln in fh:
                stem, a, b = ln.rstrip("\n").split("\t")[:3]
                first[stem], last[stem] = a, b

    # canonical titles: from db.json urls and from the title attribute of every internal link
    key2title = {}
    try:
        with open(os.path.join(args.src, "wiki", "db.json"), encoding="utf-8") as fh:
            db = json.load(fh)
        for lang in db["db"]:
            if lang["lang"] != "english":
                continue
            for a in lang["articles"]:
                t = href_to_title(a["url"].replace("https://wiki.archlinux.org", ""))
                if t:
                    key2title.setdefault(wiki_key(t), t)
    except (OSError, ValueError, KeyError):
        pass
    link_titles = collections.Counter()
    for text in raw.values():
        for m in LINK_RE.finditer(text):
            t = href_to_title(m.group(2))
            if t:
                link_titles[t] += 1
    for t, _ in link_titles.most_common():
        key2title.setdefault(wiki_key(t), t)

    # redirects
    redirect = {}
    for stem, text in raw.items():
        if text.lstrip().startswith("Redirect to:"):
            m = LINK_RE.search(text)
            tgt = href_to_title(m.group(2)) if m else None
            redirect[stem] = wiki_key(tgt) if tgt else None
    stats["redirect_files"] = len(redirect)

    lower_index = collections.defaultdict(list)
    for stem in raw:
        lower_index[stem.lower()].append(stem)

    def resolve_key(key, hops=0):
        """file-name key -> existing stem after following redirects (or None)."""
        if key is None or hops > 5:
            return None
        stem = key if key in raw else None
        if stem is None:
            cands = lower_index.get(key.lower(), [])
            if len(cands) == 1:
                stem = cands[0]
        if stem is None:
            return None
        if stem in redirect:
            return resolve_key(redirect[stem], hops + 1)
        return stem

    # parse content pages
    pages = {}
    drop = collections.Counter()
    dropped_rows = []
    for stem, text in raw.items():
        if stem in redirect:
            continue
        ns = stem.split("-", 1)[0]
        if "-" in stem and ns in NON_MAIN_NS and key2title.get(stem, stem).startswith(ns + ":"):
            drop["non_main_namespace"] += 1
            dropped_rows.append((stem, "non_main_namespace"))
            continue
        if ns in ("DeveloperWiki", "ArchWiki", "Help"):
            drop["non_main_namespace"] += 1
            dropped_rows.append((stem, "non_main_namespace"))
            continue
        title = key2title.get(stem, stem)
        if LANG_SUFFIX.search(title) or any(c.isalpha() and ord(c) > 0x24F for c in title):
            drop["translation_title"] += 1
            dropped_rows.append((stem, "translation_title"))
            continue
        box, rest = split_related_box(text)
        body = md_to_text(rest)
        if len(body) < args.min_body_chars:
            drop["short_body"] += 1
            dropped_rows.append((stem, "short_body"))
            continue
        sw, fw, nonlatin = english_score(body[:20000])
        if nonlatin > 0.2 or sw < args.min_stopword_ratio or fw > sw:
            drop["not_english"] += 1
            dropped_rows.append(
                (stem, f"not_english en={sw:.3f} foreign={fw:.3f} nonlatin={nonlatin:.2f}")
            )
            continue
        pages[stem] = {"title": title, "box": box, "body": body, "raw": rest}

    # stale copies: near-duplicate content where the older file stopped changing
    # before the newer one appeared (typical of a page move that left the old file behind)
    sh = {s: shingles(p["body"]) for s, p in pages.items()}
    inv = collections.defaultdict(list)
    for s, hs in sh.items():
        for h in hs:
            inv[h].append(s)
    pair_counts = collections.Counter()
    for _, ss in inv.items():
        if 1 < len(ss) <= 30:
            for i in range(len(ss)):
                for j in range(i + 1, len(ss)):
                    pair_counts[(ss[i], ss[j])] += 1
    inlinks = collections.Counter()
    for s, p in pages.items():
        for m in LINK_RE.finditer(p["raw"]):
            t = href_to_title(m.group(2))
            r = resolve_key(wiki_key(t)) if t else None
            if r and r != s:
                inlinks[r] += 1
    stale = {}
    dup_rows = []
    for (a, b), c in pair_counts.items():
        jac = c / (len(sh[a]) + len(sh[b]) - c)
        if jac < args.dup_jaccard:
            continue
        if last is not None:
            la, lb = last.get(a + "", ""), last.get(b + "", "")
            fa, fb = first.get(a, ""), first.get(b, "")
            if la < lb and la <= fb:
                old, new = a, b
            elif lb < la and lb <= fa:
                old, new = b, a
            elif jac >= args.dup_jaccard_strict and la != lb:
                old, new = (a, b) if la < lb else (b, a)
            else:
                dup_rows.append((a, b, f"{jac:.2f}", "kept both"))
                continue
        else:
            if inlinks[a] == inlinks[b]:
                dup_rows.append((a, b, f"{jac:.2f}", "kept both"))
                continue
            old, new = (a, b) if inlinks[a] < inlinks[b] else (b, a)
        stale[old] = new
        dup_rows.append((old, new, f"{jac:.2f}", "dropped first (stale copy)"))
    for s in stale:
        if s in pages:
            del pages[s]
            drop["stale_duplicate"] += 1
            dropped_rows.append((s, "stale_duplicate_of " + stale[s]))

    stats["dropped"] = dict(drop)

    def resolve_final(key):
        r = resolve_key(key)
        seen = 0
        while r in stale and seen < 5:
            r = stale[r]
            seen += 1
        return r

    # ids
    ids = {}
    used = set()
    for s, p in sorted(pages.items()):
        i = make_id(p["title"])
        i = "".join(ch for ch in i if ch >= " " and ch != "\x7f")[:512]
        while i in used:
            i += "_"
        used.add(i)
        ids[s] = i

    # gold links
    related = {}
    unresolved = []
    link_stats = collections.Counter()
    for s, p in sorted(pages.items()):
        if not p["box"]:
            continue
        link_stats["pages_with_box"] += 1
        out = []
        for ln in p["box"]:
            m = LINK_RE.search(ln)
            if not m:
                link_stats["bullet_without_link"] += 1
                unresolved.append((ids[s], ln.strip(), "no link"))
                continue
            link_stats["box_entries"] += 1
            t = href_to_title(m.group(2))
            if t is None:
                link_stats["external"] += 1
                unresolved.append((ids[s], m.group(2), "external"))
                continue
            if t.split(":", 1)[0] in NON_MAIN_NS and ":" in t:
                link_stats["other_namespace"] += 1
                unresolved.append((ids[s], t, "other namespace"))
                continue
            r = resolve_final(wiki_key(t))
            if r is None:
                k = wiki_key(t)
                hops = 0
                while k in redirect and hops < 5:
                    k, hops = redirect[k], hops + 1
                if hops and k and k.split("-", 1)[0] in NON_MAIN_NS:
                    link_stats["redirect_to_other_namespace"] += 1
                    unresolved.append((ids[s], t, "redirects to " + k))
                else:
                    link_stats["missing_target"] += 1
                    unresolved.append((ids[s], t, "no such page in snapshot"))
                continue
            if r not in pages:
                link_stats["dropped_target"] += 1
                why_dropped = next((why for st, why in dropped_rows if st == r), "?")
                unresolved.append((ids[s], t, f"target dropped ({why_dropped})"))
                continue
            if r == s:
                link_stats["self"] += 1
                continue
            if ids[r] in out:
                link_stats["duplicate"] += 1
                continue
            if wiki_key(t) != r:
                link_stats["via_redirect_or_case"] += 1
            out.append(ids[r])
        if out:
            related[ids[s]] = out
        else:
            link_stats["box_without_resolvable_link"] += 1
    stats["links"] = dict(link_stats)

    # body links: the wiki links of each page's text (the box already removed), in text order,
    # resolved as the box's are; self-links, repeats and pages not kept are left out
    body_links = {}
    for s, p in pages.items():
        out = []
        for m in LINK_RE.finditer(p["raw"]):
            t = href_to_title(m.group(2))
            r = resolve_final(wiki_key(t)) if t else None
            if r and r != s and r in pages and ids[r] not in out:
                out.append(ids[r])
        body_links[s] = out
    stats["body_links"] = {
        "pages_with_body_links": sum(1 for v in body_links.values() if v),
        "links": sum(len(v) for v in body_links.values()),
    }

    # generic (hub) targets
    indeg = collections.Counter(t for lst in related.values() for t in lst)
    generic = {t for t, c in indeg.items() if c >= args.generic_min_indegree}

    # write
    art_path = os.path.join(args.out, "articles.jsonl")
    with open(art_path, "w", encoding="utf-8") as fh:
        for s, p in sorted(pages.items(), key=lambda kv: ids[kv[0]]):
            rec = {
                "id": ids[s],
                "title": p["title"],
                "body": p["body"],
                "url": page_url(p["title"]),
                "lang": "en",
            }
            if body_links[s]:
                rec["links"] = body_links[s]
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    with open(os.path.join(args.out, "related.jsonl"), "w", encoding="utf-8") as fh:
        for sid in sorted(related):
            fh.write(json.dumps({"id": sid, "related": related[sid]}, ensure_ascii=False) + "\n")
    with open(os.path.join(args.out, "generic_targets.tsv"), "w", encoding="utf-8") as fh:
        fh.write("id\tin_degree\topens_lists\ttitle\n")
        opens = collections.Counter(lst[0] for lst in related.values())
        title_of = {ids[s]: p["title"] for s, p in pages.items()}
        for t, c in indeg.most_common():
            if t in generic:
                fh.write(f"{t}\t{c:d}\t{opens[t]:d}\t{title_of[t]}\n")
    with open(os.path.join(args.out, "unresolved_related.tsv"), "w", encoding="utf-8") as fh:
        fh.write("source_id\traw_entry\treason\n")
        for row in unresolved:
            fh.write("\t".join(x.replace("\t", " ") for x in row) + "\n")
    with open(os.path.join(args.out, "dropped_pages.tsv"), "w", encoding="utf-8") as fh:
        fh.write("file_stem\treason\n")
        for row in sorted(dropped_rows):
            fh.write("\t".join(row) + "\n")
    with open(os.path.join(args.out, "near_duplicates.tsv"), "w", encoding="utf-8") as fh:
        fh.write("stem_a\tstem_b\tjaccard_5shingle_sampled\taction\n")
        for row in sorted(dup_rows):
            fh.write("\t".join(row) + "\n")
    if first is not None:
        with open(os.path.join(args.out, "page_dates.tsv"), "w", encoding="utf-8") as fh:
            fh.write("file_stem\tfirst_commit\tlast_commit\tid\tin_links\n")
            for stem in sorted(raw):
                fh.write(
                    f"{stem}\t{first.get(stem, '')}\t{last.get(stem, '')}\t"
                    f"{ids.get(stem, '')}\t{(inlinks[stem] if stem in ids else 0):d}\n"
                )

    # counts
    lens = sorted(len(p["body"]) for p in pages.values())
    nl = [len(v) for v in related.values()]
    stats["articles"] = len(pages)
    stats["sources"] = len(related)
    stats["links"]["kept"] = sum(nl)
    stats["mean_links"] = round(sum(nl) / max(1, len(nl)), 2)
    stats["median_links"] = statistics.median(nl) if nl else 0
    stats["distinct_targets"] = len(indeg)
    pairs = {(a, b) for a, lst in related.items() for b in lst}
    stats["reciprocal_links"] = sum(1 for a, b in pairs if (b, a) in pairs)
    stats["generic_targets"] = len(generic)
    stats["generic_links"] = sum(indeg[t] for t in generic)
    stats["body_len_median"] = statistics.median(lens)
    stats["body_len_p90"] = lens[int(0.9 * (len(lens) - 1))]
    stats["body_len_max"] = lens[-1]
    json.dump(stats, sys.stdout, indent=1, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
