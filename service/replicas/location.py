"""A shared location that generations are published to: a directory or an fsspec URL.

A plain path (or `file://`) is a directory on a shared filesystem (NFS, a mounted volume):
files are written aside, fsynced and renamed, like a local generation. Any other URL
(`s3://bucket/prefix`, `gs://...`, `memory://...`) goes through fsspec, whose backend package
the user installs (`s3fs` for S3). Object stores have no rename, but a single object is
replaced atomically, and that is all the publishing protocol (`service.replicas.publish`) needs: a
directory's files are uploaded where no reader looks until a small pointer object names them.
"""

from __future__ import annotations

import os
import shutil
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, Any, Protocol

from service.disk.atomic import atomic_write_bytes, fsync_dir, fsync_tree
from service.errors import ConfigError


class Location(Protocol):
    """Paths are relative to the location, with `/`."""

    url: str

    def read(self, path: str) -> bytes:
        """The file's bytes; FileNotFoundError if there is none."""
        ...

    def open(self, path: str) -> AbstractContextManager[IO[bytes]]: ...

    def write_atomic(self, path: str, data: bytes) -> None: ...

    def upload(self, local: Path, path: str) -> None: ...

    def staging(self, final: str) -> str:
        """Where to upload a directory's files that `commit` then makes `final`."""
        ...

    def commit(self, staging: str, final: str) -> None: ...

    def listdir(self, path: str) -> list[str]:
        """Names in the directory (empty if there is none)."""
        ...

    def exists(self, path: str) -> bool: ...

    def remove(self, path: str) -> None:
        """Remove a file or a directory tree; nothing if absent."""
        ...


class DirectoryLocation:
    """A directory on a (shared) filesystem."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = str(root)

    def _path(self, path: str) -> Path:
        return self.root / path

    def read(self, path: str) -> bytes:
        return self._path(path).read_bytes()

    def open(self, path: str) -> AbstractContextManager[IO[bytes]]:
        return self._path(path).open("rb")

    def write_atomic(self, path: str, data: bytes) -> None:
        atomic_write_bytes(self._path(path), data)

    def upload(self, local: Path, path: str) -> None:
        target = self._path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(local, target)

    def staging(self, final: str) -> str:
        parent, _, name = final.rpartition("/")
        return f"{parent}/.tmp-{name}" if parent else f".tmp-{name}"

    def commit(self, staging: str, final: str) -> None:
        source, target = self._path(staging), self._path(final)
        fsync_tree(source)
        if target.exists():  # an earlier publish of the same generation got this far
            shutil.rmtree(target)
        os.rename(source, target)
        fsync_dir(target.parent)

    def listdir(self, path: str) -> list[str]:
        directory = self._path(path)
        return sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []

    def exists(self, path: str) -> bool:
        return self._path(path).exists()

    def remove(self, path: str) -> None:
        target = self._path(path)
        if target.is_dir():
            shutil.rmtree(target, ignore_errors=True)
        else:
            target.unlink(missing_ok=True)


class FsspecLocation:
    """Any filesystem fsspec knows, an object store above all: no rename is needed, since
    nothing reads a generation's files until the pointer object names them."""

    def __init__(self, url: str) -> None:
        import fsspec.core

        self.url = url
        try:
            self.fs: Any
            self.fs, root = fsspec.core.url_to_fs(url)
        except (ImportError, ValueError) as exc:
            raise ConfigError(f"Can't open the location {url!r}: {exc}") from None
        self.root = str(root).rstrip("/")

    def _path(self, path: str) -> str:
        return f"{self.root}/{path}" if path else self.root

    def read(self, path: str) -> bytes:
        data: bytes = self.fs.cat_file(self._path(path))
        return data

    def open(self, path: str) -> AbstractContextManager[IO[bytes]]:
        handle: AbstractContextManager[IO[bytes]] = self.fs.open(self._path(path), "rb")
        return handle

    def write_atomic(self, path: str, data: bytes) -> None:
        self.fs.pipe_file(self._path(path), data)  # one object: replaced whole

    def upload(self, local: Path, path: str) -> None:
        self.fs.put_file(str(local), self._path(path))

    def staging(self, final: str) -> str:
        return final

    def commit(self, staging: str, final: str) -> None:
        """Nothing to do: the files are in place, unreferenced until the pointer moves."""

    def listdir(self, path: str) -> list[str]:
        try:
            entries = self.fs.ls(self._path(path), detail=False)
        except FileNotFoundError:
            return []
        return sorted(str(entry).rstrip("/").rsplit("/", 1)[-1] for entry in entries)

    def exists(self, path: str) -> bool:
        return bool(self.fs.exists(self._path(path)))

    def remove(self, path: str) -> None:
        target = self._path(path)
        if self.fs.exists(target):
            self.fs.rm(target, recursive=True)


def open_location(spec: str) -> Location:
    """The location `spec` names: a directory path or `file://` URL, or an fsspec URL."""
    if not spec.strip():
        raise ConfigError("No location given: a directory or a URL such as s3://bucket/related")
    if spec.startswith("file://"):
        return DirectoryLocation(Path(spec.removeprefix("file://")))
    if "://" in spec:
        return FsspecLocation(spec)
    return DirectoryLocation(Path(spec))
