"""Checksums of a generation's files: written into its manifest, verified wherever it is copied.

A build records the size and sha256 of every file of a generation in `manifest.json`
(`Manifest.files`); publishing copies the files and a replica checks each one it fetched
before it serves any of them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

BLOCK = 1 << 20


@dataclass(frozen=True)
class FileDigest:
    bytes: int
    sha256: str


class Digester:
    """A running size and sha256 of bytes as they pass (a download, a copy)."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.size = 0

    def update(self, block: bytes) -> None:
        self._hash.update(block)
        self.size += len(block)

    def digest(self) -> FileDigest:
        return FileDigest(self.size, self._hash.hexdigest())


def digest_stream(stream: BinaryIO) -> FileDigest:
    digester = Digester()
    while block := stream.read(BLOCK):
        digester.update(block)
    return digester.digest()


def digest_file(path: Path) -> FileDigest:
    with path.open("rb") as handle:
        return digest_stream(handle)


def digest_bytes(data: bytes) -> FileDigest:
    return FileDigest(len(data), hashlib.sha256(data).hexdigest())


def digest_tree(directory: Path, *, skip: frozenset[str] = frozenset()) -> dict[str, FileDigest]:
    """Every file under `directory` by its relative path (with `/`), `skip` names left out."""
    return {
        path.relative_to(directory).as_posix(): digest_file(path)
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.relative_to(directory).as_posix() not in skip
    }
