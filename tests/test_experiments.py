"""A/B experiments: the statistics, the plan and its verdict rule, assignment, the variants,
the CLI and HTTP, and a simulation: synthetic readers with known click rates per variant,
driven through a real server, must give the right verdict and intervals that hold the rates."""

from __future__ import annotations

import json
import random
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from embeddings.signals import RANKING_VERSION
from service.cli import cli
from service.config.settings import Settings
from service.quality.ab_stats import sample_size, two_proportion_test, wilson_interval
from service.quality.experiment_report import build_report
from service.quality.experiments import Experiment, Experiments, Plan
from service.quality.profiles import Profile, save_profile
from service.store import ArticleStore
from service.store.events import Event, EventStore, Tally
from tests.browser import (
    LAPTOP,
    accessibility_problems,
    chromium,
    require_browser,
    save_screenshot,
    screenshot_dir,
)
from tests.conftest import COPY, HEATWAVE, HTTP_TIMEOUT, UNDATED, Server, wait_for

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0"}
TRAMS = "2026-01-08-night-trams-weekends"
CURATED = ["2026-02-26-bus-drivers-strike", "2026-01-15-flood-barrier-storm-surge"]


def test_the_statistics_match_their_textbook_values() -> None:
    low, high = wilson_interval(10, 100)
    assert (round(low, 4), round(high, 4)) == (0.0552, 0.1744)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    # 5% -> 6% at alpha 0.05 and power 0.8: the classic 8,158 per group.
    assert sample_size(0.05, 0.2, 0.05, 0.8) == 8158
    z, p = two_proportion_test(100, 1000, 130, 1000)
    assert z > 0 and round(p, 3) == 0.035
    assert two_proportion_test(50, 500, 50, 500) == (0.0, 1.0)


def experiment(variants: tuple[str, ...] = ("defaults", "curated"), **plan: Any) -> Experiment:
    sized = Plan(**plan).sized(len(variants) - 1)
    split = tuple([100 // len(variants)] * len(variants))
    return Experiment("e", variants, (split[0] + 100 - sum(split), *split[1:]), sized, 0.0)


def test_a_visitor_always_gets_one_variant_and_the_split_holds() -> None:
    even = experiment()
    seen = [even.variant_for(f"visitor-{i}") for i in range(20_000)]
    assert [even.variant_for(f"visitor-{i}") for i in range(20_000)] == seen
    assert abs(seen.count("curated") / len(seen) - 0.5) < 0.01
    skewed = Experiment("e", ("defaults", "tuned"), (80, 20), even.plan, 0.0)
    share = sum(skewed.variant_for(str(i)) == "tuned" for i in range(20_000)) / 20_000
    assert abs(share - 0.2) < 0.01
    assert even.variant_for(None) == "defaults"  # no key: the control


def tallies(counts: dict[str, tuple[int, int]]) -> list[Tally]:
    found = []
    for variant, (impressions, clicks) in counts.items():
        found += [Tally(variant, HEATWAVE, "impression", impressions)]
        found += [Tally(variant, HEATWAVE, "click", clicks)]
    return found


def test_no_verdict_before_the_planned_sample_whatever_the_difference() -> None:
    plan = experiment(baseline_ctr=0.1, mde=0.5)
    planned = plan.plan.impressions_per_variant
    early = build_report(plan, tallies({"defaults": (300, 20), "curated": (300, 90)}), {})
    assert early["variants"][1]["outcome"] == "better"  # what a peek would see ...
    assert early["verdict"]["state"] == "keep_running"  # ... is not a verdict
    assert early["variants"][0]["still_needed"] == planned - 300
    full = {"defaults": (planned, planned // 10), "curated": (planned, planned // 5)}
    assert build_report(plan, tallies(full), {})["verdict"]["winner"] == "curated"
    same = {"defaults": (planned, planned // 10), "curated": (planned, planned // 10)}
    assert build_report(plan, tallies(same), {})["verdict"]["state"] == "no_difference"
    worse = {"defaults": (planned, planned // 5), "curated": (planned, planned // 10)}
    assert build_report(plan, tallies(worse), {})["verdict"]["state"] == "control_wins"


def test_three_variants_are_each_tested_at_a_corrected_level() -> None:
    three = experiment(("defaults", "tuned", "curated"))
    report = build_report(three, [], {})
    assert report["test_level"] == pytest.approx(0.025)
    assert three.plan.impressions_per_variant > experiment().plan.impressions_per_variant


def test_starting_stopping_and_the_clear_errors(client: FlaskClient) -> None:
    start = {"name": "boxes", "variants": ["defaults", "curated"], "split": [70, 30]}
    answer = client.post("/experiments", json=start)
    assert answer.status_code == 201
    assert answer.get_json()["experiment"]["plan"]["impressions_per_variant"] == 8158
    again = client.post("/experiments", json={**start, "name": "other"})
    assert again.status_code == 409 and again.get_json()["code"] == "experiment_conflict"
    for bad, field in [
        ({**start, "variants": ["defaults", "mine"]}, "Unknown variant 'mine'"),
        ({**start, "variants": ["defaults"]}, "two or more"),
        ({**start, "split": [60, 60]}, "summing to 100"),
        ({**start, "alpha": 2}, "Field 'alpha'"),
        ({**start, "colour": "red"}, "Unknown field 'colour'"),
        ({**start, "name": "no spaces"}, "Experiment name"),
        ({**start, "variants": ["defaults", "tuned"]}, "needs a learned ranking profile"),
    ]:
        refused = client.post("/experiments", json=bad)
        assert refused.status_code == 400 and field in refused.get_json()["error"]
    assert client.get("/experiments/boxes").get_json()["experiment"]["state"] == "running"
    stopped = client.post("/experiments/boxes/stop").get_json()["experiment"]
    assert stopped["state"] == "stopped"
    assert client.post("/experiments", json=start).status_code == 409  # a name is used once
    assert client.get("/experiments/nope/report").get_json()["code"] == "experiment_not_found"
    assert [e["name"] for e in client.get("/experiments").get_json()["experiments"]] == ["boxes"]


def test_writes_need_the_token_when_one_is_set(settings: Settings, hashing: Any) -> None:
    from service.web.app import create_app

    client = create_app(settings.replace(api_token="s3cret"), encoder=hashing).test_client()
    start = {"name": "t", "variants": "defaults,curated"}
    assert client.post("/experiments", json=start).status_code == 401
    auth = {"Authorization": "Bearer s3cret"}
    assert client.post("/experiments", json=start, headers=auth).status_code == 201
    assert client.post("/experiments/t/stop").status_code == 401
    assert client.get("/experiments/t/report").status_code == 200  # reads are open
    event = {"type": "impression", "recommendation_id": "r", "article": HEATWAVE}
    beacon = {"events": [{**event, "variant": "defaults", "visitor": "v"}]}
    assert client.post("/events", json=beacon, headers=BROWSER).status_code == 202


def visitor_in(client: FlaskClient, variant: str, path: str) -> tuple[str, dict[str, Any]]:
    for i in range(200):
        answer = client.get(f"{path}&visitor=v{i}").get_json()
        if answer["variant"] == variant:
            return f"v{i}", answer
    raise AssertionError(f"no visitor in {variant}")


def test_the_curated_variant_shows_the_editors_box_and_tuned_its_own_ranking(
    client: FlaskClient, settings: Settings
) -> None:
    with ArticleStore(settings.db_path) as store:
        store.set_curated(TRAMS, [(i, 1.0) for i in CURATED])
    weights = {"dense": 0.1, "lexical": 3.0, "labels": 0.0, "title": 2.0, "age": 0.0}
    learned = {"ranking_version": RANKING_VERSION}
    save_profile(settings.data_dir, Profile("hand-made", weights, learned=learned))
    start = {"name": "three", "variants": "defaults,tuned,curated"}
    assert client.post("/experiments", json=start).status_code == 201
    path = f"/articles/{TRAMS}/related?k=4"
    visitor, boxed = visitor_in(client, "curated", path)
    assert boxed["source"] == "curated" and [r["id"] for r in boxed["related"]] == CURATED
    assert client.get(f"{path}&visitor={visitor}").get_json() == boxed  # the same reader
    _, plain = visitor_in(client, "defaults", path)
    _, tuned = visitor_in(client, "tuned", path)
    assert plain["source"] == "index" and tuned["source"] == "search"
    assert (
        len({plain["recommendation_id"], tuned["recommendation_id"], boxed["recommendation_id"]})
        == 3
    )
    # Without curated links the curated variant is the defaults' list.
    _, other = visitor_in(client, "curated", f"/articles/{UNDATED}/related?k=3")
    assert other["source"] != "curated"


def test_the_cli_starts_shows_reports_and_stops(settings: Settings) -> None:
    runner = CliRunner()
    base = ["--data-dir", str(settings.data_dir)]
    started = runner.invoke(
        cli, ["experiment", "start", "cli", "--variants", "defaults,curated", "--mde", "0.5", *base]
    )
    planned = sample_size(0.05, 0.5, 0.05, 0.8)
    assert started.exit_code == 0 and f"a verdict after {planned:,} impressions" in started.output
    status = runner.invoke(cli, ["experiment", "status", "--json", *base])
    assert json.loads(status.output)[0]["state"] == "running"
    report = runner.invoke(cli, ["experiment", "report", "cli", "--json", *base])
    assert json.loads(report.output)["verdict"]["state"] == "keep_running"
    text = runner.invoke(cli, ["experiment", "report", "cli", *base])
    assert "Keep running" in text.output and "defaults" in text.output
    assert runner.invoke(cli, ["experiment", "stop", "cli", *base]).exit_code == 0
    missing = runner.invoke(cli, ["experiment", "stop", "nope", *base])
    assert missing.exit_code == 2 and "no experiment named 'nope'" in missing.output


def call(server: Server, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    headers = {**BROWSER, "Content-Type": "text/plain"}
    request = urllib.request.Request(server.url(path), data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as answer:
        return json.load(answer)


TRUE_CTR = {"defaults": 0.10, "curated": 0.25}


def simulate(server: Server, visitors: range, rng: random.Random) -> dict[str, int]:
    """Each synthetic reader loads a page, sees its list, clicks with its variant's rate."""
    articles = [TRAMS, HEATWAVE, COPY]
    events: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for i in visitors:
        visitor = f"reader-{i}"
        source = articles[i % len(articles)]
        answer = call(server, f"/articles/{source}/related?k=3&visitor={visitor}")
        variant, rid = answer["variant"], answer["recommendation_id"]
        seen[variant] = seen.get(variant, 0) + 1
        base = {"recommendation_id": rid, "article": source, "variant": variant}
        events.append({**base, "type": "impression", "visitor": visitor})
        if rng.random() < TRUE_CTR[variant]:
            target = answer["related"][0]["id"]
            events.append(
                {**base, "type": "click", "target": target, "position": 0, "visitor": visitor}
            )
        if len(events) >= 90:
            assert call(server, "/events", {"events": events})["dropped"] == 0
            events = []
    if events:
        assert call(server, "/events", {"events": events})["dropped"] == 0
    return seen


def test_a_simulation_with_known_click_rates_gets_the_verdict_and_intervals_right(
    settings: Settings, start_server: Any
) -> None:
    with ArticleStore(settings.db_path) as store:
        for source in (TRAMS, HEATWAVE, COPY):
            store.set_curated(source, [(i, 1.0) for i in CURATED])
    limits = {"RELATED_EVENTS_RATE": "100000", "RELATED_EVENTS_GLOBAL_RATE": "100000"}
    server: Server = start_server(settings.data_dir, env=limits)
    plan = {"name": "sim", "variants": "defaults,curated", "baseline_ctr": 0.1, "mde": 1.0}
    planned = call(server, "/experiments", plan)["experiment"]["plan"]["impressions_per_variant"]
    assert planned == 199
    rng = random.Random(20)

    def report() -> dict[str, Any]:
        found: dict[str, Any] = call(server, "/experiments/sim/report")["report"]
        return found

    def impressions() -> int:
        return sum(row["impressions"] for row in report()["variants"])

    seen = simulate(server, range(100), rng)
    wait_for(lambda: impressions() == 100, "the first 100 impressions written")
    assert report()["verdict"]["state"] == "keep_running"
    for variant, count in simulate(server, range(100, 700), rng).items():
        seen[variant] += count
    wait_for(lambda: impressions() == 700, "all 700 impressions written")
    final = report()
    rows = {row["variant"]: row for row in final["variants"]}
    assert all(row["impressions"] >= planned for row in rows.values())
    assert {v: row["impressions"] for v, row in rows.items()} == seen
    for variant, rate in TRUE_CTR.items():
        low, high = rows[variant]["interval"]
        assert low <= rate <= high, f"{variant}: {rate} outside [{low}, {high}]"
    assert final["verdict"]["state"] == "winner" and final["verdict"]["winner"] == "curated"
    by_section = [sum(v["impressions"] for v in s["variants"]) for s in final["sections"]]
    assert len(by_section) >= 2 and sum(by_section) == 700
    with urllib.request.urlopen(server.url("/metrics"), timeout=HTTP_TIMEOUT) as answer:
        metrics = answer.read().decode()
    clicks = [
        line
        for line in metrics.splitlines()
        if line.startswith('related_events_total{type="click",variant="curated"}')
    ]
    assert clicks and float(clicks[0].split()[-1]) == rows["curated"]["clicks"]
    # The same reader gets the same variant from whichever worker answers: its hash's.
    sim = Experiments(Path(settings.data_dir)).get("sim")
    for i in range(0, 700, 35):
        again = {
            call(server, f"/articles/{TRAMS}/related?k=3&visitor=reader-{i}")["variant"]
            for _ in range(3)
        }
        assert again == {sim.variant_for(f"reader-{i}")}
    Experiments(Path(settings.data_dir)).stop("sim")
    after = call(server, f"/articles/{TRAMS}/related?k=3&visitor=reader-1")
    assert after["variant"] == "defaults"


def test_the_collection_page_shows_the_report_with_its_chart(
    settings: Settings, start_server: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    require_browser()
    from playwright.sync_api import expect

    found = Experiments(settings.data_dir).start(
        "boxes-vs-lists", ("defaults", "curated"), (50, 50), Plan(baseline_ctr=0.1, mde=0.5)
    )
    events = EventStore(settings.events_path, max_rows=100_000, retention_days=30)
    rng = random.Random(7)
    rates = {"defaults": 0.11, "curated": 0.16}
    batch = []
    for i in range(1600):
        variant = found.variant_for(f"r{i}")
        source = (TRAMS, HEATWAVE, UNDATED)[i % 3]
        row = dict(at=time.time(), recommendation_id=f"id{i}", article=source, variant=variant)
        common = {**row, "experiment": found.name, "visitor": f"v{i}"}
        batch.append(Event(type="impression", target="", position=None, **common))
        if rng.random() < rates[variant]:
            batch.append(Event(type="click", target=COPY, position=0, **common))
    events.submit(batch)
    assert events.flush()
    server: Server = start_server(settings.data_dir, workers=1)
    report = call(server, f"/experiments/{found.name}/report")["report"]
    with chromium() as browser:
        page = browser.new_context(viewport=LAPTOP).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(server.url("/ui/collection"))
        expect(page.locator("#experiment-verdict")).to_have_text(report["verdict"]["text"])
        expect(page.locator("#ctr-chart circle")).to_have_count(2)
        cells = page.locator("#experiment-variants tbody th")
        expect(cells).to_have_text(["defaults", "curated"])
        shown = f"{report['variants'][1]['impressions']:,}"
        expect(page.locator("#experiment-variants tbody tr").nth(1)).to_contain_text(shown)
        assert accessibility_problems(page) == [] and errors == []
        save_screenshot(page, screenshot_dir(tmp_path_factory), "experiment_report")
        browser.close()
