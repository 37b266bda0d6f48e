"""How much site chrome moves the lists: wrap every article of a corpus in the chrome of a
scraped news page (tests/chrome.py) and count the top-5 entries that change, with chrome
removal on (RELATED_CHROME_SHARE's default) and off (0).

    .venv/bin/python bench/bench_chrome.py --corpus ../shared/data/auth0_blog/articles.jsonl --limit 200
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import describe_machine, machine
from service.build.builder import build
from service.config.settings import load_settings
from service.generations.generation import Generation, current_name
from service.ingest.files import read_records
from service.ingest.load import ingest
from service.services import make_encoder
from service.store import ArticleStore
from tests.chrome import wrap


def top_five(data_dir: Path) -> dict[int, set[int]]:
    root = data_dir / "generations"
    generation = Generation.load(root, current_name(root) or "")
    lists = np.asarray(generation.parts.neighbour_keys)[:, :5]
    return {int(k): set(map(int, row)) for k, row in zip(generation.parts.keys, lists, strict=True)}


def lists_for(path: Path, workdir: Path, share: float) -> tuple[dict[int, set[int]], int]:
    settings = load_settings(environ={}, data_dir=workdir, preload_model=False, chrome_share=share)
    with ArticleStore(settings.db_path) as store:
        ingest(store, read_records(path))
        report = build(settings, store, make_encoder(settings))
    chrome = Generation.load(settings.generations_dir, report.generation).manifest.ranking.chrome
    return top_five(settings.data_dir), chrome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=200)
    args = parser.parse_args()
    articles = [json.loads(line) for line in args.corpus.read_text().splitlines()[: args.limit]]
    rng = random.Random(0)
    print(describe_machine(machine()))
    with tempfile.TemporaryDirectory() as tmp:
        clean, wrapped = Path(tmp) / "clean.jsonl", Path(tmp) / "wrapped.jsonl"
        clean.write_text("".join(json.dumps(a) + "\n" for a in articles))
        wrapped.write_text("".join(json.dumps(wrap(a, rng)) + "\n" for a in articles))
        for share in (0.0, load_settings(environ={}).chrome_share):
            before, _ = lists_for(clean, Path(tmp) / f"clean-{share}", share)
            after, found = lists_for(wrapped, Path(tmp) / f"wrapped-{share}", share)
            changed = sum(len(before[k] - after[k]) for k in before)
            print(
                f"chrome_share {share}: {changed} of {5 * len(before)} top-5 entries change "
                f"({changed / (5 * len(before)):.1%}); {found} chrome lines found"
            )


if __name__ == "__main__":
    main()
