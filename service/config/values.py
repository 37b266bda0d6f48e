"""Parsing plain values from text (environment variables, query strings, CLI flags, JSON).

One parser per kind of value, raising ValueError with the reason; the callers say which
parameter or variable it was (`InvalidParameter`, `ConfigError`). Numbers are ASCII only, with
no digit-group underscores and at most MAX_DIGITS digits: Python's `int()` accepts '٣', '５'
and '5_0', which no client means.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from typing import Any

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")
MAX_DIGITS = 30
_INT = re.compile(r"^[+-]?[0-9]+$")
_FLOAT = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(f"must be true or false, got {value!r}")


def parse_int(value: Any, low: int | None = None, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"must be a whole number, got {_shown(value)}")
    text = str(value).strip()
    if len(text) > MAX_DIGITS + 1 or not _INT.match(text):
        raise ValueError(f"must be a whole number, got {_shown(value)}")
    number: int = _bounded(int(text), low, high, value)
    return number


def parse_float(value: Any, low: float | None = None, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"must be a number, got {_shown(value)}")
    if isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_DIGITS * 2 or not _FLOAT.match(text):
            raise ValueError(f"must be a number, got {_shown(value)}")
        number = float(text)
    elif isinstance(value, int) and len(str(abs(value))) > MAX_DIGITS:
        raise ValueError(f"must be a number of at most {MAX_DIGITS} digits")
    else:
        number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"must be a finite number, got {_shown(value)}")
    bounded: float = _bounded(number, low, high, value)
    return bounded


def _bounded(number: Any, low: Any, high: Any, given: Any) -> Any:
    if (low is not None and number < low) or (high is not None and number > high):
        if low is not None and high is not None:
            raise ValueError(f"must be between {low} and {high}, got {_shown(given)}")
        if low is not None:
            raise ValueError(f"must be at least {low}, got {_shown(given)}")
        raise ValueError(f"must be at most {high}, got {_shown(given)}")
    return number


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def published_timestamp(value: str) -> float:
    """Seconds since the epoch (UTC) for a normalised `published` value; dates count as midnight."""
    parsed = parse_published(value)
    if isinstance(parsed, datetime):
        return parsed.timestamp()
    return datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC).timestamp()


def parse_published(value: str) -> date | datetime:
    text = value.strip()
    if len(text) == 10:
        return date.fromisoformat(text)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    # A datetime without a zone is taken as UTC so comparisons never mix naive and aware.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
