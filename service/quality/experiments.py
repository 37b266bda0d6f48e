"""A/B experiments: their plans, on disk in one file, and which variant a visitor sees.

    <data-dir>/experiments.json   {"experiments": [ {name, variants, split, plan, ...}, ... ]}

At most one experiment runs at a time. Its plan is fixed when it starts and stored with it:
alpha, power, the minimum detectable effect (relative) and the baseline CTR it was sized for,
hence the impressions each variant needs before the report gives a verdict (no peeking: before
that the verdict is "keep running"). The first variant is the control.

A visitor's variant is a hash of the experiment's name and the visitor's key into 10,000
buckets cut by the split: the same visitor always sees the same variant of one experiment,
and different experiments cut the same visitors independently. Every write is atomic and made
under a file lock; readers (every related request) re-read the file only when its stat changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from service.disk.atomic import atomic_write_text
from service.disk.lock import FileLock
from service.errors import ExperimentConflict, ExperimentNotFound, InvalidParameter
from service.quality.ab_stats import sample_size
from service.quality.profiles import DIRECTORY as PROFILES
from service.quality.profiles import active_profile

FILE = "experiments.json"
LOCK = "experiments.lock"
VARIANTS = ("defaults", "tuned", "curated")
"""defaults: the built lists; tuned: ranked with the latest learned profile's weights;
curated: the editors' own box where the article has curated links, else defaults."""
CONTROL_DEFAULT = "defaults"
BUCKETS = 10_000
PLAN_FIELDS = ("alpha", "power", "mde", "baseline_ctr")
START_FIELDS = ("name", "variants", "split", *PLAN_FIELDS)
PLAN_BOUNDS = {
    "alpha": (0.0, 0.5),
    "power": (0.5, 1.0),
    "mde": (-1.0, 10.0),
    "baseline_ctr": (0.0, 1.0),
}
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class Plan:
    """The verdict rule, fixed at the start."""

    alpha: float = 0.05
    power: float = 0.8
    mde: float = 0.2
    """The smallest relative change in CTR worth detecting (0.2: from 5% to 6%)."""
    baseline_ctr: float = 0.05
    """The control's expected CTR the sample size is computed for."""
    impressions_per_variant: int = 0
    """Impressions each variant needs before a verdict."""

    def sized(self, comparisons: int) -> Plan:
        per_test_alpha = self.alpha / max(1, comparisons)
        needed = sample_size(self.baseline_ctr, self.mde, per_test_alpha, self.power)
        return replace(self, impressions_per_variant=needed)


@dataclass(frozen=True)
class Experiment:
    name: str
    variants: tuple[str, ...]
    split: tuple[int, ...]
    """Percent of visitors per variant, summing to 100."""
    plan: Plan
    started_at: float
    stopped_at: float | None = None
    profile: str | None = None
    """The learned profile the `tuned` variant ranks with (fixed at the start)."""

    @property
    def running(self) -> bool:
        return self.stopped_at is None

    @property
    def control(self) -> str:
        return self.variants[0]

    def variant_for(self, visitor: str | None) -> str:
        """The visitor's variant; the control for a request without a visitor key."""
        if not visitor:
            return self.control
        digest = hashlib.blake2b(f"{self.name}\0{visitor}".encode(), digest_size=8).digest()
        bucket = int.from_bytes(digest, "big") % BUCKETS
        edge = 0
        for variant, share in zip(self.variants, self.split, strict=True):
            edge += share * BUCKETS // 100
            if bucket < edge:
                return variant
        return self.variants[-1]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["variants"], data["split"] = list(self.variants), list(self.split)
        data["state"] = "running" if self.running else "stopped"
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Experiment:
        fields = {k: v for k, v in data.items() if k != "state"}
        return cls(
            **{
                **fields,
                "variants": tuple(data["variants"]),
                "split": tuple(data["split"]),
                "plan": Plan(**data["plan"]),
            }
        )


def parse_variants(text: str | list[str]) -> tuple[str, ...]:
    names = text.split(",") if isinstance(text, str) else text
    variants = tuple(str(v).strip() for v in names if str(v).strip())
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise InvalidParameter(
            f"Unknown variant {unknown[0]!r}; variants are {', '.join(VARIANTS)}"
        )
    if len(variants) < 2 or len(set(variants)) != len(variants):
        raise InvalidParameter("An experiment needs two or more different variants")
    return variants


def parse_split(text: str | list[int] | None, count: int) -> tuple[int, ...]:
    if text is None or text == "":
        even = [100 // count] * count
        even[0] += 100 - sum(even)
        return tuple(even)
    parts = text.split(",") if isinstance(text, str) else text
    try:
        split = tuple(int(str(p).strip()) for p in parts)
    except ValueError:
        raise InvalidParameter(
            f"The split must be whole percents like 50,50, got {text!r}"
        ) from None
    if len(split) != count or any(s <= 0 for s in split) or sum(split) != 100:
        raise InvalidParameter(
            f"The split needs {count} positive percents (one per variant) summing to 100, "
            f"got {text!r}"
        )
    return split


def tuned_profile(data_dir: Path) -> str | None:
    """The profile a `tuned` variant ranks with: the active one, else the newest learned."""
    active = active_profile(data_dir)
    if active is not None:
        return active.name
    learned = sorted((data_dir / PROFILES).glob("*.json"))
    return learned[-1].stem if learned else None


def parse_plan(values: dict[str, Any]) -> Plan:
    """The plan from given numbers (JSON numbers or flag text); each bounded, named if bad."""
    chosen: dict[str, Any] = {}
    for name in PLAN_FIELDS:
        value = values.get(name)
        if value is None:
            continue
        try:
            number = float(value) if not isinstance(value, bool) else float("nan")
        except (TypeError, ValueError):
            number = float("nan")
        low, high = PLAN_BOUNDS[name]
        if not low < number < high or number == 0:
            raise InvalidParameter(f"Field {name!r} must be a number between {low} and {high}")
        chosen[name] = number
    return replace(Plan(), **chosen)


def start_from_values(store: Experiments, data_dir: Path, values: dict[str, Any]) -> Experiment:
    """Start from raw values (an HTTP body or CLI flags): the one path both take."""
    name = values.get("name")
    if not isinstance(name, str):
        raise InvalidParameter("Field 'name' must be the experiment's name")
    variants_given = values.get("variants")
    if not isinstance(variants_given, str | list):
        raise InvalidParameter("Field 'variants' must list the variants, e.g. defaults,tuned")
    variants = parse_variants(variants_given)
    split = parse_split(values.get("split"), len(variants))
    profile = tuned_profile(data_dir) if "tuned" in variants else None
    return store.start(name, variants, split, parse_plan(values), profile)


class Experiments:
    """The experiments of one data directory; `running()` is cheap enough for every request."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / FILE
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._all: list[Experiment] = []

    def all(self) -> list[Experiment]:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return []
        seen = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if seen != self._seen:
                self._all = self._read()
                self._seen = seen
            return list(self._all)

    def running(self) -> Experiment | None:
        return next((e for e in self.all() if e.running), None)

    def get(self, name: str) -> Experiment:
        found = next((e for e in self.all() if e.name == name), None)
        if found is None:
            raise ExperimentNotFound(f"There is no experiment named {name!r}")
        return found

    def start(
        self,
        name: str,
        variants: tuple[str, ...],
        split: tuple[int, ...],
        plan: Plan,
        profile: str | None = None,
    ) -> Experiment:
        if not NAME.fullmatch(name):
            raise InvalidParameter(
                f"Experiment name {name!r}: 1-64 letters, digits, '.', '_' or '-', starting "
                "with a letter or digit"
            )
        if "tuned" in variants and profile is None:
            raise InvalidParameter(
                "The 'tuned' variant needs a learned ranking profile: run `related tune` first"
            )
        try:
            plan = plan.sized(len(variants) - 1)
        except ValueError as exc:
            raise InvalidParameter(f"The plan can't be sized: {exc}") from None
        with self._write() as experiments:
            running = next((e for e in experiments if e.running), None)
            if running is not None:
                raise ExperimentConflict(
                    f"Experiment {running.name!r} is running: stop it before starting another"
                )
            if any(e.name == name for e in experiments):
                raise ExperimentConflict(f"An experiment named {name!r} exists: pick a new name")
            experiment = Experiment(name, variants, split, plan, time.time(), profile=profile)
            experiments.append(experiment)
        return experiment

    def stop(self, name: str) -> Experiment:
        with self._write() as experiments:
            for i, experiment in enumerate(experiments):
                if experiment.name == name:
                    if experiment.running:
                        experiments[i] = replace(experiment, stopped_at=time.time())
                    return experiments[i]
        raise ExperimentNotFound(f"There is no experiment named {name!r}")

    def _read(self) -> list[Experiment]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        return [Experiment.from_json(e) for e in data["experiments"]]

    @contextmanager
    def _write(self) -> Iterator[list[Experiment]]:
        """Read-modify-write under the lock: the list is saved when the block ends."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with FileLock(self.data_dir / LOCK).waiting():
            experiments = self._read()
            yield experiments
            body = {"experiments": [e.to_json() for e in experiments]}
            atomic_write_text(self.path, json.dumps(body, indent=2) + "\n")
