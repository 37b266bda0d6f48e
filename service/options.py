"""The options of a related list, one name each in HTTP, the CLI and configuration defaults.

`parse_options` takes raw values from anywhere (query strings, JSON, CLI flags), fills the gaps
from Settings, and raises InvalidParameter naming the parameter for any bad value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from service.articles import published_timestamp
from service.errors import ConfigError, InvalidParameter

if TYPE_CHECKING:
    from service.config import Settings

RECENCY_MODES = ("none", "exponential", "gaussian")


@dataclass(frozen=True)
class RelatedOptions:
    k: int = 5
    section: tuple[str, ...] = ()
    """Any of these sections (case and punctuation ignored)."""
    tag: tuple[str, ...] = ()
    """Any of these tags."""
    lang: str = "auto"
    published_after: str | None = None
    """On or after this ISO date or datetime."""
    published_before: str | None = None
    """Strictly before this ISO date or datetime."""
    past_only: bool = False
    exclude: tuple[str, ...] = ()
    min_score: float | None = None
    min_relative: float | None = None
    recency: str = "exponential"
    half_life_days: float = 730.0
    duplicate_threshold: float = 0.9
    diversity: float = 0.0
    explain: bool = False

    @property
    def published_after_ts(self) -> float | None:
        return published_timestamp(self.published_after) if self.published_after else None

    @property
    def published_before_ts(self) -> float | None:
        return published_timestamp(self.published_before) if self.published_before else None

    @property
    def reorders(self) -> bool:
        """Whether results may come from deeper in the candidate list than plain rank order."""
        return self.recency != "none" or self.diversity > 0

    def to_json(self) -> dict[str, Any]:
        return {
            f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
            for f in fields(self)
        }


OPTION_NAMES = tuple(f.name for f in fields(RelatedOptions))
LIST_OPTIONS = ("section", "tag", "exclude")
SETTING_DEFAULTS = (
    "lang",
    "recency",
    "half_life_days",
    "duplicate_threshold",
    "diversity",
    "min_score",
    "min_relative",
)


def _as_list(name: str, value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list | tuple) else [value]
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise InvalidParameter(f"Parameter {name!r} must be a string or a list of strings")
        out.extend(part.strip() for part in item.split(",") if part.strip())
    return tuple(out)


def _as_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on", ""):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise InvalidParameter(f"Parameter {name!r} must be true or false, got {value!r}")


def _as_float(name: str, value: Any, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidParameter(f"Parameter {name!r} must be a number, got {value!r}") from None
    if not (low <= number <= high) or math.isnan(number):
        raise InvalidParameter(
            f"Parameter {name!r} must be between {low} and {high}, got {value!r}"
        )
    return number


def _as_date(name: str, value: Any) -> str:
    try:
        published_timestamp(str(value))
    except ValueError:
        raise InvalidParameter(
            f"Parameter {name!r} must be an ISO 8601 date or datetime, got {value!r}"
        ) from None
    return str(value).strip()


def parse_options(
    raw: Mapping[str, Any], settings: Settings, *, k: int | None = None
) -> RelatedOptions:
    """Options from `raw` (names as in OPTION_NAMES; None or absent means the default)."""
    unknown = sorted(set(raw) - set(OPTION_NAMES))
    if unknown:
        raise InvalidParameter(
            f"Unknown parameter {unknown[0]!r}; known: {', '.join(OPTION_NAMES)}"
        )
    given = {name: value for name, value in raw.items() if value is not None}
    values: dict[str, Any] = {name: getattr(settings, name) for name in SETTING_DEFAULTS}
    values["k"] = settings.default_k
    for name, value in given.items():
        if name in LIST_OPTIONS:
            values[name] = _as_list(name, value)
        elif name in ("past_only", "explain"):
            values[name] = _as_bool(name, value)
        elif name in ("published_after", "published_before"):
            values[name] = _as_date(name, value)
        elif name == "k":
            values["k"] = _parse_k(value, settings.max_k)
        elif name in ("min_score",):
            values[name] = _as_float(name, value, -math.inf, math.inf)
        elif name in ("min_relative", "diversity"):
            values[name] = _as_float(name, value, 0.0, 1.0)
        elif name == "duplicate_threshold":
            values[name] = _as_float(name, value, 0.0, 2.0)
        elif name == "half_life_days":
            values[name] = _as_float(name, value, 1e-6, math.inf)
        elif name == "recency":
            values[name] = _choice(name, value, RECENCY_MODES)
        elif name == "lang":
            values[name] = str(value).strip() or "auto"
    if k is not None:
        values["k"] = _parse_k(k, settings.max_k)
    return RelatedOptions(**values)


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    text = str(value).strip().lower()
    if text not in choices:
        raise InvalidParameter(
            f"Parameter {name!r} must be one of {', '.join(choices)}, got {value!r}"
        )
    return text


def _parse_k(raw: Any, max_k: int) -> int:
    try:
        k = int(str(raw))
    except ValueError:
        raise InvalidParameter(f"Parameter 'k' must be a whole number, got {raw!r}") from None
    if not 1 <= k <= max_k:
        raise InvalidParameter(f"Parameter 'k' must be between 1 and {max_k}, got {k}")
    return k


def validate_defaults(settings: Settings) -> None:
    """The option defaults in Settings must be valid options: fail at start-up, not per request."""
    try:
        parse_options({name: getattr(settings, name) for name in SETTING_DEFAULTS}, settings)
    except InvalidParameter as exc:
        raise ConfigError(
            f"Bad default in configuration: {exc.message} (set RELATED_<NAME>)"
        ) from None
