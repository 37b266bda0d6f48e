"""Metrics in Prometheus's text format at `GET /metrics` (prometheus-client).

Under `related serve` every process writes its counts to files in one directory
(prometheus-client's multiprocess mode, PROMETHEUS_MULTIPROC_DIR, made empty for each server by
`service.web.server`), and /metrics sums them, so whichever worker answers reports every worker.
Rebuilds started through the API run with the same directory, so their durations and outcomes
are counted too. What is a state rather than a count (the generation's age and size, the last
build, the rebuild queue) is read from disk when /metrics is asked.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from service.build.rebuild import PENDING_FILE
from service.build.state import build_running, read_status
from service.services import Services

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BUILD_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def _registry() -> CollectorRegistry:
    """A registry of its own, so that several apps can live in one process (tests). In
    multiprocess mode the values go to files whatever registry holds the metric."""
    if multiprocess_dir():
        # The client picks its value store when first imported: make sure it is the files.
        values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    return CollectorRegistry(auto_describe=True)


class Metrics:
    """The counters and histograms one process updates."""

    def __init__(self) -> None:
        self.registry = _registry()
        self.requests = Counter(
            "related_http_requests",
            "HTTP requests answered, by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "related_http_request_duration_seconds",
            "Time from a request's arrival (whole) to its answer, by route and status.",
            ["route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.answers = Counter(
            "related_answers",
            "Related lists answered, by where they came from: index, search, live, draft, pins.",
            ["source"],
            registry=self.registry,
        )
        # Per worker (each has its own caches): every live process's value, by pid.
        self.cache_bytes = Gauge(
            "related_cache_bytes",
            "Bytes a worker's cache holds (estimated), by cache: answers, articles.",
            ["cache"],
            registry=self.registry,
            multiprocess_mode="liveall",
        )
        self.cache_entries = Gauge(
            "related_cache_entries",
            "Entries a worker's cache holds, by cache: answers, articles.",
            ["cache"],
            registry=self.registry,
            multiprocess_mode="liveall",
        )
        self.events = Counter(
            "related_events",
            "Impressions and clicks accepted, by type and variant: a variant's CTR is "
            "rate(clicks) / rate(impressions).",
            ["type", "variant"],
            registry=self.registry,
        )
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._answers: dict[str, Any] = {}
        self._events: dict[tuple[str, str], Any] = {}

    def cache_observer(self, cache: str) -> Callable[[int, int], None]:
        """What a cache calls with (bytes, entries) after each change of its contents."""
        size, entries = self.cache_bytes.labels(cache), self.cache_entries.labels(cache)

        def observe(nbytes: int, count: int) -> None:
            size.set(nbytes)
            entries.set(count)

        observe(0, 0)
        return observe

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        children = self._children.get((route, method, status))
        if children is None:  # labels() costs a lock and a look-up: once per label set
            children = (
                self.requests.labels(route, method, str(status)),
                self.latency.labels(route, str(status)),
            )
            self._children[(route, method, status)] = children
        children[0].inc()
        children[1].observe(seconds)

    def answered(self, source: str) -> None:
        child = self._answers.get(source)
        if child is None:
            child = self._answers[source] = self.answers.labels(source)
        child.inc()

    def event(self, kind: str, variant: str) -> None:
        child = self._events.get((kind, variant))
        if child is None:
            child = self._events[(kind, variant)] = self.events.labels(kind, variant)
        child.inc()


def record_build(seconds: float, outcome: str, mode: str) -> None:
    """Count a build in the server's metrics directory (a rebuild the API started); a build
    run by hand has no such directory, and its last state is read from its status file."""
    if not multiprocess_dir():
        return
    registry = _registry()
    Counter(
        "related_builds",
        "Builds by outcome (succeeded, failed) and mode (full, incremental).",
        ["outcome", "mode"],
        registry=registry,
    ).labels(outcome, mode).inc()
    Histogram(
        "related_build_duration_seconds",
        "Duration of builds, by outcome.",
        ["outcome"],
        buckets=BUILD_BUCKETS,
        registry=registry,
    ).labels(outcome).observe(seconds)


class StateCollector(Collector):
    """Gauges read at scrape time: the generation served, the last build, the rebuild queue."""

    def __init__(self, services: Callable[[], Services]) -> None:
        self.services = services

    def collect(self) -> Iterator[GaugeMetricFamily]:
        s = self.services()
        data_dir = s.settings.data_dir
        try:
            generation = s.generations.get()
        except Exception:  # a generation that can't be served: /index says why
            generation = None
        if generation is not None:
            manifest = generation.manifest
            info = GaugeMetricFamily(
                "related_generation_info",
                "The generation served (value 1), with its name, model and index kind.",
                labels=["generation", "model", "index_kind", "mode"],
            )
            info.add_metric(
                [generation.name, manifest.model, manifest.index_kind, manifest.mode], 1
            )
            yield info
            yield _gauge(
                "related_generation_age_seconds",
                "Seconds since the generation served was built.",
                time.time() - datetime.fromisoformat(manifest.built_at).timestamp(),
            )
            yield _gauge(
                "related_generation_articles", "Articles in the generation served.", manifest.count
            )
            yield _gauge(
                "related_generation_bytes",
                "Size on disk of the generation served.",
                sum(p.stat().st_size for p in Path(generation.path).iterdir() if p.is_file()),
            )
            yield _gauge(
                "related_articles_changed_since_build",
                "Articles added, changed or deleted in the store since that generation was built.",
                s.store.changes_since(manifest.store_revision),
            )
        status = read_status(data_dir) or {}
        if "state" in status:
            state = GaugeMetricFamily(
                "related_last_build_state",
                "The last build's state (value 1): running, succeeded, failed or interrupted.",
                labels=["state"],
            )
            state.add_metric([str(status["state"])], 1)
            yield state
        if status.get("state") == "failed":
            failed = GaugeMetricFamily(
                "related_last_build_failure",
                "The last build failed (value 1), with its error code (storage_full, ...).",
                labels=["code"],
            )
            failed.add_metric([str(status.get("code") or "unknown")], 1)
            yield failed
        if status.get("started_at") and status.get("finished_at"):
            seconds = _seconds(status["finished_at"]) - _seconds(status["started_at"])
            yield _gauge(
                "related_last_build_duration_seconds",
                "Duration of the last finished build.",
                seconds,
            )
        yield _gauge("related_rebuild_running", "1 while a build runs.", build_running(data_dir))
        yield _gauge(
            "related_rebuild_queued",
            "1 while a rebuild waits behind the running one.",
            (data_dir / PENDING_FILE).exists(),
        )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value))


def _seconds(iso: Any) -> float:
    return datetime.fromisoformat(str(iso)).timestamp()


metrics_routes = Blueprint("metrics", __name__)


@metrics_routes.get("/metrics")
def exposition() -> Response:
    services: Services = current_app.extensions["related"]
    metrics: Metrics = current_app.extensions["related.metrics"]
    registry = CollectorRegistry(auto_describe=True)
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Forward(metrics.registry))
    registry.register(StateCollector(lambda: services))
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


class _Forward(Collector):
    """This process's own metrics (outside multiprocess mode: tests, an app run in process)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Any]:
        yield from self.registry.collect()
