"""Reading article records from files: JSONL, a JSON array, or CSV with a header row.

Each reader yields `(where, record_or_problem)` lazily, so a large JSONL or CSV file streams; a
record that can't even be parsed comes back as a FieldProblem naming its line.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from service.article import KNOWN_FIELDS
from service.errors import InvalidArticles
from service.ingest import json_input
from service.ingest.records import FieldProblem

Parsed = tuple[str, Any | FieldProblem]


def detect_format(path: Path) -> str:
    """'jsonl', 'json' or 'csv', from the extension, else from the first non-blank character."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    with path.open("r", encoding="utf-8-sig") as handle:
        head = handle.read(4096).lstrip()
    if head.startswith("["):
        return "json"
    if head.startswith("{"):
        return "jsonl"
    return "csv"


def read_records(path: Path, fmt: str | None = None) -> Iterator[Parsed]:
    fmt = fmt or detect_format(path)
    readers = {"jsonl": _read_jsonl, "json": _read_json_array, "csv": _read_csv}
    if fmt not in readers:
        raise ValueError(f"unknown format {fmt!r}: use jsonl, json or csv")
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        yield from readers[fmt](handle)


def _read_jsonl(handle: TextIO) -> Iterator[Parsed]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            yield where, json_input.loads(line)
        except json_input.JSONRefused as exc:
            reason = str(exc).replace(" at line 1 column ", " at column ")
            yield where, FieldProblem(where, None, f"invalid JSON: {reason}")


def _read_json_array(handle: TextIO) -> Iterator[Parsed]:
    try:
        data = json_input.loads(handle.read())
    except json_input.JSONRefused as exc:
        yield "file", FieldProblem("file", None, f"invalid JSON: {exc}")
        return
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        yield (
            "file",
            FieldProblem("file", None, "a JSON file must hold an array of article objects"),
        )
        return
    for i, record in enumerate(data):
        yield f"index {i}", record


def _read_csv(handle: TextIO) -> Iterator[Parsed]:
    reader = csv.DictReader(handle)
    if not reader.fieldnames:
        return
    _check_header(list(reader.fieldnames))
    for row in reader:
        # Line of the row's last physical line: quoted cells may span lines.
        where = f"line {reader.line_num}"
        if None in row:
            yield where, FieldProblem(where, None, "more cells than the header has columns")
            continue
        yield where, dict(row)


def _check_header(header: list[str]) -> None:
    """InvalidArticles naming the header when it can't be the fields of article records: the
    first row must name them (id, title, ...), separated by commas."""
    if "id" in header and "title" in header:
        return
    shown = ",".join(header)
    shown = shown if len(shown) <= 120 else shown[:117] + "..."
    separators = [s for s in (";", "\t", "|") if len(header) == 1 and s in header[0]]
    if separators:
        reason = (
            f"the header {shown!r} is one column: columns must be separated by ',' "
            f"(this file seems to use {separators[0]!r})"
        )
    else:
        missing = " and ".join(repr(name) for name in ("id", "title") if name not in header)
        reason = (
            f"the header {shown!r} has no {missing} column: the first row must name the "
            f"fields ({', '.join(KNOWN_FIELDS)}, or any other), in lower case"
        )
    raise InvalidArticles(
        f"line 1: {reason}", details=[FieldProblem("line 1", None, reason).to_json()]
    )
