"""Named crash points for the crash-safety tests: RELATED_FAILPOINT=<name> makes the process
kill itself with SIGKILL (no cleanup, no finally blocks) when it reaches that point. With
RELATED_FAILPOINT_ONCE=<path> only the first process to get there dies (it creates the file),
so a retried step then succeeds. RELATED_FAILPOINT=<name>:enospc raises, at that point, the
OSError a full disk gives (errno ENOSPC) instead: the disk-full tests fill no disk.

Unset, as in production, each point costs one dictionary lookup.
"""

from __future__ import annotations

import errno
import os
import signal

FAILPOINTS = (
    "after-first-encoded-chunk",  # some vectors cached, the rest not encoded
    "mid-generation-write",  # index written, arrays and manifest not
    "before-publish",  # generation complete and renamed, CURRENT not swapped
    "after-publish",  # CURRENT swapped, old generations not cleaned up
)


WORKER_FAILPOINTS = (
    "ray-encode-batch",  # a Ray encoding worker dies in a batch
    "ray-rank-shard",  # a Ray ranking worker dies in a shard
    "replica-mid-download",  # a replica dies with part of a generation downloaded
)
"""Points in other processes than the build's (see service.build.engines and service.replicas.follower)."""


def failpoint(name: str) -> None:
    wanted = os.environ.get("RELATED_FAILPOINT")
    if wanted is None or not wanted.startswith(name):
        return
    if wanted == name and _first_to_arrive():
        os.kill(os.getpid(), signal.SIGKILL)
    elif wanted == f"{name}:enospc" and _first_to_arrive():
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _first_to_arrive() -> bool:
    once = os.environ.get("RELATED_FAILPOINT_ONCE")
    if not once:
        return True
    try:
        os.close(os.open(once, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True
