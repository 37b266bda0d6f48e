"""`GET /articles/<id>/related.html` (`service.web.embed.fragment`): a semantic list with every
value escaped and only http(s) links, the JSON answer's list, ETag rules and errors, and a
template the data directory can override (escaping kept on, a broken one named with its line)."""

from __future__ import annotations

import gzip
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient

from embeddings.hashing import HashingEncoder
from service.config.settings import Settings
from service.web.app import create_app
from tests.conftest import HEATWAVE
from tests.lists import ids, related

HOSTILE = {
    "id": "hostile",
    "title": '<script>alert("t")</script> & "quotes" <b>bold</b>',
    "url": "javascript:alert(1)",
    "image": "data:text/html,<script>alert(2)</script>",
    "section": "<i>Climate</i>",
    "body": "Heatwave pushes the electricity grid to a record demand.",
}


class Tree(HTMLParser):
    """The fragment as (tag, attributes) in document order, and its text by element."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[tuple[str, str]] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag != "img":
            self.open.append(dict(attrs).get("class") or tag)

    def handle_endtag(self, tag: str) -> None:
        self.open.pop()

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append((self.open[-1] if self.open else "", data))


def parse(html: str) -> Tree:
    tree = Tree()
    tree.feed(html)
    tree.close()
    return tree


def fragment(client: FlaskClient, article_id: str = HEATWAVE, **params: Any) -> Any:
    return client.get(f"/articles/{article_id}/related.html", query_string=params)


def titles(tree: Tree) -> list[str]:
    return [text for where, text in tree.text if where == "ra-title"]


def test_the_fragment_lists_the_json_answer_as_a_headed_list(client: FlaskClient) -> None:
    response = fragment(client, k=3, section="Climate")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    answer = related(client, k=3, section="Climate")
    tree = parse(response.get_data(as_text=True))
    tags = [tag for tag, _ in tree.tags]
    assert tags[:3] == ["aside", "h2", "ul"]
    aside = tree.tags[0][1]
    assert aside["aria-labelledby"] == tree.tags[1][1]["id"]
    assert aside["data-related-article"] == HEATWAVE
    assert aside["data-recommendation-id"] == answer["recommendation_id"]
    assert aside["data-variant"] == answer["variant"] == "defaults"
    assert titles(tree) == [item["title"] for item in answer["related"]]
    links = [attrs for tag, attrs in tree.tags if tag == "a"]
    # An article without a url (the undated explainer) is listed as text.
    assert [a["href"] for a in links] == [i["url"] for i in answer["related"] if i.get("url")]
    items = [attrs for tag, attrs in tree.tags if tag == "li"]
    assert [i["data-related-id"] for i in items] == ids(answer)
    assert [i["data-position"] for i in items] == ["0", "1", "2"]
    assert "img" not in tags
    with_images = parse(fragment(client, k=3, images="true", heading="More").get_data(as_text=True))
    assert [a["src"] for t, a in with_images.tags if t == "img"] == [
        item["image"] for item in related(client, k=3)["related"] if item.get("image")
    ]
    assert ("ra-heading", "More") in with_images.text


def test_every_value_is_escaped_and_only_http_links_are_made(client: FlaskClient) -> None:
    assert client.post("/articles", json=HOSTILE).status_code == 201
    assert client.put(f"/articles/{HEATWAVE}/pins", json={"ids": ["hostile"]}).status_code == 200
    html = fragment(client, k=3, images="true").get_data(as_text=True)
    assert "<script" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;" in html
    assert "javascript:" not in html and "data:text" not in html
    tree = parse(html)
    assert titles(tree)[0] == HOSTILE["title"]  # the text a reader sees, intact
    first = next(attrs for tag, attrs in tree.tags if tag == "li")
    assert first["data-related-id"] == "hostile"
    # Listed, but as text: the first item holds a span, not a link.
    assert [t for t, _ in tree.tags[3:6]] == ["li", "span", "span"]


def test_the_fragment_follows_the_json_answers_etag_rules(client: FlaskClient) -> None:
    first = fragment(client, k=4)
    etag = first.headers["ETag"]
    json_answer = client.get(f"/articles/{HEATWAVE}/related", query_string={"k": 4})
    assert etag.startswith('W/"') and etag != json_answer.headers["ETag"]
    assert first.headers["Cache-Control"] == json_answer.headers["Cache-Control"]
    again = client.get(f"/articles/{HEATWAVE}/related.html?k=4", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    assert fragment(client, k=3).headers["ETag"] != etag
    # A change to the list (a pin) is a new ETag and a new body.
    target = ids(related(client, k=4))[-1]
    assert client.put(f"/articles/{HEATWAVE}/pins", json={"ids": [target]}).status_code == 200
    changed = client.get(f"/articles/{HEATWAVE}/related.html?k=4", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert (
        titles(parse(changed.get_data(as_text=True)))[0]
        == related(client, k=4)["related"][0]["title"]
    )
    zipped = client.get(
        f"/articles/{HEATWAVE}/related.html?k=10", headers={"Accept-Encoding": "gzip"}
    )
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert b"ra-list" in gzip.decompress(zipped.data)


def test_errors_are_the_json_error_shape(client: FlaskClient) -> None:
    missing = fragment(client, "no-such-article")
    assert missing.status_code == 404
    assert missing.get_json()["code"] == "article_not_found"
    for params, name in (
        ({"images": "maybe"}, "images"),
        ({"k": "0"}, "k"),
        ({"heading": " "}, "heading"),
        ({"colour": "red"}, "colour"),
    ):
        body = fragment(client, **params).get_json()
        assert body["ok"] is False and body["status"] == 400, body
        assert body["code"] == "invalid_parameter" and repr(name) in body["error"], body


def test_a_template_in_the_data_directory_replaces_the_default_and_still_escapes(
    client: FlaskClient, settings: Settings
) -> None:
    assert client.post("/articles", json=HOSTILE).status_code == 201
    assert client.put(f"/articles/{HEATWAVE}/pins", json={"ids": ["hostile"]}).status_code == 200
    default = fragment(client, k=2)
    folder: Path = settings.data_dir / "templates"
    folder.mkdir()
    (folder / "related.html").write_text(
        '<nav class="mine">{% for item in related %}<p>{{ item.title }}|{{ item.author }}'
        "</p>{% endfor %}</nav>\n"
    )
    mine = fragment(client, k=2)
    html = mine.get_data(as_text=True)
    assert html.startswith('<nav class="mine"><p>&lt;script&gt;alert(&#34;t&#34;)')
    assert mine.headers["ETag"] != default.headers["ETag"]

    (folder / "related.html").write_text("<ul>{% for item in related %}<li>{{ item.title }</ul>\n")
    broken = fragment(client, k=2)
    body = broken.get_json()
    assert broken.status_code == 500 and body["code"] == "invalid_configuration"
    assert "related.html line 1" in body["error"], body

    (folder / "related.html").unlink()
    assert fragment(client, k=2).get_data() == default.get_data()


@pytest.mark.parametrize("suffix", ["related.html"])
def test_ids_may_not_end_in_the_fragment_name(client: FlaskClient, suffix: str) -> None:
    body = client.post("/articles", json={"id": f"a/{suffix}", "title": "t"}).get_json()
    assert body["ok"] is False and f"/{suffix}" in str(body)


def test_with_click_tracking_links_go_through_the_service_to_the_stored_url(
    settings: Settings, hashing: HashingEncoder
) -> None:
    client = create_app(replace(settings, click_tracking=True), encoder=hashing).test_client()
    answer = related(client, k=3)
    tree = parse(fragment(client, k=3).get_data(as_text=True))
    hrefs = [attrs["href"] for tag, attrs in tree.tags if tag == "a"]
    with_url = [item for item in answer["related"] if item.get("url")]
    assert len(hrefs) == len(with_url)
    for position, (href, item) in enumerate(zip(hrefs, with_url, strict=True)):
        assert href is not None and href.startswith("http://localhost/go/")
        query = parse_qs(urlsplit(href).query)
        assert query["rid"] == [answer["recommendation_id"]]
        assert query["v"] == ["defaults"]
        assert query["pos"] == [str(answer["related"].index(item))]
        followed = client.get(href.removeprefix("http://localhost"))
        assert followed.status_code == 302, (position, followed.get_data(as_text=True))
        assert followed.headers["Location"] == item["url"]


def test_the_json_answers_and_the_fragment_name_the_same_list(client: FlaskClient) -> None:
    """GET, POST (options in a body) and the fragment: one list, one recommendation id."""
    got = related(client, k=3, section="Climate")
    posted = client.post(
        f"/articles/{HEATWAVE}/related", json={"k": 3, "section": ["Climate"]}
    ).get_json()
    html = fragment(client, k=3, section="Climate").get_data(as_text=True)
    aside = parse(html).tags[0][1]
    assert ids(posted) == ids(got)
    assert posted["recommendation_id"] == got["recommendation_id"]
    assert aside["data-recommendation-id"] == got["recommendation_id"]
    assert posted["variant"] == got["variant"] == aside["data-variant"] == "defaults"
    assert related(client, k=4)["recommendation_id"] != got["recommendation_id"]
