"""Leave one site out: choose the default weights on every site but one, score the one left out.

    python scripts/leave_one_site_out.py \
        --collection sample=DATA_DIR_1 \
        --collection auth0=DATA_DIR_2 \
        --collection cppdocs=DATA_DIR_3 \
        --collection cppdocs/specific=DATA_DIR_3:../shared/data/cppdocs_seealso/related_specific.jsonl

Each collection is a built data directory (`related ingest`, `related build`) and its curated
links: the stored ones, or a links file after ':'. Collections named `SITE/...` belong to SITE
and are left out with it (the same pages under two link sets must not choose each other's
weights).

For every collection the script reads, once, and caches in `<data-dir>/loso/`:
- every baseline's and the service's nDCG@10 from `related evaluate` (the same code and
  candidates), or, with `--baselines NAME=FILE`, from an earlier run's `--json` output (on a
  large collection `related evaluate` takes many minutes);
- each source's pool (its top 200 articles by the defaults) and every signal's z-score there
  (`service.quality.tuning.collect`, the features `related tune` learns from).
A set of weights then scores a collection in milliseconds: the fused score of each pool
candidate is the weighted sum of its z-scores, exactly as the ranking adds them up.

The weights are chosen on a grid (dense fixed at 1: only ratios matter) by the mean, over the
training sites, of nDCG@10 divided by the site's best baseline (the goal's measure, so a large
site does not outvote the rest); a site with several link sets counts each set equally inside
it. Ties go to the grid point nearest the current defaults. A signal that is flat on every
training site (no links, no dates) can't be chosen there: it keeps its current default.

Printed: per collection, every baseline, the body links in text order (where articles have
`links`; not a baseline of `related evaluate`), the service as built, the current defaults, the
weights chosen on all sites (in sample) and the weights chosen without its site (LOSO), and the
LOSO ratio to the best baseline; then the weights each choice took.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from embeddings.metrics import ideal_dcg, pooled_ndcg
from embeddings.signals import (
    RANKING_VERSION,
    SIGNALS,
    Weights,
    dates_are_publications,
    effective_weights,
)

BASELINES = ("random", "most-recent", "bm25-mlt", "tfidf", "dense")
CUTOFF = 10
GRID: dict[str, tuple[float, ...]] = {
    "lexical": (0.5, 0.75, 1.0, 1.5),
    "labels": (0.0, 0.25, 0.5, 1.0),
    "title": (0.0, 0.2, 0.4),
    "links": (0.0, 0.5, 1.0, 2.0),
    "age": (0.0, 0.25, 0.5, 1.0),
}
"""The weights tried for each signal; dense is 1, popularity (learned per site) stays 0."""


@dataclass
class Collection:
    name: str
    site: str
    scores: npt.NDArray[np.float64]
    """(sources, pool, signals) z-scores of each pool candidate."""
    valid: npt.NDArray[np.bool_]
    gains: npt.NDArray[np.float64]
    ideal: npt.NDArray[np.float64]
    flat: frozenset[str]
    """Signals that say nothing here (zero weight where the collection fails their condition,
    or no spread at all): a choice made here can't tell their weight."""
    evaluated: dict[str, float]
    """nDCG@10 of every method of `related evaluate`."""

    def ndcg(self, weights: Weights) -> float:
        effective = tuple(0.0 if s.name in self.flat else weights[s.name] for s in SIGNALS)
        memo = self.__dict__.setdefault("_memo", {})
        if effective not in memo:  # weightings that differ only in flat signals score alike
            vector = np.asarray(effective, dtype=np.float32)
            fused = np.where(self.valid, self.scores @ vector, -np.inf)
            memo[effective] = float(pooled_ndcg(fused, self.gains, self.ideal, CUTOFF).mean())
        return float(memo[effective])

    @property
    def best_baseline(self) -> tuple[str, float]:
        name = max(BASELINES, key=lambda b: self.evaluated[b])
        return name, self.evaluated[name]


def parse(spec: str) -> tuple[str, Path, Path | None]:
    name, _, rest = spec.partition("=")
    directory, _, links = rest.partition(":")
    if not name or not directory:
        raise SystemExit(f"--collection {spec!r}: expected NAME=DATA_DIR[:LINKS]")
    return name, Path(directory), Path(links) if links else None


def load(
    name: str,
    data_dir: Path,
    links_path: Path | None,
    baselines: Path | None,
    max_sources: int | None = None,
) -> Collection:
    """The collection's cached evaluation and features, computed on first use."""
    from service.config.settings import load_settings
    from service.editorial.link_files import read_links
    from service.generations.generation import Generation, current_name
    from service.quality.evaluate import evaluate
    from service.quality.tuning import collect
    from service.services import Services

    # Opened with the model the collection was built with, whatever RELATED_MODEL says.
    root = load_settings(data_dir=data_dir).generations_dir
    built = Generation.load(root, current_name(root) or "").manifest.model
    services = Services.open(load_settings(data_dir=data_dir, model=built))
    generation = services.recommender.generation()
    links = read_links(links_path) if links_path else services.store.all_curated()
    if max_sources and len(links) > max_sources:
        # A fixed sample (the same for link sets of the same sources), to bound the time.
        chosen = np.random.default_rng(0).choice(sorted(links), max_sources, replace=False)
        links = {str(s): links[str(s)] for s in sorted(chosen)}
    cache = data_dir / "loso"
    cache.mkdir(exist_ok=True)
    started = time.monotonic()
    if baselines is not None:
        evaluated = read_figures(baselines)
    else:
        evaluated_path = (
            cache / f"{digest([generation.name, RANKING_VERSION, sorted(links.items())])}.json"
        )
        if not evaluated_path.exists():
            result = evaluate(services, links, cutoffs=(CUTOFF,))
            methods = {m: v[f"ndcg@{CUTOFF}"] for m, v in result.methods.items()}
            evaluated_path.write_text(json.dumps(methods), encoding="utf-8")
            print(f"{name}: evaluated in {time.monotonic() - started:.0f}s", file=sys.stderr)
        evaluated = json.loads(evaluated_path.read_text(encoding="utf-8"))
    body = body_links_ndcg(services, links)
    if body is not None:
        evaluated["body-links"] = body
    published = np.asarray(generation.parts.published, dtype=np.float64)
    # Pools and z-scores depend on the sources, not on their links: link sets of the same
    # sources (cppdocs and its hub-free lists) share them.
    features_path = cache / f"{digest([generation.name, RANKING_VERSION, sorted(links)])}.npz"
    if not features_path.exists():
        ids = {stored.key: stored.article.id for stored in services.store.iter_articles()}
        defaults = effective_weights(Weights(), published)
        data = collect(generation, links, ids, defaults, candidates=services.settings.candidates)
        np.savez_compressed(
            features_path,
            scores=data.features,
            pool=data.pool,
            sources=np.asarray(data.sources),
            ids=data.ids,
        )
        print(f"{name}: features in {time.monotonic() - started:.0f}s", file=sys.stderr)
    saved = np.load(features_path)
    scores, pool = saved["scores"].astype(np.float32), saved["pool"]
    row_of = {str(article_id): row for row, article_id in enumerate(saved["ids"]) if article_id}
    relevant = [
        {row_of[t]: g for t, g in links[source].items() if t in row_of and t != source}
        for source in map(str, saved["sources"])
    ]
    gains = np.asarray(
        [[rel.get(int(r), 0.0) for r in row] for row, rel in zip(pool, relevant, strict=True)]
    )
    # The ideal counts every indexed curated target, in the pool or not.
    ideal = np.asarray([ideal_dcg(list(rel.values()), CUTOFF) for rel in relevant])
    valid = pool >= 0
    spread = scores[valid].std(axis=0) if valid.any() else np.zeros(len(SIGNALS))
    flat = {s.name for s, sd in zip(SIGNALS, spread, strict=True) if sd < 1e-9}
    if not dates_are_publications(published):
        flat |= {s.name for s in SIGNALS if s.when == "publication_dates"}
    return Collection(
        name=name,
        site=name.split("/")[0],
        scores=scores,
        valid=valid,
        gains=gains,
        ideal=ideal,
        flat=frozenset(flat),
        evaluated=evaluated,
    )


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value).encode()).hexdigest()[:16]


def read_figures(path: Path) -> dict[str, float]:
    """nDCG@10 per method from a `related evaluate --json --k 10` output, or a plain
    {method: nDCG@10} object (figures measured earlier with `related evaluate`)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    methods = data.get("methods", data)
    return {m: float(v[f"ndcg@{CUTOFF}"] if isinstance(v, dict) else v) for m, v in methods.items()}


def body_links_ndcg(services: Any, links: dict[str, dict[str, float]]) -> float | None:
    """nDCG@10 of listing each source's body links in text order (None: no article has any),
    over the sources `related evaluate` scores: those with a curated target indexed."""
    from embeddings.metrics import ndcg_at_k
    from service.quality.body_links import body_link_labels

    stored = [s.article for s in services.store.iter_articles()]
    found = body_link_labels(stored).links
    if not found:
        return None
    indexed = {a.id for a in stored}
    values = []
    for source, targets in links.items():
        relevant = {t: g for t, g in targets.items() if t in indexed and t != source}
        if source in indexed and relevant:
            values.append(ndcg_at_k(list(found.get(source, {})), relevant, CUTOFF))
    return float(np.mean(values)) if values else None


def grid() -> list[Weights]:
    names = list(GRID)
    return [
        Weights(dict(zip(names, values, strict=True)))
        for values in itertools.product(*GRID.values())
    ]


def distance(a: Weights, b: Weights) -> float:
    return sum(abs(a[s.name] - b[s.name]) for s in SIGNALS)


def choose(
    collections: list[Collection],
    table: dict[tuple[str, Weights], float],
    candidates: list[Weights],
) -> Weights:
    """The grid point with the best mean (over sites) ratio to each collection's best baseline;
    flat signals everywhere keep their current default."""
    defaults = Weights()
    sites = sorted({c.site for c in collections})

    def objective(weights: Weights) -> float:
        per_site = []
        for site in sites:
            members = [c for c in collections if c.site == site]
            per_site.append(
                np.mean([table[(c.name, weights)] / max(c.best_baseline[1], 1e-9) for c in members])
            )
        return float(np.mean(per_site))

    informative = {s.name for s in SIGNALS if any(s.name not in c.flat for c in collections)}
    fixed = [
        w
        for w in candidates
        if all(w[name] == defaults[name] for name in GRID if name not in informative)
    ]
    return max(fixed, key=lambda w: (round(objective(w), 6), -distance(w, defaults)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--collection", action="append", required=True, metavar="NAME=DIR[:LINKS]")
    parser.add_argument(
        "--baselines",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="the collection's figures from an earlier `related evaluate --json --k 10` (or "
        "{method: nDCG@10}) instead of evaluating it again",
    )
    parser.add_argument(
        "--max-sources",
        type=int,
        default=None,
        help="score at most this many sources per collection (a fixed random sample)",
    )
    args = parser.parse_args()
    given = dict(spec.split("=", 1) for spec in args.baselines)
    collections = []
    for spec in args.collection:
        name, directory, links = parse(spec)
        figures = Path(given[name]) if name in given else None
        collections.append(load(name, directory, links, figures, args.max_sources))
    candidates = grid()
    started = time.monotonic()
    table = {(c.name, w): c.ndcg(w) for c in collections for w in candidates}
    for c in collections:  # the current defaults may lie off the grid
        table[(c.name, Weights())] = c.ndcg(Weights())
    print(
        f"{len(candidates)} weightings x {len(collections)} collections scored in "
        f"{time.monotonic() - started:.1f}s",
        file=sys.stderr,
    )
    in_sample = choose(collections, table, candidates)
    held_out = {}
    for site in sorted({c.site for c in collections}):
        training = [c for c in collections if c.site != site]
        held_out[site] = choose(training, table, candidates) if training else Weights()

    header = [*BASELINES, "body links", "service", "defaults", "in-sample", "LOSO", "LOSO/best"]
    print("| collection | " + " | ".join(header) + " |")
    print("| --- " * (len(header) + 1) + "|")
    for c in collections:
        best_name, best = c.best_baseline
        loso = table[(c.name, held_out[c.site])]
        cells = [f"{c.evaluated[b]:.3f}" for b in BASELINES]
        cells.append(f"{c.evaluated['body-links']:.3f}" if "body-links" in c.evaluated else "-")
        cells += [
            f"{c.evaluated['service']:.3f}",
            f"{table[(c.name, Weights())]:.3f}",
            f"{table[(c.name, in_sample)]:.3f}",
            f"**{loso:.3f}**",
            f"{loso / max(best, 1e-9):.2f} ({best_name})",
        ]
        print(f"| {c.name} | " + " | ".join(cells) + " |")
    print()
    shown = [s.name for s in SIGNALS if s.name != "popularity"]
    print("| weights chosen on | " + " | ".join(shown) + " |")
    print("| --- " * (len(shown) + 1) + "|")
    rows = [("current defaults", Weights()), ("every site (in sample)", in_sample)]
    rows += [(f"all but {site}", w) for site, w in held_out.items()]
    for label, w in rows:
        print(f"| {label} | " + " | ".join(f"{w[n]:g}" for n in shown) + " |")


if __name__ == "__main__":
    main()
