"""Whether an error means the disk (or the quota) under the data directory is full.

Writers report it in different words: Python and SQLite with errno ENOSPC or EDQUOT, numpy's
`tofile` with a short write (`82113 requested and 11232 written`), FAISS in a RuntimeError
quoting strerror. The build turns any of them into `storage_full` (service.build.builder), so
an operator reads one reason whatever library was writing when the space ran out.
"""

from __future__ import annotations

import errno
import re

FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
FULL_MESSAGES = ("no space left on device", "disk quota exceeded")
SHORT_WRITE = re.compile(r"\d+ requested and \d+ written")


def disk_full(error: BaseException) -> bool:
    """True if `error`, or an error it was raised from or during, says the disk is full."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in FULL_ERRNOS:
            return True
        text = str(current).lower()
        if any(message in text for message in FULL_MESSAGES) or SHORT_WRITE.search(text):
            return True
        current = current.__cause__ or current.__context__
    return False
