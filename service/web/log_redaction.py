"""What the access log may show of a query string: a parameter named like a secret (`token`,
`api_key`, `auth`, `password`, `signature`...) keeps its name and loses its value.

The API reads its token from the `Authorization` header only, but clients do put tokens, keys and
signed-URL signatures in URLs, and a log line is kept, shipped and read far more widely than the
request was. Names are matched after percent-decoding, case-insensitively, as words (split on
anything not a letter or a digit) or as parts of a word, so `apiKey`, `X-Auth-Token`,
`access_token` and `%74oken` are all caught. No query option of the service is named so.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

REDACTED = "[redacted]"
SECRET_PARTS = (
    "token",
    "key",
    "auth",
    "passw",
    "pwd",
    "secret",
    "signature",
    "session",
    "credential",
    "jwt",
    "bearer",
    "cookie",
    "private",
)
"""A name containing any of these (`apikey`, `x-auth`, `session_id`) is a secret's."""
SECRET_WORDS = frozenset({"sig", "pw", "pass", "code", "otp", "sid"})
"""Short names that are secrets only as a whole word (`sig`, `x_sig`; not `design`)."""
_WORD = re.compile(r"[a-z0-9]+")


def secret_name(name: str) -> bool:
    """Whether a query parameter called `name` (as sent, percent-encoded) likely holds a secret."""
    lowered = unquote_plus(name).lower()
    if any(part in lowered for part in SECRET_PARTS):
        return True
    return any(word in SECRET_WORDS for word in _WORD.findall(lowered))


def redacted_query(query: str) -> str:
    """`query` with the value of every secret-named parameter replaced by `[redacted]`; the
    rest is left byte for byte as sent."""
    if not query:
        return query
    parts = query.split("&")
    changed = False
    for index, part in enumerate(parts):
        name, equals, _ = part.partition("=")
        if secret_name(name):
            parts[index] = name + (equals or "=") + REDACTED
            changed = True
    return "&".join(parts) if changed else query
