"""The list each experiment variant serves (see `service.quality.experiments`).

- `defaults`: the ranking without a learned profile: the generation's own lists when it was
  built without one, else a search with the configured weights (RELATED_WEIGHT_*);
- `tuned`: ranked with the weights of the profile the experiment started with: the
  generation's lists when it was built with that profile, else a search with its weights
  (the popularity prior counts only where the build computed it);
- `curated`: the editors' own box, the article's curated links in their order (as many of
  them as k and the store allow), where it has some; else `defaults`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from embeddings.signals import Weights
from service.config.options import RelatedOptions
from service.errors import ArticleNotFound
from service.generations.generation import Generation
from service.quality.profiles import DIRECTORY
from service.related.article_cache import Versions
from service.related.recommender import Recommender, RelatedItem, RelatedResult

DEFAULT_VARIANT = "defaults"


def recommendation_id(
    made_from: tuple[Any, ...], article_id: str, options: Mapping[str, Any], variant: str
) -> str:
    """A short, deterministic name of an answer for impressions and clicks: what it was made
    from (the generation and the store's versions), the article, the options and the variant.
    The same answer has the same id in every worker, in the build's stored answers, in the
    fragment and the embed; no setting or address goes in."""
    identity = repr((made_from, article_id, dict(options), variant)).encode()
    return hashlib.blake2b(identity, digest_size=8).hexdigest()


def shaped_answer(result: RelatedResult, named: str, variant: str) -> dict[str, Any]:
    """The JSON object of a related answer: its list, its recommendation id and its variant."""
    return {"ok": True, **result.to_json(), "recommendation_id": named, "variant": variant}


def related_for_variant(
    recommender: Recommender,
    variant: str,
    article_id: str,
    options: RelatedOptions,
    generation: Generation,
    versions: Versions,
    profile: str | None = None,
) -> RelatedResult:
    """The list `variant` shows under `article_id`."""
    if variant == "curated":
        curated = curated_box(recommender, article_id, options, generation)
        if curated is not None:
            return curated
    weights = variant_weights(recommender, variant, generation, profile)
    return recommender.related(
        article_id, options=options, generation=generation, versions=versions, weights=weights
    )


def variant_weights(
    recommender: Recommender, variant: str, generation: Generation, profile: str | None
) -> Weights | None:
    """The weights `variant` ranks with; None: the generation's own lists."""
    built_with = generation.manifest.ranking.profile
    if variant == "tuned" and profile is not None:
        if built_with == profile:
            return None
        return profile_weights(recommender.settings.data_dir, profile)
    if built_with is None:
        return None
    return recommender.settings.weights


_PROFILES: dict[tuple[Path, str], Weights] = {}


def profile_weights(data_dir: Path, name: str) -> Weights:
    """A learned profile's weights, read once per process (a profile never changes)."""
    key = (data_dir, name)
    if key not in _PROFILES:
        path = data_dir / DIRECTORY / f"{name}.json"
        _PROFILES[key] = Weights(json.loads(path.read_text(encoding="utf-8"))["weights"])
    return _PROFILES[key]


def curated_box(
    recommender: Recommender, article_id: str, options: RelatedOptions, generation: Generation
) -> RelatedResult | None:
    """The article's curated links as an answer, or None when it has none in the store."""
    store = recommender.store
    stored = store.get(article_id, with_body=options.wants_body)
    if stored is None:
        raise ArticleNotFound(article_id)
    links = [target for target, _ in store.curated(article_id) if target != article_id]
    keys = store.keys_for(links)
    articles = store.get_by_keys(keys.values())
    items = [
        RelatedItem(articles[keys[target]], None, key=keys[target])
        for target in links
        if target in keys and keys[target] in articles
    ][: options.k]
    if not items:
        return None
    return RelatedResult(stored.article, items, options, "curated", generation)
