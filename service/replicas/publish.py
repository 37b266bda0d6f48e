"""Publishing generations and editorial state to a shared location, for read replicas.

    LOCATION/
        CURRENT                   pointer to the newest complete generation (JSON, replaced whole)
        generations/<name>/       its files, manifest.json and catalogue.sqlite3
        EDITORIAL                 pointer to the current editorial snapshot (JSON, replaced whole)
        editorial/<time>-<sha>.json  editorial snapshots, by age and checksum

The protocol, for the one publisher of a location (the primary; its publishes are serialised
by a lock in its data directory): upload every file of a generation where no reader looks (a
staging directory renamed into place, or, on an object store, the final prefix that nothing
references yet), the manifest last; only then replace CURRENT. CURRENT carries the size and
sha256 of the manifest and of the catalogue, and the manifest those of every other file, so a
reader that follows CURRENT finds a complete generation and verifies every byte it fetched.
Generations beyond `keep` are then removed, never the one CURRENT names.

Pins, blocks and deletions change without a rebuild: `publish_editorial` publishes a snapshot of
them whenever it differs from the published one (the snapshot file, then the EDITORIAL pointer).
`related build` publishes after each build with RELATED_PUBLISH, and `related serve` on the
primary runs `related publish --watch`, which checks every RELATED_SYNC_INTERVAL seconds.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from service.build.state import now_iso
from service.config.settings import Settings
from service.disk.lock import FileLock
from service.errors import PublishFailed
from service.generations.checksums import FileDigest, digest_bytes, digest_file
from service.generations.generation import (
    MANIFEST,
    current_name,
    new_generation_name,
    read_manifest,
)
from service.replicas.location import Location, open_location
from service.store import ArticleStore
from service.store.replica import CATALOGUE

log = logging.getLogger("related.publish")

POINTER = "CURRENT"
EDITORIAL_POINTER = "EDITORIAL"
GENERATIONS = "generations"
EDITORIAL_DIR = "editorial"
KEEP_EDITORIAL = 3
LOCK_FILE = "publish.lock"
STAGING_DIR = ".publish"


@dataclass(frozen=True)
class Pointer:
    """What CURRENT says: the generation, and the digests that vouch for its manifest and
    for the files published beside it (the catalogue)."""

    generation: str
    manifest: FileDigest
    extras: dict[str, FileDigest]
    store_revision: int
    published_at: str

    def dumps(self) -> bytes:
        return json.dumps(asdict(self), indent=2).encode()

    @classmethod
    def loads(cls, data: bytes) -> Pointer:
        raw = json.loads(data)
        return cls(
            generation=str(raw["generation"]),
            manifest=FileDigest(**raw["manifest"]),
            extras={name: FileDigest(**d) for name, d in raw["extras"].items()},
            store_revision=int(raw["store_revision"]),
            published_at=str(raw["published_at"]),
        )


@dataclass(frozen=True)
class EditorialPointer:
    file: str
    digest: FileDigest
    published_at: str

    def dumps(self) -> bytes:
        return json.dumps(asdict(self), indent=2).encode()

    @classmethod
    def loads(cls, data: bytes) -> EditorialPointer:
        raw = json.loads(data)
        return cls(str(raw["file"]), FileDigest(**raw["digest"]), str(raw["published_at"]))


@dataclass
class PublishReport:
    location: str
    generation: str | None = None
    generation_published: bool = False
    editorial_published: bool = False
    removed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.generation is None:
            return f"nothing to publish to {self.location}: no generation has been built"
        done = "published" if self.generation_published else "already published"
        editorial = (
            "editorial changes published" if self.editorial_published else "editorial unchanged"
        )
        return f"generation {self.generation} {done} to {self.location}; {editorial}"


def generation_path(name: str) -> str:
    return f"{GENERATIONS}/{name}"


def read_pointer(location: Location) -> Pointer | None:
    try:
        return Pointer.loads(location.read(POINTER))
    except FileNotFoundError:
        return None


def read_editorial_pointer(location: Location) -> EditorialPointer | None:
    try:
        return EditorialPointer.loads(location.read(EDITORIAL_POINTER))
    except FileNotFoundError:
        return None


Progress = Callable[[str, int, int], None]


def publish_all(
    settings: Settings, store: ArticleStore, *, progress: Progress | None = None
) -> PublishReport:
    """Publish the data directory's current generation (unless the location has it) and the
    editorial state (unless unchanged) to RELATED_PUBLISH."""
    location = open_location(settings.publish)
    report = PublishReport(location.url)
    with FileLock(settings.data_dir / LOCK_FILE).waiting():  # one publish at a time
        name = current_name(settings.generations_dir)
        if name is None:
            return report
        report.generation = name
        try:
            report.generation_published = upload_generation(
                location, settings, store, name, progress=progress
            )
            if report.generation_published:
                report.removed = prune_location(location, settings.keep_generations)
            report.editorial_published = publish_editorial(location, store)
        except OSError as exc:
            raise PublishFailed(f"Publishing to {location.url} failed: {exc}") from exc
    return report


def upload_generation(
    location: Location,
    settings: Settings,
    store: ArticleStore,
    name: str,
    *,
    progress: Progress | None = None,
) -> bool:
    """Upload generation `name` with its catalogue and point CURRENT at it; False if the
    location already serves it."""
    published = read_pointer(location)
    if published is not None and published.generation == name:
        return False
    source = settings.generations_dir / name
    manifest = read_manifest(settings.generations_dir, name)
    if not manifest.files:
        raise PublishFailed(
            f"Generation {name} was built before checksums were recorded, so replicas could not "
            "verify it: run `related build --full`, then publish"
        )
    work = settings.data_dir / STAGING_DIR
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        catalogue = work / CATALOGUE
        store.write_catalogue(catalogue, np.load(source / "keys.npy"))
        extras = {CATALOGUE: digest_file(catalogue)}
        final = generation_path(name)
        staging = location.staging(final)
        location.remove(staging)
        files = [(source / rel, rel) for rel in manifest.files] + [(catalogue, CATALOGUE)]
        for done, (local, rel) in enumerate(files):
            location.upload(local, f"{staging}/{rel}")
            if progress is not None:
                progress("publishing", done + 1, len(files) + 1)
        location.upload(source / MANIFEST, f"{staging}/{MANIFEST}")  # last: marks it complete
        location.commit(staging, final)
        pointer = Pointer(
            name, digest_file(source / MANIFEST), extras, manifest.store_revision, now_iso()
        )
        location.write_atomic(POINTER, pointer.dumps())
        if progress is not None:
            progress("publishing", len(files) + 1, len(files) + 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("published generation %s to %s", name, location.url)
    return True


def publish_editorial(location: Location, store: ArticleStore) -> bool:
    """Publish pins, blocks and the articles deleted since the published generation; False if
    the location already has exactly this state."""
    pointer = read_pointer(location)
    snapshot = store.editorial_snapshot(pointer.store_revision if pointer is not None else -1)
    data = snapshot.dumps()
    digest = digest_bytes(data)
    published = read_editorial_pointer(location)
    if published is not None and published.digest == digest:
        return False
    # Named by time, then checksum: sorted by name is sorted by age.
    path = f"{EDITORIAL_DIR}/{new_generation_name()}-{digest.sha256[:16]}.json"
    location.write_atomic(path, data)
    location.write_atomic(EDITORIAL_POINTER, EditorialPointer(path, digest, now_iso()).dumps())
    # Older snapshots go, but not the last few: a replica may be reading one right now.
    names = location.listdir(EDITORIAL_DIR)
    current = path.rsplit("/", 1)[1]
    old = [n for n in names if n != current and not n.startswith(".")]
    for stale in old[: max(0, len(old) - KEEP_EDITORIAL)]:
        location.remove(f"{EDITORIAL_DIR}/{stale}")
    log.info("published editorial state %s to %s", digest.sha256[:12], location.url)
    return True


def prune_location(location: Location, keep: int) -> list[str]:
    """Remove all but the newest `keep` published generations (never the current one) and any
    incomplete upload left by a killed publisher."""
    pointer = read_pointer(location)
    current = pointer.generation if pointer is not None else None
    names = location.listdir(GENERATIONS)
    complete = [
        n
        for n in names
        if not n.startswith(".") and location.exists(f"{generation_path(n)}/{MANIFEST}")
    ]
    keep_names = set(sorted(complete)[-keep:]) | ({current} if current else set())
    removed = [n for n in names if n not in keep_names]
    for name in removed:
        location.remove(generation_path(name))
    return removed


def status(location: Location) -> dict[str, Any]:
    """What the location serves, for people (`related publish --status`)."""
    pointer = read_pointer(location)
    editorial = read_editorial_pointer(location)
    return {
        "location": location.url,
        "generation": pointer.generation if pointer else None,
        "published_at": pointer.published_at if pointer else None,
        "editorial": editorial.digest.sha256 if editorial else None,
        "editorial_published_at": editorial.published_at if editorial else None,
        "generations": [n for n in location.listdir(GENERATIONS) if not n.startswith(".")],
    }
