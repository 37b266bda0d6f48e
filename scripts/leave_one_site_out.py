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
  candidates);
- each source's pool (its top 200 articles by the defaults) and every signal's z-score there
  (`service.quality.tuning.collect`, the features `related tune` learns from).
A set of weights then scores a collection in milliseconds: the fused score of each pool
candidate is the weighted sum of its z-scores, exactly as the ranking adds them up.

The weights are chosen on a grid (dense fixed at 1: only ratios matter) by the mean, over the
training sites, of nDCG@10 divided by the site's best baseline (the goal's measure, so a large
site does not outvote the rest); a site with several link sets counts each set equally inside
it. Ties go to the grid point nearest the current defaults. A signal that is flat on every
training site (no links, no dates) can't be chosen there: it keeps its current default.

Printed: per collection, every baseline, the service as built, the current defaults, the
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


def load(name: str, data_dir: Path, links_path: Path | None) -> Collection:
    """The collection's cached evaluation and features, computed on first use."""
    from service.config.settings import load_settings
    from service.editorial.link_files import read_links
    from service.quality.evaluate import evaluate
    from service.quality.tuning import collect
    from service.services import Services

    services = Services.open(load_settings(data_dir=data_dir))
    generation = services.recommender.generation()
    links = read_links(links_path) if links_path else services.store.all_curated()
    digest = hashlib.sha256(
        json.dumps([generation.name, RANKING_VERSION, sorted(links.items())]).encode()
    ).hexdigest()[:16]
    cache = data_dir / "loso"
    cache.mkdir(exist_ok=True)
    evaluated_path, features_path = cache / f"{digest}.json", cache / f"{digest}.npz"
    started = time.monotonic()
    if not evaluated_path.exists():
        result = evaluate(services, links, cutoffs=(CUTOFF,))
        methods = {m: v[f"ndcg@{CUTOFF}"] for m, v in result.methods.items()}
        evaluated_path.write_text(json.dumps(methods), encoding="utf-8")
        print(f"{name}: evaluated in {time.monotonic() - started:.0f}s", file=sys.stderr)
    published = np.asarray(generation.parts.published, dtype=np.float64)
    if not features_path.exists():
        ids = {stored.key: stored.article.id for stored in services.store.iter_articles()}
        defaults = effective_weights(Weights(), published)
        data = collect(generation, links, ids, defaults, candidates=services.settings.candidates)
        valid = data.pool >= 0
        gains = np.asarray(
            [
                [rel.get(int(r), 0.0) for r in row]
                for row, rel in zip(data.pool, data.relevant, strict=True)
            ]
        )
        # The ideal counts every indexed curated target, in the pool or not.
        ideal = np.asarray([ideal_dcg(list(rel.values()), CUTOFF) for rel in data.relevant])
        np.savez_compressed(
            features_path, scores=data.features, valid=valid, gains=gains, ideal=ideal
        )
        print(f"{name}: features in {time.monotonic() - started:.0f}s", file=sys.stderr)
    saved = np.load(features_path)
    scores = saved["scores"].astype(np.float32)
    spread = scores[saved["valid"]].std(axis=0) if saved["valid"].any() else np.zeros(len(SIGNALS))
    flat = {s.name for s, sd in zip(SIGNALS, spread, strict=True) if sd < 1e-9}
    if not dates_are_publications(published):
        flat |= {s.name for s in SIGNALS if s.when == "publication_dates"}
    return Collection(
        name=name,
        site=name.split("/")[0],
        scores=scores,
        valid=saved["valid"],
        gains=saved["gains"],
        ideal=saved["ideal"],
        flat=frozenset(flat),
        evaluated=json.loads(evaluated_path.read_text(encoding="utf-8")),
    )


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
    args = parser.parse_args()
    collections = [load(*parse(spec)) for spec in args.collection]
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

    header = [*BASELINES, "service", "defaults", "in-sample", "LOSO", "LOSO/best"]
    print("| collection | " + " | ".join(header) + " |")
    print("| --- " * (len(header) + 1) + "|")
    for c in collections:
        best_name, best = c.best_baseline
        loso = table[(c.name, held_out[c.site])]
        cells = [f"{c.evaluated[b]:.3f}" for b in BASELINES]
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
