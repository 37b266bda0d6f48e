"""The README and the pages under docs/: every page reachable from the README, no broken link.

Links are read from the Markdown itself (code blocks and inline code left out), and an
`#anchor` is checked against the target page's headings, turned into anchors as GitHub does.
The tables that mirror declarations are checked where they are declared: the settings and
options in tests/test_config.py, the error codes in tests/test_openapi.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
README_MAX_LINES = 200
"""A newcomer reads the README in ten minutes; the rest belongs in a page of docs/."""

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
PATH_IN_CODE = re.compile(r"`((?:service|embeddings|bench|scripts|tests|docs)/[\w./-]*)`")


def prose(text: str) -> str:
    """The Markdown without its code blocks: what GitHub renders as text, headings and links."""
    return FENCE.sub("", text)


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces to
    hyphens, and a repeated heading numbered `-1`, `-2`."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for heading in HEADING.findall(prose(text)):
        words = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").replace("*", "")
        slug = re.sub(r"[^\w\- ]", "", words.strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def links(text: str) -> list[str]:
    return LINK.findall(INLINE_CODE.sub("", prose(text)))


def relative(target: str) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I)


def broken_links(page: Path) -> list[str]:
    broken = []
    for target in filter(relative, links(page.read_text(encoding="utf-8"))):
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked.read_text("utf-8")):
            broken.append(f"{target}: no heading with that anchor")
    return broken


def test_there_are_docs_pages() -> None:
    assert len(PAGES) >= 5


def test_the_readme_links_every_docs_page() -> None:
    linked = {
        (ROOT / target.partition("#")[0]).resolve()
        for target in filter(relative, links(README.read_text(encoding="utf-8")))
    }
    unlinked = [page.name for page in PAGES if page.resolve() not in linked]
    assert unlinked == [], "link these pages from the README's Documentation list"


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda page: page.name)
def test_no_relative_link_is_broken(page: Path) -> None:
    assert broken_links(page) == []


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda page: page.name)
def test_every_project_path_named_in_the_docs_exists(page: Path) -> None:
    named = PATH_IN_CODE.findall(page.read_text(encoding="utf-8"))
    assert [path for path in named if not (ROOT / path).exists()] == []


def test_the_readme_stays_short() -> None:
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, "move the detail into a page of docs/"


def test_the_readmes_curl_answer_is_one_line_of_compact_json_as_the_server_sends_it() -> None:
    text = README.read_text(encoding="utf-8")
    command = "$ curl 'http://localhost:8000/articles/"
    answer = text.split(command, 1)[1].split("\n")[1]
    body = json.loads(answer)
    assert answer == json.dumps(body, separators=(",", ":"))  # as service/web/related_view.py
    assert body["ok"] is True and len(body["related"]) == body["k"]


def test_anchors_are_computed_as_github_does() -> None:
    page = "# The editors' page\n## `related tune`: ranks\n```\n# not a heading\n```\n## A\n## A\n"
    assert anchors(page) == {"the-editors-page", "related-tune-ranks", "a", "a-1"}
