"""The chrome of one scraped page, in plain text: lines that are the site's, not the article's.

A scraped page's text keeps lines that vary from page to page, so the collection-wide filter of
repeated lines (`embeddings.chrome`) can't find them: the clock line (`02:58 GMT +3 15 December
2018`), a photo credit (`© Agency / Name`), share and comment widgets ("Listen Live", "Get short
URL"), the section label, a tags line repeating the article's tags, `READ MORE: <headline>`
lines and lines that are another article's title (a link's text left behind). They are left
out of what is encoded and compared (`ranked_article`), never out of the stored body, and the
block of other articles' titles at the foot of a page is the site's related box
(`foot_titles`), harvested as curated links.

Which texts are a scraped page's is decided once, here (`is_page_text`, `PageVerdict`): a text
with a page's own chrome lines (a clock line, a credit, a widget, a `READ MORE:` line). Only in
a collection where at least `SCRAPED_SHARE` of the articles are such texts are the article's own
title line and other articles' titles chrome; elsewhere (a publisher's own text, reference docs)
a line that is another article's title is a link's anchor text, evidence of what it relates to
(cppdocs_seealso: 1,701 such lines; leaving them out cost its nDCG@10 .035 for BM25). Likewise
a foot block of titles is harvested as a related box only from a page text.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from embeddings.chrome import Chrome
from service.article import Article
from service.store import ArticleStore

_WORDS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec "
    "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs "
    "fri sat sun "
    "gmt utc bst cet cest est edt pst pdt cst cdt msk ist jst am pm a.m. p.m. at on of the "
    "updated published posted last modified today yesterday ago min mins minutes hour hours "
    "h local time"
)
CLOCK_WORDS = frozenset(_WORDS.split(" "))
MONTH_WORDS = frozenset(_WORDS.split(" ")[:24])
"""The words of a clock or date line besides its numbers: months, weekdays, time zones."""
_CLOCK_TOKEN = re.compile(r"^[+-]?\d{1,4}([:./-]\d{1,4}){0,3}(st|nd|rd|th|h|z)?$", re.I)
CREDIT = re.compile(
    r"^\s*(©|\(c\)|copyright\b|photo\s*:|photos\s*:|photograph\s*:|picture\s*:|image\s*:|"
    r"credit\s*:|source\s*:|illustration\s*:|video\s*:|photo\s+by\b|image\s+by\b)",
    re.IGNORECASE,
)
"""Caption credits: `© Sputnik / Valeriy Melnikov`, `Photo: Ana Ruiz / Northport Daily`."""
MAX_CREDIT_CHARS = 160
WIDGETS = {
    "listen live",
    "get short url",
    "short url",
    "copy link",
    "share",
    "share this",
    "share this article",
    "share this story",
    "share on facebook",
    "share on twitter",
    "share on x",
    "tweet",
    "email",
    "print",
    "subscribe",
    "follow us",
    "add to favorites",
    "add to favourites",
    "comment",
    "comments",
    "show comments",
    "hide comments",
    "view comments",
    "leave a comment",
    "post a comment",
    "add a comment",
    "join the discussion",
    "join the conversation",
    "discussion",
    "community standards",
    "comment via facebook",
    "comment via sputnik",
    "to participate in the discussion log in or register",
    "log in or register",
    "advertisement",
    "sponsored",
    "loading",
    "most read",
    "most popular",
    "trending",
    "related",
    "see also",
    "read more",
    "further reading",
    "more on this",
    "back to top",
    "skip to content",
    "sign up",
}
"""Share and comment widgets, and the headings of boxes, once the links under them are gone."""
_COUNTED_WIDGET = re.compile(r"^\d+\s+(comments?|shares?|views?|replies)$")
LINK_LINE = re.compile(r"^\s*(read more|read also|also read|see also|related)\s*[:»>|-]\s*\S", re.I)
"""A link's label and the headline after it: `READ MORE: <another article's headline>`."""
TAGS_LINE = re.compile(r"^\s*(tags?|topics?|keywords?)\s*:", re.IGNORECASE)
MIN_TITLE_WORDS = 3
"""A line in the text is taken for another article's title only when the title has this many
words: a two-word title ("Weather warning") could be a line of any article. In the block of
headlines at a page's foot, shorter titles count too (their neighbours say what they are)."""


def normalized(text: str) -> str:
    """A line or a title as lines are compared: case, accents, spacing and end punctuation
    folded."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[\u2018\u2019\u201c\u201d\"'`]", "", text)
    return " ".join(text.split()).strip(" .,:;!?-–—|")


def is_clock_line(line: str) -> bool:
    """A line of dates and times only: `02:58 GMT +3 15 December 2018`, `Updated 3:45 PM`."""
    tokens = [t for t in re.split(r"[\s,|·•]+", line.strip().lower()) if t]
    if not tokens or len(tokens) > 12 or not any(ch.isdigit() for ch in line):
        return False
    if not all(t in CLOCK_WORDS or _CLOCK_TOKEN.match(t) for t in tokens):
        return False
    # A number alone ("2018", a list's value) is not a clock: a time, a month or a full date is.
    return any(
        t in MONTH_WORDS or re.match(r"^\d{1,2}:\d{2}|^\d{4}-\d{2}-\d{2}", t) for t in tokens
    )


def is_credit_line(line: str) -> bool:
    return len(line) <= MAX_CREDIT_CHARS and bool(CREDIT.match(line))


def is_widget_line(line: str) -> bool:
    text = normalized(line)
    return text in WIDGETS or bool(_COUNTED_WIDGET.match(text))


def is_tags_line(line: str, tags: Collection[str]) -> bool:
    """`Tags: a, b` or a line that is nothing but the article's tags (`drills, China, Russia`)."""
    if TAGS_LINE.match(line):
        return True
    wanted = {normalized(t) for t in tags}
    parts = [normalized(p) for p in re.split(r"[,|·•;]", line) if p.strip()]
    if not parts or not all(p in wanted for p in parts):
        return False
    return len(parts) >= 2 or len(parts) == len(wanted)


def is_link_line(line: str) -> bool:
    return bool(LINK_LINE.match(line))


def is_chrome_line(
    line: str, *, title: str = "", tags: Collection[str] = (), section: str = ""
) -> bool:
    """Whether one line of a page's text is the site's chrome (see the module's note)."""
    text = normalized(line)
    if not text:
        return True
    if (title and text == normalized(title)) or (section and text == normalized(section)):
        return True
    return (
        is_clock_line(line)
        or is_credit_line(line)
        or is_widget_line(line)
        or is_link_line(line)
        or is_tags_line(line, tags)
    )


TEXT_RULES = 2
"""The version of what `ranked_article` leaves out: part of a build's fingerprint, so a change
here makes the next build a full one (2: title rules only for page texts)."""
SCRAPED_SHARE = 0.3
"""The share of a collection's articles that must be page texts (`is_page_text`) for the title
rules to apply. Measured: auth0_blog 6%, cppdocs_seealso 0.6%, the bundled sample 0%, the
tests' scraped news site 100%."""


def is_page_text(body: str) -> bool:
    """Whether a text carries a scraped page's own chrome: a clock line, a credit, a widget or
    a `READ MORE:` line (a tags line alone does not: documents list their keywords too)."""
    return any(
        is_clock_line(line) or is_credit_line(line) or is_widget_line(line) or is_link_line(line)
        for line in body.splitlines()
        if line.strip()
    )


@dataclass(frozen=True)
class PageVerdict:
    """Whether a collection's texts are scraped pages', from a sample of its bodies."""

    page_share: float
    sampled: int

    @property
    def page_rules(self) -> bool:
        return self.sampled > 0 and self.page_share >= SCRAPED_SHARE

    @classmethod
    def of(cls, bodies: Sequence[str]) -> PageVerdict:
        pages = sum(1 for body in bodies if is_page_text(body))
        return cls(pages / len(bodies) if bodies else 0.0, len(bodies))


def text_rules(chrome: Chrome) -> dict[str, Any]:
    """What `GET /index` tells of the rules the generation's texts were read with."""
    return {
        "repeated_lines": len(chrome),
        "chrome_share": chrome.share,
        "page_rules": chrome.page_rules,
        "page_share": None if chrome.page_share is None else round(chrome.page_share, 4),
        "scraped_share": SCRAPED_SHARE,
    }


def clean_lines(
    body: str,
    *,
    title: str = "",
    tags: Collection[str] = (),
    section: str = "",
    is_title: Callable[[str], bool] | None = None,
) -> str:
    """`body` without its chrome lines; `is_title(line)` says a line is another article's
    title (a stored one, see `Titles`)."""
    kept = [
        line.strip()
        for line in body.splitlines()
        if not is_chrome_line(line, title=title, tags=tags, section=section)
        and not (is_title is not None and is_title(line))
    ]
    return "\n".join(kept)


class Titles:
    """The titles of the stored articles, as lines are compared (`normalized`)."""

    def __init__(self, titles: Iterable[tuple[str, str]]) -> None:
        self.ids: dict[str, str] = {}
        """Normalized title -> the id of the (first) article with it."""
        for article_id, title in titles:
            key = normalized(title)
            if key:
                self.ids.setdefault(key, article_id)

    def __len__(self) -> int:
        return len(self.ids)

    def id_of(self, line: str, *, min_words: int = 1) -> str | None:
        key = normalized(line)
        return self.ids.get(key) if len(key.split()) >= min_words else None

    def other_than(self, article_id: str) -> Callable[[str], bool]:
        """Whether a line is the title (of `MIN_TITLE_WORDS` or more) of another article."""

        def is_title(line: str) -> bool:
            found = self.id_of(line, min_words=MIN_TITLE_WORDS)
            return found is not None and found != article_id

        return is_title


EMPTY_TITLES = Titles(())
_STORED: dict[str, tuple[int, float, Titles]] = {}
"""Store path -> (revision, when read, its titles): read again once the store has changed."""
LIVE_TITLES_MAX_AGE = 30.0
"""Seconds a request answered live may use titles read before the latest write: under a
stream of writes, each worker reads every title at most this often, not once per write."""


def stored_titles(store: ArticleStore, *, max_age: float = 0.0) -> Titles:
    """The titles of the articles in `store`, read once per store revision (or, with
    `max_age`, kept that many seconds across revisions). A read replica's stand-in for the
    store keeps no titles: none there."""
    if not isinstance(store, ArticleStore):
        return EMPTY_TITLES
    revision = store.revision()
    cached = _STORED.get(str(store.path))
    now = time.monotonic()
    if cached is not None and (cached[0] == revision or now - cached[1] < max_age):
        return cached[2]
    titles = Titles((article_id, title) for article_id, _, title in store.labels())
    _STORED[str(store.path)] = (revision, now, titles)
    return titles


def ranked_article(article: Article, chrome: Chrome, titles: Titles = EMPTY_TITLES) -> Article:
    """The article as the ranking reads it: the collection's repeated chrome (`chrome`) and this
    page's chrome lines left out of its body (title lines only where `chrome.page_rules`). One function for builds, live answers and the
    `ranked` view, so what is shown is what was encoded and compared."""
    body = chrome.strip(article.body) if len(chrome) else article.body
    pages = chrome.page_rules
    body = clean_lines(
        body,
        title=article.title if pages else "",
        tags=article.tags,
        section=article.section or "",
        is_title=titles.other_than(article.id) if pages and len(titles) else None,
    )
    return replace(article, body=body)


VIEWS = ("stored", "ranked")
"""How an article is shown: as stored, or as the ranking read it (`ranked_view`)."""


def ranked_view(article: Article, store: ArticleStore, chrome: Chrome | None) -> dict[str, Any]:
    """The article's JSON with `body` replaced by the text that was encoded and compared:
    `chrome` is the current generation's (None before the first build)."""
    ranked = ranked_article(article, chrome or Chrome(), stored_titles(store))
    return {**article.to_json(), "body": ranked.body}


MAX_FOOT_LINES = 20
MAX_FOOT_LINE_CHARS = 200


def foot_lines(article: Article) -> tuple[str, ...]:
    """The short lines at the foot of the article's body, its own chrome lines (widgets, its
    tags line) left out: where a scraped page's related headlines sit. Cheap to keep for
    every article of a large ingest, and empty for a body that ends in prose or that is not a
    page text (`is_page_text`: a document's closing list of titles is its links, not a box)."""
    if not is_page_text(article.body):
        return ()
    lines: list[str] = []
    for line in reversed(article.body.splitlines()):
        text = line.strip()
        if is_chrome_line(
            text, title=article.title, tags=article.tags, section=article.section or ""
        ):
            continue
        if len(text) > MAX_FOOT_LINE_CHARS or len(lines) >= MAX_FOOT_LINES:
            break
        lines.append(text)
    return tuple(reversed(lines))


def foot_titles(body: str | Sequence[str], titles: Titles, article_id: str) -> list[str]:
    """The ids of the block of other articles' titles at the foot of `body` (or of the
    article's `foot_lines`), in order: a scraped page's related box. Chrome lines (tags,
    widgets) may sit among and after them."""
    lines = body.splitlines() if isinstance(body, str) else list(body)
    found: list[str] = []
    for line in reversed(lines):
        target = titles.id_of(line)
        if target is not None and target != article_id:
            if target not in found:
                found.append(target)
            continue
        if is_chrome_line(line) or TAGS_LINE.match(line) or _looks_like_tags(line):
            continue
        break
    return found[::-1]


def _looks_like_tags(line: str) -> bool:
    """A short comma-separated list of short labels, with no sentence in it."""
    parts = [p.strip() for p in line.split(",")]
    return (
        len(parts) >= 2
        and len(line) <= 200
        and all(0 < len(p.split()) <= 4 and not p.endswith(".") for p in parts)
    )
