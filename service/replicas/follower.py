"""A read replica's follower: fetch what the primary published, verify it, swap it in.

Every RELATED_SYNC_INTERVAL seconds (`related follow`, which `related serve --follow` runs
beside the server):

1. Read CURRENT at the location (`service.replicas.publish`). When it names a generation this replica
   does not serve, fetch it into `generations/.download-<name>/`: the manifest first (checked
   against the pointer's digest; a generation of another format is refused), then every file
   the manifest lists and the catalogue, each checked against its size and sha256 as it
   streams in, and fsynced. Files already there with the right digest, left by a download that
   was killed, are kept. Only a complete, verified directory is renamed into place, and only
   then is the local CURRENT swapped, so the server workers, which follow it, never see a
   partial generation.
2. Read EDITORIAL; when it changed, fetch the snapshot, check it, replace `editorial.json`.
3. Write the outcome to `follow-status.json` (GET /index shows it).

A failed round (the location unreachable, a checksum mismatch) is logged and recorded, and
the next round tries again; the replica serves what it has meanwhile.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from service.build.state import now_iso
from service.config.settings import Settings
from service.disk.atomic import atomic_write_text, fsync_dir, fsync_tree
from service.disk.failpoints import failpoint
from service.disk.lock import FileLock
from service.errors import PublishFailed, RelatedError
from service.generations.checksums import BLOCK, Digester, FileDigest, digest_bytes, digest_file
from service.generations.generation import MANIFEST, current_name, make_current, remove_old
from service.generations.manifest import Manifest
from service.replicas.location import Location, open_location
from service.replicas.publish import (
    Pointer,
    generation_path,
    read_editorial_pointer,
    read_pointer,
)
from service.store.replica import EDITORIAL_FILE

log = logging.getLogger("related.replica")

DOWNLOAD_PREFIX = ".download-"
STATUS_FILE = "follow-status.json"
LOCK_FILE = "follow.lock"


@dataclass
class SyncState:
    """What the last rounds did, as `follow-status.json` holds it."""

    location: str
    generation: str | None = None
    editorial: str | None = None
    """sha256 of the editorial snapshot applied."""
    checked_at: str | None = None
    synced_at: str | None = None
    """When a round last completed without error."""
    error: str | None = None
    fetched: list[str] = field(default_factory=list)
    """Generations fetched by this follower, oldest first (the last 10)."""

    def save(self, data_dir: Path) -> None:
        atomic_write_text(data_dir / STATUS_FILE, json.dumps(asdict(self), indent=2))


def read_state(data_dir: Path) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = json.loads((data_dir / STATUS_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return found


def follow_lock(data_dir: Path) -> FileLock:
    """One follower per data directory (a second one stops with an error)."""
    return FileLock(
        data_dir / LOCK_FILE,
        busy=lambda: RelatedError(f"Another follower is running for {data_dir}"),
    )


def sync_once(settings: Settings, location: Location, state: SyncState) -> SyncState:
    """One round: the newest generation and editorial snapshot, each fetched if new."""
    state.checked_at = now_iso()
    try:
        pointer = read_pointer(location)
        if pointer is not None and pointer.generation != current_name(settings.generations_dir):
            fetch_generation(location, pointer, settings)
            state.fetched = [*state.fetched, pointer.generation][-10:]
        state.generation = current_name(settings.generations_dir)
        state.editorial = fetch_editorial(location, settings.data_dir) or state.editorial
        state.synced_at, state.error = state.checked_at, None
    except (OSError, ValueError, KeyError, TypeError, RelatedError) as exc:
        message = exc.message if isinstance(exc, RelatedError) else f"{type(exc).__name__}: {exc}"
        log.warning("sync from %s failed: %s", location.url, message)
        state.error = message
    state.save(settings.data_dir)
    return state


def fetch_generation(location: Location, pointer: Pointer, settings: Settings) -> None:
    """Download, verify and swap in the generation `pointer` names."""
    root = settings.generations_dir
    root.mkdir(parents=True, exist_ok=True)
    name, remote = pointer.generation, generation_path(pointer.generation)
    for stale in root.glob(f"{DOWNLOAD_PREFIX}*"):
        if stale.name != DOWNLOAD_PREFIX + name:  # an older download, overtaken
            shutil.rmtree(stale, ignore_errors=True)
    target = root / name
    if not target.is_dir():
        work = root / f"{DOWNLOAD_PREFIX}{name}"
        work.mkdir(exist_ok=True)
        manifest_bytes = location.read(f"{remote}/{MANIFEST}")
        _check(digest_bytes(manifest_bytes), pointer.manifest, f"{remote}/{MANIFEST}")
        manifest = Manifest.from_json(json.loads(manifest_bytes), where=name)
        files = {**manifest.files, **pointer.extras}
        log.info("fetching generation %s (%d files) from %s", name, len(files), location.url)
        for count, (rel, expected) in enumerate(sorted(files.items())):
            _download(location, f"{remote}/{rel}", _inside(work, rel), expected)
            if count == 0:
                failpoint("replica-mid-download")
        (work / MANIFEST).write_bytes(manifest_bytes)  # last: Generation.load reads it first
        fsync_tree(work)
        os.rename(work, target)
        fsync_dir(root)
    make_current(root, name)
    remove_old(root, settings.keep_generations)
    log.info("now serving generation %s", name)


def fetch_editorial(location: Location, data_dir: Path) -> str | None:
    """Apply the published editorial snapshot if it is not the one applied; its sha256."""
    pointer = read_editorial_pointer(location)
    if pointer is None:
        return None
    local = data_dir / EDITORIAL_FILE
    if local.is_file() and digest_file(local) == pointer.digest:
        return pointer.digest.sha256
    data = location.read(pointer.file)
    _check(digest_bytes(data), pointer.digest, pointer.file)
    atomic_write_text(local, data.decode())
    log.info("applied editorial snapshot %s", pointer.digest.sha256[:12])
    return pointer.digest.sha256


def follow(
    settings: Settings,
    *,
    once: bool = False,
    stop: Callable[[], bool] = lambda: False,
) -> SyncState:
    """Sync from RELATED_FOLLOW every sync_interval seconds until `stop()` (or once)."""
    location = open_location(settings.follow)
    state = SyncState(location.url)
    with follow_lock(settings.data_dir):
        while True:
            sync_once(settings, location, state)
            if once:
                return state
            deadline = time.monotonic() + settings.sync_interval
            while time.monotonic() < deadline:
                if stop():
                    return state
                time.sleep(min(0.2, settings.sync_interval))


def _download(location: Location, remote: str, target: Path, expected: FileDigest) -> None:
    if (
        target.is_file()
        and target.stat().st_size == expected.bytes
        and digest_file(target) == expected
    ):
        return  # fetched by an earlier, interrupted round
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    digester = Digester()
    with location.open(remote) as source, part.open("wb") as out:
        while block := source.read(BLOCK):
            digester.update(block)
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    try:
        _check(digester.digest(), expected, remote)
    except PublishFailed:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, target)


def _inside(directory: Path, rel: str) -> Path:
    """`directory / rel`, refusing a name that would leave it (a manifest is data, not trust)."""
    target = (directory / rel).resolve()
    if rel.startswith("/") or not target.is_relative_to(directory.resolve()):
        raise PublishFailed(f"The manifest names a file outside its generation: {rel!r}")
    return target


def _check(found: FileDigest, expected: FileDigest, what: str) -> None:
    if found != expected:
        raise PublishFailed(
            f"{what} does not match its published checksum ({found.bytes} bytes, sha256 "
            f"{found.sha256[:12]}; expected {expected.bytes} bytes, {expected.sha256[:12]}): "
            "not serving it"
        )
