"""Named crash points for the crash-safety tests: RELATED_FAILPOINT=<name> makes the process
kill itself with SIGKILL (no cleanup, no finally blocks) when it reaches that point.

Unset, as in production, each point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

FAILPOINTS = (
    "after-first-encoded-chunk",  # some vectors cached, the rest not encoded
    "mid-generation-write",  # index written, arrays and manifest not
    "before-publish",  # generation complete and renamed, CURRENT not swapped
    "after-publish",  # CURRENT swapped, old generations not cleaned up
)


def failpoint(name: str) -> None:
    if os.environ.get("RELATED_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
