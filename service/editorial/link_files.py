"""Curated-link files: JSONL ({"id", "related": [...], "grades"?: [...]}) or CSV
(source_id,target_id[,grade]), as `related evaluate` and `related curated import` read them."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from service.errors import RelatedError
from service.store import Links

__all__ = ["InvalidLinks", "Links", "read_links"]


class InvalidLinks(RelatedError):
    status = 400
    code = "invalid_links"


def read_links(path: Path) -> Links:
    """Curated links from JSONL ({"id", "related": [...], "grades"?: [...]}) or CSV
    (source_id,target_id[,grade], with or without a header row). Self-links and repeats are
    dropped; every bad line is reported (InvalidLinks) and nothing is returned."""
    links: Links = {}
    problems: list[str] = []

    def add(source: str, target: str, grade: float) -> None:
        if target != source:
            links.setdefault(source, {}).setdefault(target, grade)

    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            for number, row in enumerate(csv.reader(handle), start=1):
                if not row or (number == 1 and row[0].strip().lower() in ("source_id", "source")):
                    continue
                if len(row) < 2 or not row[0].strip() or not row[1].strip():
                    problems.append(f"line {number}: expected source_id,target_id[,grade]")
                    continue
                grade = _grade(row[2] if len(row) > 2 and row[2].strip() else 1.0)
                if grade is None:
                    problems.append(f"line {number}: grade {row[2]!r} is not a finite number")
                    continue
                add(row[0].strip(), row[1].strip(), grade)
    else:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"line {number}: invalid JSON: {exc.msg}")
                continue
            source = record.get("id") if isinstance(record, dict) else None
            related = record.get("related") if isinstance(record, dict) else None
            if not isinstance(source, str) or not isinstance(related, list):
                problems.append(f'line {number}: expected {{"id": str, "related": [ids]}}')
                continue
            raw_grades = record.get("grades") or [1.0] * len(related)
            grades = [_grade(g) for g in raw_grades] if isinstance(raw_grades, list) else []
            if len(grades) != len(related) or any(g is None for g in grades):
                problems.append(
                    f"line {number}: field 'grades' must be numbers, one per related id"
                )
                continue
            if not all(isinstance(t, str) and t for t in related):
                problems.append(f"line {number}: field 'related' must be a list of ids")
                continue
            for target, grade in zip(related, grades, strict=True):
                add(source, target, float(grade or 0.0))
    if problems:
        raise InvalidLinks(f"{len(problems)} bad lines in {path}: " + "; ".join(problems[:5]))
    return links


def _grade(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        grade = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return grade if math.isfinite(grade) else None
