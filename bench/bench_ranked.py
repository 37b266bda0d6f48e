"""The ranked path in-process: CPU per answer for options the build's stored answers are not for.

    PYTHONPATH=. .venv/bin/python bench/bench_ranked.py --data-dir /tmp/rk \\
        [--rounds 3] [--level view|core] [--profile 25] [--dump answers.jsonl]

For every article of an already built data directory, and for each option set (a k other than
the default, `fields`, the commonest section and tag, explain, diversity, recency, fill,
include_body), asks for the related list with the answer cache off, so every request is ranked:
`view` through Flask's test client (the route, `service.web.related_view`, the JSON body),
`core` straight through `Recommender.related` and `answer_bytes` (no Flask, no ETag). Prints the
CPU milliseconds per answer (`time.process_time` over all articles, the median over rounds)
for each option set. `--profile N` runs one more round under cProfile and prints its top N
entries by own time; `--dump` writes every answer's bytes (one JSON line per request) so two
versions of the code can be compared byte for byte (`cmp`). Figures, not assertions.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.config.settings import load_settings  # noqa: E402
from service.errors import RelatedError  # noqa: E402
from service.related.display import DisplayCache, answer_bytes  # noqa: E402
from service.related.variants import DEFAULT_VARIANT  # noqa: E402
from service.store import ArticleStore  # noqa: E402
from service.web.app import create_app  # noqa: E402

Ask = Callable[[str, str], bytes]


def option_sets(section: str | None, tag: str | None) -> list[str]:
    """Query strings that miss the stored answers (each is ranked)."""
    found = ["k=4", "k=7", "fields=title,url", "diversity=0.3", "recency=gaussian"]
    if section:
        found.append(f"section={quote(section)}")
    if tag:
        found.append(f"tag={quote(tag)}")
    found += ["explain=true", "fill=recent&min_score=4", "include_body=true"]
    return found


CHECKED_TOO = (
    "min_relative=0.8&recency=exponential&half_life_days=90",
    "duplicate_threshold=0.3",
    "duplicate_threshold=0.5&diversity=0.7&k=10",
    "past_only=true&fill=section",
    "lang=any&min_score=8&k=3",
    "fields=title,score,tags&include_body=true",
)
"""More option sets `--dump` writes (not timed): thresholds, the duplicate check below the
build's floor, past_only, fill."""


def collection(data_dir: Path) -> tuple[list[str], str | None, str | None]:
    """Every article id, the commonest section and the commonest tag."""
    ids: list[str] = []
    sections: Counter[str] = Counter()
    tags: Counter[str] = Counter()
    with ArticleStore(data_dir / "articles.sqlite3") as store:
        for stored in store.iter_articles():
            ids.append(stored.article.id)
            sections.update([stored.article.section] if stored.article.section else [])
            tags.update(stored.article.tags)
    section = sections.most_common(1)[0][0] if sections else None
    tag = tags.most_common(1)[0][0] if tags else None
    return sorted(ids), section, tag


def asker(data_dir: Path, level: str) -> Ask:
    settings = load_settings(environ={}, data_dir=data_dir, preload_model=False, response_cache=0)
    app = create_app(settings)
    if level == "view":
        client = app.test_client()

        def ask_view(article_id: str, query: str) -> bytes:
            response = client.get(f"/articles/{quote(article_id, safe='')}/related?{query}")
            return str(response.status_code).encode() + b" " + response.get_data()

        return ask_view
    recommender = app.extensions["related"].recommender
    display = DisplayCache(settings.article_cache, settings.article_cache_bytes)

    def ask_core(article_id: str, query: str) -> bytes:
        try:
            options = recommender.options(dict(parse_qsl(query)))
            result = recommender.related(article_id, options=options)
        except RelatedError as error:
            return f"{type(error).__name__} {error}\n".encode()
        return answer_bytes(result, "-", DEFAULT_VARIANT, display)

    return ask_core


def one_round(ask: Ask, ids: list[str], query: str) -> float:
    """CPU milliseconds per answer over every article."""
    started = time.process_time()
    for article_id in ids:
        ask(article_id, query)
    return (time.process_time() - started) * 1000 / len(ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--level", choices=("view", "core"), default="view")
    parser.add_argument("--profile", type=int, default=0, help="top N cProfile entries")
    parser.add_argument("--sort", default="tottime", help="cProfile order: tottime, cumulative")
    parser.add_argument("--only", default="", help="comma-separated option-set numbers (1-based)")
    parser.add_argument("--dump", type=Path, help="write every answer here")
    args = parser.parse_args()
    ids, section, tag = collection(args.data_dir)
    ask = asker(args.data_dir, args.level)
    queries = option_sets(section, tag)
    if args.only:
        queries = [queries[int(n) - 1] for n in args.only.split(",")]
    for article_id in ids[:20]:  # warm the caches (articles, editorial, lazy parts)
        for query in queries:
            ask(article_id, query)
    if args.dump:
        with args.dump.open("wb") as out:
            for query in [*queries, *CHECKED_TOO]:
                for article_id in ids:
                    out.write(f"{query} {article_id} ".encode() + ask(article_id, query))
    print(f"{len(ids)} articles, level {args.level}, CPU ms per answer (median of rounds)")
    figures: dict[str, list[float]] = {q: [] for q in queries}
    for _ in range(args.rounds):
        for query in queries:  # alternate the option sets within each round
            figures[query].append(one_round(ask, ids, query))
    for query, values in figures.items():
        spread = ", ".join(f"{v:.3f}" for v in values)
        print(f"  {query:<28} {statistics.median(values):7.3f}   ({spread})")
    every = [statistics.median(v) for v in figures.values()]
    print(f"  {'mean over option sets':<28} {statistics.fmean(every):7.3f}")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for query in queries:
            one_round(ask, ids, query)
        profiler.disable()
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text).sort_stats(args.sort)
        stats.print_stats(args.profile)
        print(text.getvalue())


if __name__ == "__main__":
    main()
