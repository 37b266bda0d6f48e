#!/usr/bin/env python3
"""Add each page's body links to the cppdocs_seealso collection, from the cpp-docs sources.

The shared collection (`../shared/data/cppdocs_seealso`, see its SOURCE.md) keeps the link
texts of each page but not where they point. This reads the same snapshot of
`MicrosoftDocs/cpp-docs` (commit a2e592a8), finds every inline Markdown link of each page's
text outside its `## See also` section, front matter and code blocks, resolves it as the
collection's converter resolves the See-also links (relative paths, `/cpp/...` and
learn.microsoft.com URLs to `docs/` paths, case-insensitively, through the redirect file,
fragments and `?view=` dropped), keeps the targets that are articles of the collection (not the
page itself), in text order without repeats, and writes the collection's records with a
`links` field added:

    python3 scripts/collections/cppdocs_seealso/body_links.py \
        --git-dir /path/to/cpp-docs.git --articles ../shared/data/cppdocs_seealso/articles.jsonl \
        --out /tmp/cppdocs_links/articles.jsonl

`--git-dir` is a clone (bare is enough) of the repository at that commit; nothing is
downloaded. Standard library only; prints the counts as JSON at the end.
"""

from __future__ import annotations

import argparse
import json
import posixpath
import re
import subprocess
import sys
from pathlib import Path

COMMIT = "a2e592a8fc391b6aff8d1323f5b58696abdc5d57"
LINK = re.compile(r"(?<!!)\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^\s*(```|~~~)")
SEE_ALSO = re.compile(r"^#{1,6}\s*see also\s*$", re.IGNORECASE)
HEADING = re.compile(r"^#{1,6}\s")
SITE = re.compile(r"^https?://(?:docs|learn)\.microsoft\.com/(?:[a-z]{2}-[a-z]{2}/)?cpp/", re.I)


def git(git_dir: Path, *args: str) -> bytes:
    return subprocess.run(
        ["git", "--git-dir", str(git_dir), *args], check=True, capture_output=True
    ).stdout


def body_lines(text: str) -> list[str]:
    """The page's lines outside its front matter, code blocks and See also section."""
    lines = text.splitlines()
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), 0)
        lines = lines[end + 1 :]
    kept: list[str] = []
    fenced = see_also = False
    for line in lines:
        if FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        if HEADING.match(line):
            see_also = bool(SEE_ALSO.match(line.strip()))
        if not see_also:
            kept.append(line)
    return kept


def target_path(source: str, href: str) -> str | None:
    """The `docs/...` path (lower case, without `.md`) a link points to, or None off the set."""
    href = href.replace("\\", "/").split("#", 1)[0].split("?", 1)[0]
    if not href:
        return None
    if SITE.match(href):
        href = "/cpp/" + SITE.sub("", href)
    if href.startswith("/cpp/"):
        path = "docs/" + href[len("/cpp/") :]
    elif re.match(r"^[a-z]+:", href, re.I) or href.startswith("/"):
        return None
    else:
        path = posixpath.normpath(posixpath.join(posixpath.dirname(source), href))
    path = path.lower()
    return path[:-3] if path.endswith(".md") else path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--git-dir", type=Path, required=True)
    parser.add_argument("--articles", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--commit", default=COMMIT)
    args = parser.parse_args()
    records = [json.loads(line) for line in args.articles.open(encoding="utf-8") if line.strip()]
    ids = {r["id"].lower(): r["id"] for r in records}
    redirects: dict[str, str] = {}
    redirect_file = json.loads(
        git(args.git_dir, "show", f"{args.commit}:.openpublishing.redirection.json")
    )
    for entry in redirect_file.get("redirections", []):
        source = entry["source_path"].lower()
        source = source[:-3] if source.endswith(".md") else source
        target = target_path(entry["source_path"], entry["redirect_url"])
        if target is not None:
            redirects[source] = target
    counts = {"pages": 0, "pages_with_links": 0, "links_written": 0, "links_kept": 0,
              "off_collection": 0, "self": 0, "repeats": 0}  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    partial = args.out.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as out:
        for record in records:
            source = "docs/" + record["id"].replace("~", "/") + ".md"
            text = git(args.git_dir, "show", f"{args.commit}:{source}").decode("utf-8", "replace")
            links: list[str] = []
            for line in body_lines(text):
                for href in LINK.findall(line):
                    counts["links_written"] += 1
                    path = target_path(source, href)
                    for _ in range(5):
                        if path is None or path not in redirects:
                            break
                        path = redirects[path]
                    key = path[len("docs/") :].replace("/", "~") if path else None
                    target = ids.get(key) if key else None
                    if target is None:
                        counts["off_collection"] += 1
                    elif target == record["id"]:
                        counts["self"] += 1
                    elif target in links:
                        counts["repeats"] += 1
                    else:
                        links.append(target)
            counts["pages"] += 1
            counts["pages_with_links"] += bool(links)
            counts["links_kept"] += len(links)
            out.write(json.dumps({**record, "links": links}, ensure_ascii=False) + "\n")
    partial.replace(args.out)
    json.dump(counts, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
