"""Precomputed first answers (`service.related.precomputed`, `service.generations.answers`):
the build stores every article's default answer with the generation; a real server sends those
bytes for requests with the default options, the same bytes ranking gives, and an editorial
change shows at once."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from embeddings.hashing import HashingEncoder
from service.article import article_from_json
from service.build.builder import build
from service.config.settings import Settings
from service.generations.answers import FILES, StoredAnswers, id_hash
from service.generations.generation import current_name, read_manifest
from service.related.precomputed import PrecomputedAnswers
from service.store import ArticleStore
from service.web.app import create_app
from tests.conftest import HTTP_TIMEOUT, Server, load_sample_articles

HEATWAVE = "2026-03-02-heatwave-grid-record"


def stored_answers(settings: Settings) -> StoredAnswers:
    name = current_name(settings.generations_dir)
    assert name is not None
    answers = StoredAnswers.load(settings.generations_dir / name)
    assert answers is not None
    return answers


def get(server: Server, article_id: str, query: str = "", **headers: str) -> requests.Response:
    url = server.url(f"/articles/{article_id}/related{query}")
    return requests.get(url, headers=headers, timeout=HTTP_TIMEOUT)


def test_a_build_stores_every_articles_default_answer_with_the_generation(
    sample_copy: Settings,
) -> None:
    answers = stored_answers(sample_copy)
    ids = [a["id"] for a in load_sample_articles()]
    assert len(answers) == len(ids)
    with ArticleStore(sample_copy.db_path) as store:
        assert answers.made_from.versions == store.versions()
    body = answers.get(HEATWAVE)
    assert body is not None and body.endswith(b"\n")
    answer = json.loads(body)
    assert answer["ok"] is True and answer["article"]["id"] == HEATWAVE
    assert answer["source"] == "index" and len(answer["related"]) == sample_copy.options.k
    assert answers.get("no-such-article") is None
    # Checksummed with the rest of the generation, so replicas verify and copy it too.
    name = current_name(sample_copy.generations_dir)
    assert name is not None
    files = read_manifest(sample_copy.generations_dir, name).files
    assert set(FILES) <= set(files)


def test_the_server_sends_the_stored_bytes_and_ranking_gives_the_same(
    sample_copy: Settings, start_server: Callable[..., Server]
) -> None:
    server = start_server(sample_copy.data_dir, env={"RELATED_RESPONSE_CACHE": "0"})
    answers = stored_answers(sample_copy)
    ids = [a["id"] for a in load_sample_articles()]
    first = {}
    for article_id in ids:
        response = get(server, article_id)
        assert response.status_code == 200
        assert response.content == answers.get(article_id), article_id
        first[article_id] = (response.content, response.headers["ETag"])
    # Gzipped for a client that accepts it, the same answer once unzipped.
    zipped = get(server, HEATWAVE, **{"Accept-Encoding": "gzip"})
    assert zipped.headers.get("Content-Encoding") == "gzip"
    assert zipped.content == first[HEATWAVE][0]  # requests unzips it
    assert get(server, HEATWAVE, **{"If-None-Match": first[HEATWAVE][1]}).status_code == 304

    # A pin shows at once; taken back, the versions have moved past the stored answers', so
    # every answer is ranked again: the same bytes as the stored ones but for what names the
    # answer's making (its ETag and recommendation id, both of the versions).
    pinned = ids[-1]
    put = requests.put(
        server.url(f"/articles/{HEATWAVE}/pins"), json={"ids": [pinned]}, timeout=HTTP_TIMEOUT
    )
    assert put.status_code == 200, put.text
    assert get(server, HEATWAVE).json()["related"][0]["id"] == pinned
    requests.delete(server.url(f"/articles/{HEATWAVE}/pins"), timeout=HTTP_TIMEOUT)
    with ArticleStore(sample_copy.db_path) as store:
        assert store.versions() != answers.made_from.versions
    for article_id in ids:
        response = get(server, article_id)
        before = first[article_id][0]
        named, named_before = (
            json.loads(b)["recommendation_id"] for b in (response.content, before)
        )
        assert named != named_before
        assert response.content.replace(named.encode(), named_before.encode()) == before, article_id
        assert response.headers["ETag"] != first[article_id][1]  # other versions, other ETag


def test_options_that_change_the_list_are_ranked(
    sample_copy: Settings, start_server: Callable[..., Server]
) -> None:
    server = start_server(sample_copy.data_dir, env={"RELATED_RESPONSE_CACHE": "0"})
    stored = stored_answers(sample_copy).get(HEATWAVE)
    assert get(server, HEATWAVE, "?k=5").content == stored  # the default k, spelled out
    shorter = get(server, HEATWAVE, "?k=2").json()
    assert len(shorter["related"]) == 2
    explained = get(server, HEATWAVE, "?explain=true").json()
    assert "explanation" in explained["related"][0]
    titles = get(server, HEATWAVE, "?fields=title").json()
    assert set(titles["related"][0]) == {"id", "title", "score"}


def test_an_edit_after_the_build_shows_at_once(
    sample_copy: Settings, start_server: Callable[..., Server]
) -> None:
    server = start_server(sample_copy.data_dir)
    listed = get(server, HEATWAVE).json()["related"][0]["id"]
    article = requests.get(server.url(f"/articles/{listed}"), timeout=HTTP_TIMEOUT).json()
    edited = {**article["article"], "title": "Retitled after the build"}
    put = requests.put(server.url(f"/articles/{listed}"), json=edited, timeout=HTTP_TIMEOUT)
    assert put.status_code in (200, 201), put.text
    after = get(server, HEATWAVE).json()["related"]
    assert next(i for i in after if i["id"] == listed)["title"] == "Retitled after the build"


def test_settings_that_shape_an_answer_invalidate_the_stored_ones(
    sample_copy: Settings, start_server: Callable[..., Server]
) -> None:
    server = start_server(sample_copy.data_dir, env={"RELATED_DEFAULT_K": "3"})
    answer = get(server, HEATWAVE).json()
    assert answer["k"] == 3 and len(answer["related"]) == 3


def test_a_rebuild_stores_answers_at_the_new_versions(
    sample_copy: Settings, hashing: HashingEncoder
) -> None:
    with ArticleStore(sample_copy.db_path) as store:
        store.set_pins(HEATWAVE, [load_sample_articles()[-1]["id"]])
        build(sample_copy, store, hashing)
        answers = stored_answers(sample_copy)
        assert answers.made_from.versions == store.versions()
    body = answers.get(HEATWAVE)
    assert body is not None
    assert json.loads(body)["related"][0]["pinned"] is True


def test_ids_that_share_a_hash_bucket_are_told_apart(tmp_path: Path) -> None:
    from service.generations.answers import AnswerWriter, MadeFrom

    writer = AnswerWriter(tmp_path, MadeFrom((1, 2), "f"), variants=2)
    ids = [f"article-{i}" for i in range(200)] + ["é/ü", ""]
    for i, article_id in enumerate(ids):
        short = f'{{"id":"{article_id}","short":true}}\n'.encode() if i % 3 else None
        writer.add(article_id, [f'{{"id":"{article_id}"}}\n'.encode(), short])
    assert writer.finish() == len(ids)
    answers = StoredAnswers.load(tmp_path)
    assert answers is not None and answers.made_from == MadeFrom((1, 2), "f")
    assert answers.variants == 2
    for i, article_id in enumerate(ids):
        assert answers.get(article_id) == f'{{"id":"{article_id}"}}\n'.encode()
        short = answers.get(article_id, 1)
        assert short == (f'{{"id":"{article_id}","short":true}}\n'.encode() if i % 3 else None)
    assert answers.get("article-200") is None
    with pytest.raises(ValueError, match="1 answers for 2 variants"):
        writer.add("x", [b"{}"])
    assert isinstance(id_hash("x"), int)


def test_a_stored_answer_is_sent_as_stored_without_ranking(
    sample_copy: Settings, start_server: Callable[..., Server]
) -> None:
    """Seen by marking the stored bytes: the marked answer is what the server sends."""
    name = current_name(sample_copy.generations_dir)
    assert name is not None
    bodies = sample_copy.generations_dir / name / "answers.bytes"
    stored, embed_stored = (stored_answers(sample_copy).get(HEATWAVE, v) for v in (0, 1))
    assert stored is not None and embed_stored is not None
    marked = stored.replace(b'"source":"index"', b'"source":"INDEX"')
    embed_marked = embed_stored.replace(b'"source":"index"', b'"source":"INDEX"')
    content = bodies.read_bytes().replace(stored, marked).replace(embed_stored, embed_marked)
    bodies.write_bytes(content)
    server = start_server(sample_copy.data_dir, env={"RELATED_RESPONSE_CACHE": "0"})
    assert get(server, HEATWAVE).content == marked
    assert get(server, HEATWAVE, "?k=5").content == marked  # the defaults, through Flask
    # A smaller k is the stored answer's first items; other options are ranked.
    shorter = get(server, HEATWAVE, "?k=4").json()
    assert shorter["source"] == "INDEX" and shorter["k"] == 4
    assert [i["id"] for i in shorter["related"]] == [
        i["id"] for i in json.loads(marked)["related"][:4]
    ]
    # The embed's request (its visitor key no option) has an answer of its own; other fields
    # are cut from the default one.
    embed = get(server, HEATWAVE, "?fields=title,url,section,published&visitor=4f9c")
    assert embed.content == embed_marked
    # As the embed's URLSearchParams spells it, known before parsing; and in another order.
    spelled = "?fields=title%2Curl%2Csection%2Cpublished&visitor=4f9c2a"
    assert get(server, HEATWAVE, spelled).content == embed_marked
    assert get(server, HEATWAVE, "?visitor=x1&fields=title,url,section,published").content == (
        embed_marked
    )
    assert get(server, HEATWAVE, "?fields=title,url").json()["source"] == "INDEX"
    assert embed.json()["source"] == "INDEX" and set(embed.json()["related"][0]) == {
        "id",
        "title",
        "url",
        "section",
        "published",
        "score",
    }
    assert get(server, HEATWAVE, "?k=4&fields=title,body").json()["source"] == "index"
    assert get(server, HEATWAVE, "?k=4&include_body=true").json()["source"] == "index"


CUT_QUERIES = (
    "fields=title,url,section,published&visitor=4f9c2a7e",  # the embed's request
    "fields=title%2Curl%2Csection%2Cpublished&visitor=4f9c2a7e",  # as its script spells it
    "visitor=r%C3%A9ader&fields=title,url,section,published",  # a key that needs decoding
    "fields=title,url,section,published,image",  # with images: metadata is a field too
    "fields=title",
    "fields=url,score,pinned",  # what the ranking adds comes anyway, once, in its place
    "fields=nothing-stored",
    "k=2&fields=tags,lang",
)


def answers_cut_and_ranked(
    settings: Settings, hashing: HashingEncoder, monkeypatch: pytest.MonkeyPatch, urls: list[str]
) -> None:
    """Every URL answered from the stored answers, then ranked: the same bytes and ETag."""
    cut = create_app(settings, encoder=hashing).test_client()
    served = {url: cut.get(url) for url in urls}
    monkeypatch.setattr(PrecomputedAnswers, "body", lambda *args: None)  # every answer ranked
    ranked = create_app(settings, encoder=hashing).test_client()
    for url in urls:
        again = ranked.get(url)
        assert served[url].status_code == again.status_code, url
        assert served[url].data == again.data, url
        assert served[url].headers.get("ETag") == again.headers.get("ETag")


def test_a_smaller_k_cut_from_the_stored_answer_is_the_ranked_answer_byte_for_byte(
    sample_copy: Settings, hashing: HashingEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = replace(sample_copy, response_cache=0)
    ids = [a["id"] for a in load_sample_articles()]
    urls = [f"/articles/{i}/related?k={k}" for i in ids for k in range(1, settings.options.k)]
    answers_cut_and_ranked(settings, hashing, monkeypatch, urls)


def test_fewer_fields_picked_from_the_stored_answer_are_the_ranked_answer_byte_for_byte(
    sample_copy: Settings, hashing: HashingEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a pinned item among them, and through the HTML fragment too."""
    settings = replace(sample_copy, response_cache=0)
    ids = [a["id"] for a in load_sample_articles()]
    with ArticleStore(settings.db_path) as store:
        store.set_pins(HEATWAVE, [ids[-1]])
        build(settings, store, hashing, full=True)
    assert stored_answers(settings).made_from.projectable
    urls = [f"/articles/{i}/related?{query}" for i in ids for query in CUT_QUERIES]
    urls += [f"/articles/{i}/related.html?fields=title,url,section" for i in ids]
    # Read in front of Flask as Flask reads them: encoded, invalid bytes, repeats, errors.
    odd = ("fields=title%2Curl", "fields=ti%FFtle", "fields=title&fields=url", "k=x&fields=url")
    urls += [f"/articles/{HEATWAVE}/related?{query}" for query in odd]
    urls += [f"/articles/{HEATWAVE}/related?k=1&k=2&fields=url", "/articles/nope/related?k=1"]
    answers_cut_and_ranked(settings, hashing, monkeypatch, urls)
    client = create_app(settings, encoder=hashing).test_client()
    assert client.get(f"/articles/{HEATWAVE}/related?k=1&k=2").status_code == 400


def test_fields_are_ranked_where_an_articles_metadata_uses_an_items_key(
    sample_copy: Settings, hashing: HashingEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An article whose metadata holds `pinned` (which the ranking adds to an item): picking
    from the stored items could not tell the two apart, so the build says so and the server
    ranks such requests, with the same answers as ever."""
    settings = replace(sample_copy, response_cache=0)
    articles = load_sample_articles()
    with ArticleStore(settings.db_path) as store:
        with store.write() as writer:
            for data in articles:
                writer.upsert(article_from_json({**data, "pinned": False, "score": "A+"}))
        build(settings, store, hashing, full=True)
    assert not stored_answers(settings).made_from.projectable
    client = create_app(settings, encoder=hashing).test_client()
    answer = client.get(f"/articles/{HEATWAVE}/related?fields=title").get_json()
    assert answer["source"] == "index" and "pinned" not in answer["related"][0]
    urls = [f"/articles/{a['id']}/related?{query}" for a in articles for query in CUT_QUERIES]
    answers_cut_and_ranked(settings, hashing, monkeypatch, urls)


def test_builds_can_leave_the_answers_out(sample_copy: Settings, hashing: HashingEncoder) -> None:
    settings = sample_copy.replace(store_answers="false")
    with ArticleStore(settings.db_path) as store:
        build(settings, store, hashing, full=True)
    name = current_name(settings.generations_dir)
    assert name is not None
    assert StoredAnswers.load(settings.generations_dir / name) is None
    assert not any((settings.generations_dir / name / f).exists() for f in FILES)


def test_a_read_replica_ranks_instead(sample_copy: Settings) -> None:
    """A replica's versions are its own numbers, never the primary store's: no stored answer
    can be known valid there."""
    from service.generations.generation import Generation
    from service.related.precomputed import PrecomputedAnswers

    name = current_name(sample_copy.generations_dir)
    assert name is not None
    generation = Generation.load(sample_copy.generations_dir, name)
    versions = stored_answers(sample_copy).made_from.versions
    assert PrecomputedAnswers(sample_copy).body(generation, versions, HEATWAVE) is not None
    replica = sample_copy.replace(follow=str(sample_copy.data_dir / "published"))
    assert PrecomputedAnswers(replica).body(generation, versions, HEATWAVE) is None


def test_the_embed_asks_for_the_fields_whose_answers_are_stored() -> None:
    from service.related.precomputed import EMBED_FIELDS

    script = (Path(__file__).parents[1] / "service/web/embed/embed.js").read_text()
    assert f'var FIELDS = "{",".join(EMBED_FIELDS)}";' in script


def test_the_stored_variants_queries_are_known_by_their_bytes_and_nothing_else(
    tmp_path: Path,
) -> None:
    from service.config.options import parse_options
    from service.related.precomputed import EMBED_FIELDS
    from service.web.stored_queries import StoredQueries
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "data")
    embed_query = {"fields": ",".join(EMBED_FIELDS)}
    options = [parse_options({}, settings), parse_options(embed_query, settings)]
    queries = StoredQueries.of([{}, embed_query], options)
    embed = (1, options[1].to_json())
    for query in (
        b"fields=title,url,section,published",
        b"fields=title%2Curl%2Csection%2Cpublished&visitor=4f9c2a7e",
        b"visitor=abc&fields=title,url,section,published",
    ):
        assert queries.match(query) == embed, query
    for query in (
        b"",
        b"visitor=abc",
        b"fields=title,url",
        b"fields=title,url,section,published&k=3",
        b"fields=title,url,section,published&fields=title,url,section,published",
        b"fields=title,url,section,published&visitor=",
        b"fields=title,url,section,published&visitor=a%20b",  # decoding: the usual path
        b"fields=title,url,section,published&visitor=a&visitor=b",
        b"fields=title,url,section,published&visitor=" + b"x" * 1000,  # refused: reported
    ):
        assert queries.match(query) is None, query
