"""The links inside articles' bodies: the links signal (`embeddings.signals.link_document`) and
the weak labels `related tune --from links` learns from (`service.quality.body_links`)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from embeddings.hashing import HashingEncoder
from embeddings.lexical import LexicalModel
from embeddings.signals import ItemText, link_document
from service.article import Article
from service.build.builder import build
from service.cli import cli
from service.config.settings import load_settings
from service.quality.body_links import body_link_labels
from service.quality.profiles import active_profile
from service.services import Services
from service.store import ArticleStore
from tests.conftest import SAMPLE_ARTICLES, SAMPLE_RELATED

HASHING = {"RELATED_MODEL": "hashing"}


def item(name: str, *links: str) -> ItemText:
    return ItemText(name, "", names=(name, f"https://example.com/{name}/"), links=links)


def test_two_items_share_a_link_token_when_one_links_the_other_or_both_link_a_third() -> None:
    items = [
        item("a", "b"),  # a links b
        item("b"),
        item("c", "https://example.com/d#usage"),  # c and e link d, one by URL
        item("d"),
        item("e", "https://example.com/d"),
        item("f"),
    ]
    _, rows = LexicalModel.fit([link_document(i) for i in items], "links")
    cosine = (rows @ rows.T).toarray()
    assert cosine[0, 1] > 0  # a direct link
    assert cosine[2, 3] > 0 and cosine[4, 3] > 0  # by URL: fragment and slash dropped
    assert cosine[2, 4] > 0  # a shared target, written the same way
    assert cosine[0, 2] == 0 and cosine[1, 5] == 0 and not rows[5].nnz  # f: linked by nobody


def test_body_link_labels_resolve_ids_and_urls_and_count_the_rest() -> None:
    articles = [
        Article("a", "A", links=("b", "https://site/c/", "https://elsewhere/x", "a", "b")),
        Article("b", "B", url="https://site/b"),
        Article("c", "C", url="https://site/c", links=("https://site/b#top",)),
    ]
    found = body_link_labels(articles)
    assert found.links == {"a": {"b": 1.0, "c": 1.0}, "c": {"b": 1.0}}
    assert (found.written, found.unresolved, found.resolved) == (6, 1, 3)


def generated_collection(count: int = 40, seed: int = 3) -> list[dict[str, object]]:
    """Articles of random words, none alike, each even one linking the next."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(400)]
    records: list[dict[str, object]] = []
    for i in range(count):
        body = " ".join(rng.choice(words) for _ in range(60))
        record: dict[str, object] = {"id": f"p{i}", "title": f"Page {i}", "body": body}
        if i % 2 == 0:
            record["links"] = [f"p{i + 1}"]
        records.append(record)
    return records


def build_generated(tmp_path: Path, hashing: HashingEncoder, weight: str) -> Services:
    records = tmp_path / f"generated-{weight}.jsonl"
    records.write_text("".join(json.dumps(r) + "\n" for r in generated_collection()))
    settings = load_settings(
        environ={"RELATED_WEIGHT_LINKS": weight},
        data_dir=tmp_path / f"data-{weight}",
        preload_model=False,
        model="hashing",
    )
    from service.ingest.files import read_records
    from service.ingest.load import ingest

    with ArticleStore(settings.db_path) as store:
        ingest(store, read_records(records))
        build(settings, store, hashing)
    return Services.open(settings, encoder=hashing)


def test_the_links_signal_ranks_the_linked_page_first_when_it_has_weight(
    tmp_path: Path, hashing: HashingEncoder
) -> None:
    linked_first = {}
    for weight in ("0", "2"):
        services = build_generated(tmp_path, hashing, weight)
        first = {i: services.recommender.related(f"p{i}").items[0].article.id for i in range(40)}
        linked_first[weight] = np.mean([first[i] == f"p{i + 1}" for i in range(0, 40, 2)])
        if weight == "2":  # the link counts both ways: p1 is linked from p0
            assert all(first[i + 1] == f"p{i}" for i in range(0, 40, 2))
    assert linked_first["0"] < 0.5 and linked_first["2"] == 1.0


def invoke(*args: str, code: int = 0) -> str:
    result = CliRunner(env=HASHING).invoke(cli, list(args))
    assert result.exit_code == code, result.output
    return result.output


def sample_with_body_links(tmp_path: Path) -> Path:
    """The bundled sample, each article linking in its body what its curated list names (every
    other one by URL) and one page of another site."""
    related = {
        row["id"]: row["related"]
        for row in map(json.loads, SAMPLE_RELATED.read_text().splitlines())
    }
    rows = [json.loads(line) for line in SAMPLE_ARTICLES.read_text().splitlines() if line]
    url = {row["id"]: row.get("url") or row["id"] for row in rows}
    for row in rows:
        targets = related.get(row["id"], [])
        row["links"] = [url[t] if n % 2 else t for n, t in enumerate(targets)]
        row["links"].append("https://elsewhere.example/about")
    path = tmp_path / "articles.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_tune_learns_from_body_links_when_asked_and_never_by_itself(tmp_path: Path) -> None:
    directory = str(tmp_path / "data")
    invoke("ingest", str(sample_with_body_links(tmp_path)), "--data-dir", directory)
    invoke("build", "--quiet", "--data-dir", directory)
    refused = invoke("tune", "--data-dir", directory, code=2)
    assert "No curated links are stored" in refused and "--from links" in refused
    output = invoke("tune", "--from", "links", "--folds", "3", "--quiet", "--data-dir", directory)
    assert "learning from the body links (145 of 211 name another stored article)" in output
    assert "body links), 3-fold" in output and "learned, out of fold" in output
    profile = active_profile(tmp_path / "data")
    assert profile is not None and profile.learned["labels"] == "links"
    assert profile.learned["links"] == 145 and profile.weights["links"] > 0

    # Scored against curated links it never saw: the lists it serves, the defaults beside them.
    invoke("build", "--quiet", "--data-dir", directory)
    result = json.loads(
        invoke("evaluate", str(SAMPLE_RELATED), "--json", "--quiet", "--data-dir", directory)
    )
    assert "learned from the body links" in result["service_ranking"]
    methods = result["methods"]
    assert methods["service"]["ndcg@10"] > methods["defaults"]["ndcg@10"]

    # Curated links stored: `related tune` learns from them.
    invoke("curated", "import", str(SAMPLE_RELATED), "--data-dir", directory)
    output = invoke("tune", "--folds", "3", "--quiet", "--data-dir", directory)
    assert "body links" not in output
    profile = active_profile(tmp_path / "data")
    assert profile is not None and profile.learned["labels"] == "curated"
