"""Site chrome (`embeddings.chrome`): lines and sentences on most pages never shape the lists."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np

from embeddings.chrome import Chrome
from embeddings.encoder import Encoder
from service.build.builder import build
from service.generations.generation import Generation, current_name
from service.store import ArticleStore
from tests.chrome import wrap
from tests.conftest import REAL_MODEL, ingest_file, load_sample_articles, make_settings


def test_repeated_lines_and_sentences_are_found_and_left_out() -> None:
    documents = [
        f"Updated {i % 12}:{i % 60:02d}\nStory number {i} about topic {i % 7}. Share on Facebook.\n"
        f"A line only this story has, {i}.\nCommunity standards"
        for i in range(40)
    ]
    chrome = Chrome.fit(documents, share=0.5)
    stripped = chrome.strip(documents[3])
    assert stripped == "Story number 3 about topic 3.\nA line only this story has, 3."
    assert Chrome.fit(documents, share=0.0).strip(documents[3]) == documents[3]
    assert len(Chrome.fit(documents[:3], share=0.5)) == 0  # too few documents to tell


def top_five(data_dir: Path) -> dict[int, list[int]]:
    root = data_dir / "generations"
    generation = Generation.load(root, current_name(root) or "")
    keys = np.asarray(generation.parts.keys)
    lists = np.asarray(generation.parts.neighbour_keys)[:, :5]
    return {int(k): [int(x) for x in row] for k, row in zip(keys, lists, strict=True)}


def test_wrapping_every_article_in_chrome_changes_under_3_percent_of_the_top_five(
    encoder: Encoder, tmp_path: Path
) -> None:
    articles = load_sample_articles()
    rng = random.Random(0)
    wrapped_file = tmp_path / "wrapped.jsonl"
    wrapped_file.write_text("".join(json.dumps(wrap(a, rng)) + "\n" for a in articles))
    lists = {}
    for name, path in (("clean", None), ("wrapped", wrapped_file)):
        settings = make_settings(tmp_path / name, model=REAL_MODEL)
        ingest_file(settings, *([path] if path else []))
        with ArticleStore(settings.db_path) as store:
            build(settings, store, encoder)
        lists[name] = top_five(settings.data_dir)
    changed = sum(
        len(set(lists["clean"][key]) - set(lists["wrapped"][key])) for key in lists["clean"]
    )
    assert changed / (5 * len(lists["clean"])) < 0.03
