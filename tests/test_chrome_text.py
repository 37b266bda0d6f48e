"""The chrome of a scraped page in plain text (`service.ingest.chrome`): left out of what is
ranked, never out of the stored body; the foot block of other articles' titles harvested as
the article's curated links."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embeddings.chrome import Chrome
from service.article import Article
from service.ingest.chrome import (
    SCRAPED_SHARE,
    PageVerdict,
    Titles,
    clean_lines,
    foot_titles,
    is_clock_line,
    is_credit_line,
    is_tags_line,
    is_widget_line,
    ranked_article,
    stored_titles,
)
from service.ingest.files import read_records
from service.ingest.harvest import ingest_harvests
from service.ingest.load import ingest
from service.ingest.page import Harvest
from service.store import ArticleStore
from tests.sitegen import load_site, scraped_records


@pytest.mark.parametrize(
    "line",
    [
        "02:58 GMT +3 15 December 2018",
        "Updated 3:45 PM EST",
        "Dec 15, 2018, 10:00",
        "2018-12-15 02:58",
        "Monday 7 January 2019 09:30 GMT",
    ],
)
def test_clock_and_date_lines_are_chrome(line: str) -> None:
    assert is_clock_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "The meeting on 15 December 2018 ended at 02:58 without a deal.",
        "2018",
        "In 2018 the city spent 40 million on trams.",
        "December",
    ],
)
def test_sentences_with_dates_are_not_clock_lines(line: str) -> None:
    assert not is_clock_line(line)


def test_credits_widgets_and_tags_lines_are_recognised_and_prose_is_not() -> None:
    assert is_credit_line("© Sputnik / Valeriy Melnikov")
    assert is_credit_line("Photo: Ana Ruiz / Northport Daily")
    assert not is_credit_line("Copyrights of photographers were discussed at length. " * 5)
    for widget in ("Listen Live", "Get short URL", "Comment via Facebook", "12 comments"):
        assert is_widget_line(widget)
    assert not is_widget_line("Readers shared the story widely and left many comments.")
    tags = ("drills", "Chinese Defense Ministry", "China", "Russia")
    assert is_tags_line("drills, Chinese Defense Ministry, China, Russia", tags)
    assert is_tags_line("Tags: anything at all", ())
    assert not is_tags_line("China, Russia and others held drills.", tags)
    assert not is_tags_line("China", tags)  # one of several tags alone could be a heading


def test_the_scraped_page_of_the_issue_keeps_only_its_prose() -> None:
    titles = Titles(
        [
            ("a", "Russia and China hold joint naval drills"),
            ("b", "Pentagon reviews Pacific posture"),
        ]
    )
    body = "\n".join(
        [
            "02:58 GMT +3 15 December 2018",
            "Listen Live",
            "ASIA",
            "© Sputnik / Valeriy Melnikov",
            "Get short URL",
            "The two navies will practise anti-submarine warfare next week.",
            "READ MORE: Pentagon reviews Pacific posture",
            "Officials said the drills were planned a year ago.",
            "Russia and China hold joint naval drills",
            "Pentagon reviews Pacific posture",
            "drills, Chinese Defense Ministry, China, Russia",
            "Community standards",
            "Discussion",
        ]
    )
    kept = clean_lines(
        body,
        title="Navies prepare",
        tags=("drills", "Chinese Defense Ministry", "China", "Russia"),
        section="Asia",
        is_title=titles.other_than("c"),
    )
    assert kept == (
        "The two navies will practise anti-submarine warfare next week.\n"
        "Officials said the drills were planned a year ago."
    )
    assert foot_titles(body, titles, "c") == ["a", "b"]
    assert foot_titles(body, titles, "a") == ["b"]  # never the article itself


def test_ranked_article_strips_repeated_and_page_chrome_and_keeps_the_stored_body() -> None:
    article = Article(id="x", title="A title", body="Listen Live\nSite footer line\nThe story.")
    ranked = ranked_article(article, Chrome(["site footer line"]))
    assert article.body.startswith("Listen Live")
    assert ranked.body in ("Site footer line\nThe story.", "The story.")
    assert "Listen Live" not in ranked.body


def test_scraped_text_is_stored_as_sent_ranked_clean_and_its_foot_headlines_become_curated(
    tmp_path: Path,
) -> None:
    site = load_site()
    records = scraped_records(site)
    with ArticleStore(tmp_path / "store.sqlite3") as store:
        report = ingest_harvests(
            store, [Harvest(r, (), f"line {i}") for i, r in enumerate(records)]
        )
        assert report.stored == len(records) and not report.failed
        titles = stored_titles(store)
        hits = found = wanted = 0
        for article, record in zip(site.articles, records, strict=True):
            stored = store.get(article.page_id)
            assert stored is not None and stored.article.body == record["body"]
            ranked = ranked_article(stored.article, Chrome(), titles)
            assert ranked.body == article.clean_body, article.id
            got = [t for t, _ in store.curated(article.page_id)]
            want = site.related_pages(article)
            hits += len(set(got) & set(want))
            found, wanted = found + len(got), wanted + len(want)
        assert wanted > 100 and hits / found >= 0.95 and hits / wanted >= 0.95
        assert report.curated_links == found


def test_a_records_file_of_scraped_text_gives_the_same_curated_links(tmp_path: Path) -> None:
    site = load_site()
    jsonl = tmp_path / "scraped.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in scraped_records(site)))
    with ArticleStore(tmp_path / "store.sqlite3") as store:
        report = ingest(store, read_records(jsonl))
        assert report.curated_links == sum(len(a.related) for a in site.articles)
        for article in site.articles:
            assert [t for t, _ in store.curated(article.page_id)] == site.related_pages(article)
    with ArticleStore(tmp_path / "off.sqlite3") as store:
        assert ingest(store, read_records(jsonl), curated=False).curated_links == 0
        assert store.curated_counts() == (0, 0)


def _reference_docs() -> list[dict[str, str]]:
    """Pages of reference docs: their own title on the first line, and other pages' titles as
    lines (a list of members, link texts), the last of them at the foot; no page chrome."""
    names = [f"Widget{n} Class reference page" for n in range(6)]
    return [
        {
            "id": f"w{n}",
            "title": name,
            "body": f"{name}\nThe widget draws part {n} of the frame.\nMembers\n"
            + "\n".join(names[(n + step) % 6] for step in (1, 2)),
        }
        for n, name in enumerate(names)
    ]


def test_title_lines_are_chrome_only_in_a_collection_of_scraped_pages() -> None:
    docs = [Article(**r) for r in _reference_docs()]
    scraped = [
        Article(id=r["id"], title=r["title"], body=r["body"]) for r in scraped_records(load_site())
    ]
    verdict = PageVerdict.of([a.body for a in docs])
    assert verdict.page_share == 0.0 and not verdict.page_rules
    assert PageVerdict.of([a.body for a in scraped]).page_share >= SCRAPED_SHARE
    assert not PageVerdict.of([]).page_rules
    titles = Titles((a.id, a.title) for a in docs)
    chrome = Chrome().with_verdict(verdict.page_rules, verdict.page_share)
    ranked = ranked_article(docs[0], chrome, titles)
    # The own title and the other pages' titles stay: they are what the page links to.
    assert ranked.body == docs[0].body
    as_pages = ranked_article(docs[0], Chrome().with_verdict(True, 1.0), titles)
    assert as_pages.body == "The widget draws part 0 of the frame.\nMembers"


def test_a_document_ending_in_other_titles_gives_no_curated_links(tmp_path: Path) -> None:
    jsonl = tmp_path / "docs.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in _reference_docs()))
    with ArticleStore(tmp_path / "store.sqlite3") as store:
        assert ingest(store, read_records(jsonl)).curated_links == 0
        report = ingest_harvests(store, [Harvest(r, (), "x") for r in _reference_docs()])
        assert report.curated_links == 0 and store.curated_counts() == (0, 0)
