"""JSON from clients and files, read strictly: one loader for request bodies and input lines.

Python's json module accepts what no JSON client means and what this service could neither
store nor serve back: `NaN` and `Infinity` (invalid JSON once sent back out, and they spread
into other articles' lists), numbers that overflow to infinity (`1e400`), lone surrogates
(`"\\ud800"`: a str that has no UTF-8 form), integers of more than 4,300 digits (a ValueError
deep in the parser) and nesting deep enough to exhaust the stack (a RecursionError). `loads`
refuses each with a `JSONRefused` that says what and where; `problem` checks a value that came
from elsewhere (a Python caller) by the same rules.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

MAX_DEPTH = 64
"""Deepest nesting of objects and arrays accepted; article metadata never needs more."""


class JSONRefused(ValueError):
    """Text that is not JSON this service accepts; the message says why (and where)."""


def _refuse_constant(name: str) -> Any:
    raise JSONRefused(f"{name} is not a JSON number: send a finite number, or null")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise JSONRefused(f"the number {text[:40]} is too large for a 64-bit float")
    return number


def loads(data: str | bytes) -> Any:
    """The JSON value of `data` (UTF-8 when bytes); JSONRefused when it is not acceptable."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JSONRefused(f"not UTF-8 text (byte {exc.start})") from None
    try:
        value = json.loads(data, parse_constant=_refuse_constant, parse_float=_finite)
    except JSONRefused:
        raise
    except json.JSONDecodeError as exc:
        raise JSONRefused(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise JSONRefused(f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # int() refuses more than sys.get_int_max_str_digits() digits
        limit = f"{sys.get_int_max_str_digits():,}"
        raise JSONRefused(f"an integer has more than {limit} digits") from None
    found = problem(value)
    if found is not None:
        raise JSONRefused(found)
    return value


def problem(value: Any) -> str | None:
    """Why `value` (parsed JSON, or a Python value bound for JSON) is refused, else None:
    nesting over MAX_DEPTH, a lone surrogate in a string or key, NaN or an infinity."""
    stack: list[tuple[Any, str, int]] = [(value, "$", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            if not item.isascii() and not _is_utf8(item):
                return f"the string at {path} holds a lone surrogate (not valid Unicode)"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return f"the number at {path} is {item!r}: send a finite number, or null"
        elif isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                return f"nested deeper than {MAX_DEPTH} levels"
            if isinstance(item, list):
                stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in enumerate(item))
                continue
            for key, v in item.items():
                if isinstance(key, str) and not key.isascii() and not _is_utf8(key):
                    return f"a key in {path} holds a lone surrogate (not valid Unicode)"
                stack.append((v, f"{path}.{key}", depth + 1))
    return None


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
