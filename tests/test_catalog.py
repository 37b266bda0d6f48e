"""`service.web.editors` (the editors' page's own JSON) and the `/ui/` pages, over HTTP in process."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from embeddings.hashing import HashingEncoder
from service.web.app import create_app
from tests.conftest import COPY, GERMAN, HEATWAVE, UNDATED, ingest_file, make_settings

ROOT = Path(__file__).resolve().parent.parent


def search(client: FlaskClient, **params: Any) -> dict[str, Any]:
    response = client.get("/catalog/articles", query_string=params)
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def every_page(client: FlaskClient, **params: Any) -> list[dict[str, Any]]:
    first = search(client, **params, per_page=7)
    found = list(first["articles"])
    for page in range(2, first["pages"] + 1):
        found += search(client, **params, per_page=7, page=page)["articles"]
    assert len(found) == first["total"]
    return found


def test_search_matches_every_word_in_the_title_or_id_newest_first(client: FlaskClient) -> None:
    everything = every_page(client)
    assert len(everything) == 69 and everything[-1]["id"] == UNDATED  # undated last
    dates = [a["published"] for a in everything if a["published"]]
    assert dates == sorted(dates, reverse=True)
    assert "body" not in everything[0] and {"curated", "pins"} <= set(everything[0])

    found = every_page(client, q="HEATWAVE record")
    assert {a["id"] for a in found} == {HEATWAVE, COPY}
    for article in every_page(client, q="heatwave"):
        assert "heatwave" in (article["title"] + article["id"]).lower()
    assert [a["id"] for a in every_page(client, q="hitzewelle-strom")] == [GERMAN]
    # LIKE's wildcards are escaped: a '%' or '_' is looked for as it is.
    assert search(client, q="%")["total"] == 0 and search(client, q="_")["total"] == 0

    assert client.put("/articles/ueber", json={"title": "Über die Brücke"}).status_code == 201
    assert [a["id"] for a in search(client, q="über brücke")["articles"]] == ["ueber"]


def test_sections_list_and_filter(client: FlaskClient) -> None:
    client.put("/articles/no-section", json={"title": "An article without a section"})
    sections = client.get("/catalog/sections").get_json()["sections"]
    assert sum(s["articles"] for s in sections) == 70
    assert {"name": "", "articles": 1} in sections
    climate = next(s for s in sections if s["name"] == "Climate")
    found = every_page(client, section="Climate")
    assert len(found) == climate["articles"] and {a["section"] for a in found} == {"Climate"}
    assert [a["id"] for a in search(client, section="")["articles"]] == ["no-section"]
    assert search(client, q="heatwave", section="Health")["total"] == 1


def test_bad_parameters_are_refused_by_name(client: FlaskClient) -> None:
    for params, name in (
        ({"page": "0"}, "page"),
        ({"per_page": "500"}, "per_page"),
        ({"per_page": "x"}, "per_page"),
        ({"sort": "title"}, "sort"),
        ({"q": " ".join("w" * 11)}, "q"),
    ):
        response = client.get("/catalog/articles", query_string=params)
        body = response.get_json()
        assert response.status_code == 400 and body["code"] == "invalid_parameter", params
        assert repr(name) in body["error"], body
    assert client.get(f"/catalog/articles/{HEATWAVE}/review?k=0").status_code == 400


def test_review_places_each_curated_link_in_the_list_as_served(client: FlaskClient) -> None:
    deep = client.get(f"/articles/{HEATWAVE}/related?k=50").get_json()["related"]
    assert len(deep) >= 8  # only articles above a typical one: not 50 on the sample
    near, far, blocked, banned = (deep[i]["id"] for i in (1, len(deep) - 1, 2, 3))
    client.put(f"/articles/{HEATWAVE}/curated", json={"ids": [far, "gone", near]})
    client.put(f"/articles/{HEATWAVE}/pins", json={"ids": [far]})
    client.put(f"/articles/{HEATWAVE}/blocks", json={"ids": [blocked]})
    client.put("/blocks", json={"ids": [banned]})

    review = client.get(f"/catalog/articles/{HEATWAVE}/review").get_json()
    served = client.get(f"/articles/{HEATWAVE}/related?k=50").get_json()["related"]
    place = {item["id"]: i for i, item in enumerate(served, start=1)}
    assert review["k"] == 5 and review["depth"] == 50 and review["index"]["ready"] is True
    links = {link["id"]: link for link in review["curated"]}
    assert [link["id"] for link in review["curated"]] == [far, "gone", near]
    assert links[far]["rank"] == 1 and links[far]["found"] is True  # pinned first
    assert links[near]["rank"] == place[near] and links[near]["found"] is (place[near] <= 5)
    assert links["gone"] == {
        "id": "gone",
        "in_store": False,
        "grade": 1.0,
        "rank": None,
        "found": False,
    }
    assert review["found"] == sum(1 for link in review["curated"] if link["found"])
    assert links[far]["title"] and "body" not in links[far]
    assert [p["id"] for p in review["pins"]] == [far] and review["pins"][0]["in_store"]
    assert [(b["id"], b["in_store"]) for b in review["blocks"]] == [(blocked, True)]
    assert [b["id"] for b in review["global_blocks"]] == [banned]

    narrow = client.get(f"/catalog/articles/{HEATWAVE}/review?k=1").get_json()
    assert narrow["found"] == 1 and narrow["k"] == 1


def test_review_of_unknown_and_path_like_ids(client: FlaskClient) -> None:
    for path in ("/catalog/articles/nope/review", "/catalog/articles/a%2Fb/review"):
        body = client.get(path).get_json()
        assert body["code"] == "article_not_found"
    assert "'a/b'" in client.get("/catalog/articles/a%2Fb/review").get_json()["error"]


def test_review_without_an_index_still_lists_the_curated_links(
    tmp_path: Path, hashing: HashingEncoder
) -> None:
    settings = make_settings(tmp_path / "data")
    ingest_file(settings)
    client = create_app(settings, encoder=hashing).test_client()
    client.put(f"/articles/{HEATWAVE}/curated", json={"ids": [COPY]})
    review = client.get(f"/catalog/articles/{HEATWAVE}/review").get_json()
    assert review["index"]["ready"] is False and review["index"]["code"] == "index_not_ready"
    assert review["curated"] == [
        {"id": COPY, "in_store": False, "grade": 1.0, "rank": None, "found": False}
    ]


def test_the_pages_are_served_with_a_strict_policy(client: FlaskClient) -> None:
    for path, view in (
        ("/ui/", "find"),
        ("/ui/articles/a%2Fb", "article"),
        ("/ui/articles/sport/2026/final", "article"),
        ("/ui/draft", "draft"),
        ("/ui/collection", "collection"),
    ):
        response = client.get(path)
        assert response.status_code == 200 and response.mimetype == "text/html", path
        assert f'data-view="{view}"' in response.get_data(as_text=True)
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert client.get("/ui").status_code == 308
    with client.get("/ui/static/js/app.js") as script:  # a file response: close it
        assert script.status_code == 200 and "javascript" in script.mimetype
    missing = client.get("/ui/nowhere")
    assert missing.status_code == 404 and missing.get_json()["code"] == "not_found"


def test_every_asset_of_the_page_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["service.ui"]
    package = ROOT / "service" / "ui"
    assets = [p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file()]
    assets = [a for a in assets if not a.endswith((".py", ".pyc"))]
    assert assets
    for asset in assets:
        assert any(fnmatch.fnmatch(asset, pattern) for pattern in patterns), asset
    html = (package / "templates" / "related_ui.html").read_text()
    assert "http" not in html.replace("http-equiv", ""), "the page loads nothing from elsewhere"
