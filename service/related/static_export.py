"""`related export --format hugo|jekyll|json-dir`: the data files static-site generators read.

- `hugo`: `DIR/data/related.json`, one object keyed by article id (`site.Data.related`);
- `jekyll`: `DIR/_data/related.json`, the same object (`site.data.related`);
- `json-dir`: `DIR/<id>.json`, one file per article (a path-like id is a path; each segment
  percent-encoded but for RFC 3986's unreserved characters), for a site that fetches them.

Each list is `{"title", "related": [{id, title, url, ...}]}`: the article fields of the HTTP
answer without the scores, the generation or the recommendation id, so a rebuild that leaves a
list as it was leaves its bytes as they were. A file is replaced (atomically,
`service.disk.atomic`) only when its bytes differ, and a run says how many it wrote, left and
removed: a site's build then sees only what changed. json-dir keeps the list of files it wrote
in `DIR/.related-export.json` and removes, on the next run, only those of its own files whose
article is gone: nothing else in DIR is touched.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from service.config.options import RelatedOptions
from service.disk.atomic import atomic_file
from service.errors import InvalidParameter
from service.related.export import every_list
from service.related.recommender import RelatedResult
from service.services import Services

ONE_FILE = {"hugo": Path("data/related.json"), "jekyll": Path("_data/related.json")}
FORMATS = (*ONE_FILE, "json-dir")
MANIFEST = ".related-export.json"
"""json-dir's record of the files it wrote (relative paths), so it removes only its own."""
LEFT_OUT = ("score",)
"""Changes with every build's statistics while the list stays the same: not in the data."""


@dataclass
class StaticExport:
    """What a run did."""

    lists: int = 0
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "lists": self.lists,
            "written": len(self.written),
            "unchanged": self.unchanged,
            "removed": len(self.removed),
        }


def entry(result: RelatedResult) -> dict[str, Any]:
    """One article's list as the data files hold it."""
    items = [
        {
            name: value
            for name, value in item.to_json(result.options.fields).items()
            if name not in LEFT_OUT
        }
        for item in result.items
    ]
    return {"title": result.article.title, "related": items}


def encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def file_for(article_id: str) -> Path:
    """json-dir's file for `article_id` (ids never hold empty, `.` or `..` segments)."""
    segments = [quote(segment, safe="") for segment in article_id.split("/")]
    segments[-1] += ".json"
    return Path(*segments)


class _Unchanged(Exception):
    """The new bytes equal the file's: leave it (and drop the temporary file)."""


def write_if_changed(path: Path, chunks: Iterable[bytes]) -> bool:
    """Stream `chunks` to a temporary file beside `path` and put it in place only if its bytes
    differ from `path`'s; return whether it did."""
    digest = hashlib.blake2b()
    size = 0
    try:
        with atomic_file(path, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            if same_bytes(path, size, digest.digest()):
                raise _Unchanged
    except _Unchanged:
        return False
    return True


def same_bytes(path: Path, size: int, digest: bytes) -> bool:
    try:
        if path.stat().st_size != size:
            return False
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "blake2b").digest() == digest
    except FileNotFoundError:
        return False


def export_static(
    services: Services,
    options: RelatedOptions,
    output: Path,
    fmt: str,
    *,
    progress: Callable[[int], None] | None = None,
) -> StaticExport:
    """Write the data files of `fmt` under `output`; see the module's docstring."""
    if fmt not in FORMATS:
        raise InvalidParameter(
            f"Parameter 'format' must be one of {', '.join(FORMATS)}, got {fmt!r}"
        )
    report = StaticExport()
    lists = counted(every_list(services, options), report, progress)
    if fmt in ONE_FILE:
        path = ONE_FILE[fmt]
        if write_if_changed(output / path, one_object(lists)):
            report.written.append(str(path))
        else:
            report.unchanged += 1
        return report
    return write_folder(output, lists, report)


def counted(
    lists: Iterator[tuple[str, RelatedResult]],
    report: StaticExport,
    progress: Callable[[int], None] | None,
) -> Iterator[tuple[str, RelatedResult]]:
    for pair in lists:
        report.lists += 1
        if progress is not None:
            progress(1)
        yield pair


def one_object(lists: Iterable[tuple[str, RelatedResult]]) -> Iterator[bytes]:
    """`{"id": entry, ...}` a line per article (a diff of two exports reads by article)."""
    yield b"{"
    separator = b"\n"
    for article_id, result in lists:
        yield separator + encode(article_id) + b":" + encode(entry(result))
        separator = b",\n"
    yield b"\n}\n"


def write_folder(
    output: Path, lists: Iterable[tuple[str, RelatedResult]], report: StaticExport
) -> StaticExport:
    before = read_manifest(output)
    now: list[str] = []
    for article_id, result in lists:
        relative = file_for(article_id)
        now.append(relative.as_posix())
        if write_if_changed(output / relative, [encode(entry(result)) + b"\n"]):
            report.written.append(relative.as_posix())
        else:
            report.unchanged += 1
    for gone in sorted(set(before) - set(now)):
        path = output / gone
        if path.is_file():
            path.unlink()
            report.removed.append(gone)
    write_if_changed(output / MANIFEST, [encode({"files": sorted(now)}) + b"\n"])
    return report


def read_manifest(output: Path) -> list[str]:
    """The files a previous json-dir run wrote (none when there was none, or it is unreadable:
    then nothing is removed)."""
    try:
        files = json.loads((output / MANIFEST).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    safe = [f for f in files if isinstance(f, str) and ".." not in Path(f).parts]
    return [f for f in safe if not Path(f).is_absolute()]
