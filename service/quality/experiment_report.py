"""An experiment's report: impressions, clicks and CTR per variant and per section, Wilson 95%
intervals, each variant against the control, the impressions still needed, and the verdict.

The verdict follows the rule fixed at the start (`service.quality.experiments.Plan`): until
every variant has its planned impressions it is `keep_running`, whatever the p-values say
(looking early and stopping at the first "significant" moment inflates false wins). Then a
variant whose two-proportion test against the control has p below alpha / comparisons
(Bonferroni) is `better` or `worse` than the control; the experiment's verdict is `winner`
(the best better variant), `control_wins` (every variant worse) or `no_difference`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from service.quality.ab_stats import sample_size, two_proportion_test, wilson_interval
from service.quality.experiments import Experiment
from service.store import ArticleStore
from service.store.events import EventStore, Tally

NO_SECTION = "(no section)"


def counts(tallies: Iterable[Tally]) -> dict[str, list[int]]:
    """variant -> [impressions, clicks]."""
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for tally in tallies:
        found[tally.variant][0 if tally.type == "impression" else 1] += tally.count
    return found


def cell(impressions: int, clicks: int) -> dict[str, Any]:
    low, high = wilson_interval(clicks, impressions)
    return {
        "impressions": impressions,
        "clicks": clicks,
        "ctr": round(clicks / impressions, 6) if impressions else None,
        "interval": [round(low, 6), round(high, 6)],
    }


def build_report(
    experiment: Experiment, tallies: list[Tally], sections: Mapping[str, str | None]
) -> dict[str, Any]:
    """The report of `experiment` from its event tallies; `sections` maps source article ids
    to their section."""
    plan = experiment.plan
    comparisons = len(experiment.variants) - 1
    level = plan.alpha / comparisons
    totals = counts(tallies)
    control = totals[experiment.control]
    variants = []
    for variant, share in zip(experiment.variants, experiment.split, strict=True):
        impressions, clicks = totals[variant]
        row = {"variant": variant, "share": share, **cell(impressions, clicks)}
        row["still_needed"] = max(0, plan.impressions_per_variant - impressions)
        if variant != experiment.control:
            z, p = two_proportion_test(control[1], control[0], clicks, impressions)
            lift = None
            if control[0] and impressions and control[1]:
                lift = round((clicks / impressions) / (control[1] / control[0]) - 1, 6)
            outcome = "same"
            if p < level:
                outcome = "better" if z > 0 else "worse"
            row["against_control"] = {"z": round(z, 4), "p": round(p, 6), "lift": lift}
            row["outcome"] = outcome
        variants.append(row)
    return {
        "experiment": experiment.to_json(),
        "variants": variants,
        "sections": section_rows(experiment, tallies, sections),
        "test_level": level,
        "needed_at_observed_ctr": observed_size(control, plan.mde, level, plan.power),
        "verdict": verdict(experiment, variants),
    }


def observed_size(control: list[int], mde: float, alpha: float, power: float) -> int | None:
    """Impressions per variant the plan would need at the control's CTR as observed so far."""
    if not control[0] or not 0 < control[1] < control[0]:
        return None
    try:
        return sample_size(control[1] / control[0], mde, alpha, power)
    except ValueError:
        return None


def section_rows(
    experiment: Experiment, tallies: list[Tally], sections: Mapping[str, str | None]
) -> list[dict[str, Any]]:
    by_section: dict[str, list[Tally]] = defaultdict(list)
    for tally in tallies:
        by_section[sections.get(tally.article) or NO_SECTION].append(tally)
    rows = []
    for section in sorted(by_section):
        totals = counts(by_section[section])
        rows.append(
            {
                "section": section,
                "variants": [{"variant": v, **cell(*totals[v])} for v in experiment.variants],
            }
        )
    return rows


def verdict(experiment: Experiment, variants: list[dict[str, Any]]) -> dict[str, str]:
    planned = experiment.plan.impressions_per_variant
    needed = max(row["still_needed"] for row in variants)
    if needed > 0:
        return {
            "state": "keep_running",
            "text": f"Keep running: {needed:,} more impressions needed before a verdict "
            f"(planned {planned:,} per variant).",
        }
    challengers = [row for row in variants if row["variant"] != experiment.control]
    better = [row for row in challengers if row["outcome"] == "better"]
    if better:
        best = max(better, key=lambda row: row["ctr"] or 0.0)
        return {
            "state": "winner",
            "winner": best["variant"],
            "text": f"{best['variant']} beats {experiment.control}: CTR {best['ctr']:.2%} "
            f"against {variants[0]['ctr'] or 0:.2%} (p = {best['against_control']['p']:.4f}).",
        }
    if all(row["outcome"] == "worse" for row in challengers):
        return {
            "state": "control_wins",
            "winner": experiment.control,
            "text": f"{experiment.control} beats every other variant.",
        }
    return {
        "state": "no_difference",
        "text": f"No difference of {experiment.plan.mde:.0%} or more detected: keep "
        f"{experiment.control}.",
    }


def experiment_report(
    experiment: Experiment, events: EventStore, store: ArticleStore
) -> dict[str, Any]:
    """The report from the events file, with each source article's section from the store."""
    tallies = events.tallies(experiment.name)
    keys = store.keys_for({tally.article for tally in tallies})
    articles = store.get_by_keys(keys.values())
    sections = {i: articles[key].section for i, key in keys.items() if key in articles}
    return build_report(experiment, tallies, sections)
