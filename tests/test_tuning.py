"""Learning the ranking from curated links (`service.quality.tuning`, `related tune`): out-of-fold
scores, the profile, and builds and evaluations that use it."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from service.cli import cli
from service.config.settings import Settings
from service.generations.generation import Generation, current_name
from service.quality.profiles import active_profile
from tests.conftest import SAMPLE_RELATED

HASHING = {"RELATED_MODEL": "hashing"}


def invoke(*args: str) -> str:
    result = CliRunner(env=HASHING).invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def current(settings: Settings) -> Generation:
    root = settings.generations_dir
    return Generation.load(root, current_name(root) or "")


def test_tune_learns_a_profile_that_the_next_build_uses_and_reset_undoes(
    sample_copy: Settings,
) -> None:
    directory = str(sample_copy.data_dir)
    invoke("curated", "import", str(SAMPLE_RELATED), "--data-dir", directory)
    output = invoke("tune", "--folds", "3", "--quiet", "--data-dir", directory)
    assert "nDCG@10 defaults" in output and "learned, out of fold" in output
    profile = active_profile(sample_copy.data_dir)
    assert profile is not None and set(profile.weights) >= {"dense", "lexical", "popularity"}
    assert profile.learned["sources"] == 66 and profile.learned["folds"] == 3
    if profile.weights["popularity"]:  # chosen by the inner cross-validation, or not
        assert sum(profile.popularity.values()) == sum(len(v) for v in json_links().values())
    else:
        assert profile.popularity == {}
    assert profile.learned["choice"] and len(profile.learned["fold choices"]) == 3

    report = json.loads(invoke("build", "--json", "--quiet", "--data-dir", directory))
    assert report["mode"] == "full"
    generation = current(sample_copy)
    assert generation.manifest.ranking.profile == profile.name
    assert dict(generation.weights) == profile.weights  # as learned, no condition applied
    state = CliRunner(env=HASHING).invoke(cli, ["tune", "--reset", "--data-dir", directory])
    assert profile.name in state.output and active_profile(sample_copy.data_dir) is None
    assert (
        json.loads(invoke("build", "--json", "--quiet", "--data-dir", directory))["mode"] == "full"
    )
    assert current(sample_copy).manifest.ranking.profile is None


def json_links() -> dict[str, list[str]]:
    rows = [json.loads(line) for line in SAMPLE_RELATED.read_text().splitlines() if line]
    return {row["id"]: row["related"] for row in rows}


def test_evaluate_scores_a_learned_ranking_out_of_fold_only(sample_copy: Settings) -> None:
    directory = str(sample_copy.data_dir)
    invoke("curated", "import", str(SAMPLE_RELATED), "--data-dir", directory)
    invoke("tune", "--quiet", "--data-dir", directory)
    invoke("build", "--quiet", "--data-dir", directory)
    result = json.loads(invoke("evaluate", "--json", "--quiet", "--data-dir", directory))
    assert {"service", "defaults"} <= set(result["methods"])
    assert (
        result["service_ranking"].startswith("profile")
        and "out of fold" in result["service_ranking"]
    )
    table = invoke("evaluate", "--quiet", "--data-dir", directory)
    assert "scored out of fold" in table.splitlines()[-1]


def test_tuning_needs_stored_links_and_enough_sources(
    sample_copy: Settings, tmp_path: Path
) -> None:
    directory = str(sample_copy.data_dir)
    result = CliRunner(env=HASHING).invoke(cli, ["tune", "--data-dir", directory])
    assert result.exit_code == 2 and "related curated import" in result.output
    few = tmp_path / "few.jsonl"
    few.write_text(
        "".join(
            json.dumps({"id": s, "related": r}) + "\n" for s, r in list(json_links().items())[:3]
        )
    )
    invoke("curated", "import", str(few), "--data-dir", directory)
    result = CliRunner(env=HASHING).invoke(cli, ["tune", "--quiet", "--data-dir", directory])
    assert result.exit_code == 2 and "too few" in result.output


def test_out_of_fold_never_scores_a_source_with_weights_that_saw_its_links(
    sample_copy: Settings,
) -> None:
    """Change the links of the first fold's sources: the weights that rank that fold (learned on
    the other fold) stay the same; only the other fold's weights move."""
    import numpy as np

    from service.quality.tuning import collect, cross_validate
    from service.services import Services

    services = Services.open(sample_copy)
    ids = {stored.key: stored.article.id for stored in services.store.iter_articles()}
    generation = services.recommender.generation()
    links = {s: dict.fromkeys(r, 1.0) for s, r in json_links().items()}

    def run(links: dict[str, dict[str, float]]) -> tuple[object, list[str]]:
        data = collect(generation, links, ids, generation.weights)
        return cross_validate(data, links, generation.weights, folds=2), data.sources

    first, sources = run(links)
    fold_of = np.random.default_rng(0).permutation(len(sources)) % 2
    every = sorted(set(ids.values()))
    changed = dict(links)
    for i in np.nonzero(fold_of == 0)[0]:
        source = sources[i]
        changed[source] = {every[(every.index(source) + 7) % len(every)]: 1.0}
    second, _ = run(changed)
    assert dict(second.fold_weights[0]) == dict(first.fold_weights[0])  # learned on fold 1
    assert dict(second.fold_weights[1]) != dict(first.fold_weights[1])  # learned on fold 0
    assert len(first.tuned_lists) == len(sources) == 66
