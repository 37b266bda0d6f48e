"""Answers for articles newer than the index (`service.related.live`): the text is cut, the vector is
cached until the article changes, and concurrent encodings are bounded with a quick 503."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.hashing import HashingEncoder
from service.article import Article
from service.build.builder import build
from service.config.settings import Settings
from service.related.live import LIVE_TEXT_CHARS, live_item_text
from service.store import ArticleStore
from service.web.app import create_app
from tests.conftest import CountingEncoder, copy_data_dir

NEW = {
    "title": "Heatwave strains the power grid again",
    "body": "Electricity demand hit a new record as the heat continued.",
}


def test_a_live_article_is_encoded_once_until_it_changes(
    settings: Settings, hashing: HashingEncoder
) -> None:
    counting = CountingEncoder(hashing)
    client = create_app(settings, encoder=counting).test_client()
    client.put("/articles/late", json=NEW)
    for _ in range(3):
        body = client.get("/articles/late/related?k=3").get_json()
        assert body["source"] == "live" and len(body["related"]) == 3
    assert len(counting.texts) == 1
    # Another worker (a new app over the same store) finds it in the cache too.
    other = CountingEncoder(hashing)
    create_app(settings, encoder=other).test_client().get("/articles/late/related")
    assert other.texts == []
    # So does the next build.
    with ArticleStore(settings.db_path) as store:
        assert build(settings, store, CountingEncoder(hashing)).encoded == 0
    client.put("/articles/later", json={**NEW, "title": "A changed title"})
    client.get("/articles/later/related")
    assert len(counting.texts) == 2


def test_the_lexical_side_of_a_live_answer_reads_a_cut_body(
    settings: Settings, hashing: HashingEncoder
) -> None:
    huge = "electricity grid heat " * 300_000  # 6.6 MB
    item = live_item_text(Article(id="x", title="t", body=huge))
    assert len(item.body) == LIVE_TEXT_CHARS
    client = create_app(settings, encoder=hashing).test_client()
    client.put("/articles/huge", json={"title": "A very long article", "body": huge})
    body = client.get("/articles/huge/related?k=2").get_json()
    assert body["source"] == "live" and len(body["related"]) == 2


class BlockingEncoder(CountingEncoder):
    """Encodes only once `release` is set, and says when it started."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.started = threading.Event()
        self.release = threading.Event()

    def encode(self, texts: Sequence[str], *, progress: Any = None) -> npt.NDArray[np.float32]:
        self.started.set()
        assert self.release.wait(30)
        return super().encode(texts, progress=progress)


def test_encodings_beyond_the_bound_get_a_quick_503_with_retry_after(
    editorial_dir: Any, tmp_path: Any, hashing: HashingEncoder
) -> None:
    settings = copy_data_dir(editorial_dir, tmp_path / "data").replace(live_encodings=1)
    blocking = BlockingEncoder(hashing)
    app = create_app(settings, encoder=blocking)
    client = app.test_client()
    client.put("/articles/first", json=NEW)
    client.put("/articles/second", json={**NEW, "title": "Another heatwave story"})
    answers: list[int] = []
    waiting = threading.Thread(
        target=lambda: answers.append(app.test_client().get("/articles/first/related").status_code)
    )
    waiting.start()
    assert blocking.started.wait(30)
    busy = client.get("/articles/second/related")
    assert busy.status_code == 503 and busy.get_json()["code"] == "live_busy"
    assert busy.headers["Retry-After"] == "1"
    draft = client.post("/related", json={"title": "A draft about the grid"})
    assert draft.status_code == 503  # drafts share the bound
    # Indexed articles need no encoding: they never wait for a slot.
    assert client.get("/articles/2026-03-02-heatwave-grid-record/related").status_code == 200
    blocking.release.set()
    waiting.join()
    assert answers == [200]
    assert client.get("/articles/second/related").status_code == 200
