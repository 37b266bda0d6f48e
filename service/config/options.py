"""The options of a related list, declared once: name, kind, bounds, default, help.

Each field of `RelatedOptions` carries its declaration. The HTTP parser (`parse_options`), the
CLI flags (`service.cli.common`), the configuration defaults (a declared `setting` becomes
RELATED_<SETTING>, see `service.config.settings`) and the tables in docs/ all come from it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal, Protocol

from service.config.values import parse_bool, parse_float, parse_int, published_timestamp
from service.errors import InvalidParameter

Kind = Literal["int", "float", "bool", "ids", "date", "choice", "text"]
Group = Literal["count", "filter", "ranking", "output", "measurement"]
WEB_ONLY: tuple[Group, ...] = ("measurement",)
"""Groups of options only the web layer reads (the visitor key picks an experiment variant): no
CLI flag takes them."""
RECENCY_MODES = ("none", "exponential", "gaussian")
FILL_MODES = ("none", "section", "recent")


class OptionSettings(Protocol):
    """What parsing needs of the settings: the defaults, and the settings that bound options
    (`Declaration.high_setting`, e.g. `max_k`). `service.config.settings.Settings` is one."""

    @property
    def options(self) -> RelatedOptions: ...

    @property
    def max_k(self) -> int: ...


@dataclass(frozen=True)
class Declaration:
    name: str
    kind: Kind
    group: Group
    help: str
    example: str
    setting: str | None = None
    """Its default is the setting RELATED_<SETTING> (None: not configurable)."""
    low: float | None = None
    high: float | None = None
    high_setting: str | None = None
    """The upper bound is this setting's value."""
    choices: tuple[str, ...] = ()
    optional: bool = False
    """None is a valid value (no bar)."""


def _option(default: Any, kind: Kind, group: Group, help: str, example: str, **more: Any) -> Any:
    spec = {"kind": kind, "group": group, "help": help, "example": example, **more}
    return field(default=default, metadata={"option": spec})


@dataclass(frozen=True)
class RelatedOptions:
    k: int = _option(
        5,
        "int",
        "count",
        "how many related articles, 1 to RELATED_MAX_K",
        "?k=8",
        setting="default_k",
        low=1,
        high_setting="max_k",
    )
    section: tuple[str, ...] = _option(
        (),
        "ids",
        "filter",
        "any of these sections (case and punctuation ignored; repeat or comma-separate)",
        "?section=Sport&section=City",
    )
    tag: tuple[str, ...] = _option((), "ids", "filter", "any of these tags", "?tag=trams,measles")
    lang: str = _option(
        "auto",
        "text",
        "ranking",
        "language of related articles: auto (the source's language when it has one), any, or a "
        "code; articles without a language always pass",
        "?lang=any",
        setting="lang",
    )
    published_after: str | None = _option(
        None,
        "date",
        "filter",
        "published on or after this ISO date or datetime",
        "?published_after=2026-01-01",
        optional=True,
    )
    published_before: str | None = _option(
        None,
        "date",
        "filter",
        "published strictly before this ISO date or datetime",
        "?published_before=2026-07-01",
        optional=True,
    )
    past_only: bool = _option(
        False,
        "bool",
        "filter",
        "only articles published before the source (which needs a date)",
        "?past_only=true",
    )
    exclude: tuple[str, ...] = _option((), "ids", "filter", "never these ids", "?exclude=a,b")
    min_score: float | None = _option(
        None,
        "float",
        "ranking",
        "drop results scoring below this (the fused score)",
        "?min_score=4",
        setting="min_score",
        optional=True,
    )
    min_relative: float | None = _option(
        None,
        "float",
        "ranking",
        "drop results scoring below this fraction of the best candidate's score",
        "?min_relative=0.5",
        setting="min_relative",
        low=0.0,
        high=1.0,
        optional=True,
    )
    recency: str = _option(
        "none",
        "choice",
        "ranking",
        "scale each positive score by its age difference to the source: none, exponential or "
        "gaussian (closeness in time is already a signal where dates are publication dates)",
        "?recency=gaussian",
        setting="recency",
        choices=RECENCY_MODES,
    )
    half_life_days: float = _option(
        730.0,
        "float",
        "ranking",
        "age difference (days) at which recency halves a score",
        "?half_life_days=90",
        setting="half_life_days",
        low=1e-6,
    )
    duplicate_threshold: float = _option(
        0.9,
        "float",
        "ranking",
        "full-text tf-idf cosine at or above which a candidate counts as a near-duplicate of the "
        "source or of a chosen item, and is skipped when their titles allow a copy (1.01 turns it "
        "off)",
        "?duplicate_threshold=0.8",
        setting="duplicate_threshold",
        low=0.0,
        high=2.0,
    )
    diversity: float = _option(
        0.0,
        "float",
        "ranking",
        "MMR diversity from 0 (off) to 1, over a pool of 3k candidates",
        "?diversity=0.3",
        setting="diversity",
        low=0.0,
        high=1.0,
    )
    fill: str = _option(
        "none",
        "choice",
        "ranking",
        "how to fill a list that comes up short of k: none (a shorter list: no article at or "
        "below a typical one's score), section (the newest of the source's section) or recent "
        "(the newest); filled items say `filled`",
        "?fill=section",
        setting="fill",
        choices=FILL_MODES,
    )
    explain: bool = _option(
        False,
        "bool",
        "output",
        "add, per result, the shared tags and section, the strongest shared terms, and each part "
        "of the score",
        "?explain=true",
    )
    include_body: bool = _option(
        False,
        "bool",
        "output",
        "add the source article's body to the answer (left out by default: the page showing the "
        "list has it)",
        "?include_body=true",
    )
    fields: tuple[str, ...] = _option(
        (),
        "ids",
        "output",
        "only these fields of the source article and of each related item (id and score always "
        "come; body only for the source)",
        "?fields=title,url",
    )
    visitor: str | None = _option(
        None,
        "text",
        "measurement",
        "the reader's opaque key, at most 64 characters (the embed sends a random one it keeps "
        "in localStorage): while an experiment runs it picks the reader's variant, the same key "
        "always the same one; it is never part of the answer or its cache key",
        "?visitor=4f9c2a7e",
        high=64,
        optional=True,
    )

    @property
    def published_after_ts(self) -> float | None:
        return published_timestamp(self.published_after) if self.published_after else None

    @property
    def published_before_ts(self) -> float | None:
        return published_timestamp(self.published_before) if self.published_before else None

    @property
    def wants_body(self) -> bool:
        """Whether the answer carries the source article's body."""
        return self.include_body or "body" in self.fields

    @property
    def reorders(self) -> bool:
        """Whether results may come from deeper in the candidate list than plain rank order."""
        return self.recency != "none" or self.diversity > 0

    def to_json(self) -> dict[str, Any]:
        return {
            f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
            for f in fields(self)
        }


def declarations() -> tuple[Declaration, ...]:
    return tuple(Declaration(f.name, **f.metadata["option"]) for f in fields(RelatedOptions))


DECLARATIONS = declarations()
BY_NAME = {d.name: d for d in DECLARATIONS}
OPTION_NAMES = tuple(BY_NAME)
LIST_OPTIONS = tuple(d.name for d in DECLARATIONS if d.kind == "ids")


JSON_TYPES: dict[Kind, tuple[tuple[type, ...], str]] = {
    "int": ((int,), "a JSON integer"),
    "float": ((int, float), "a JSON number"),
    "bool": ((bool,), "true or false"),
    "ids": ((list, str), "a JSON array of strings (or one string)"),
    "date": ((str,), "a string"),
    "choice": ((str,), "a string"),
    "text": ((str,), "a string"),
}
"""What each kind of option must be in a JSON body: JSON has types, so `"k": "3"` is refused
rather than guessed at (a query string or a CLI flag has only text, parsed by kind)."""


def check_json_type(declaration: Declaration, value: Any) -> None:
    """ValueError unless `value` has the JSON type of its option's kind."""
    types, name = JSON_TYPES[declaration.kind]
    wrong_bool = isinstance(value, bool) and bool not in types
    if wrong_bool or not isinstance(value, types):
        raise ValueError(f"must be {name}, got {_json_type(value)}")
    if isinstance(value, list) and not all(isinstance(item, str) for item in value):
        raise ValueError(f"must be {name}, got an array holding something else")


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return f"a string ({value[:30]!r})"
    if isinstance(value, dict):
        return "an object"
    return "an array" if isinstance(value, list) else type(value).__name__


def parse_value(
    declaration: Declaration,
    value: Any,
    settings: OptionSettings | None = None,
    *,
    json: bool = False,
) -> Any:
    """One option's value from a raw value; ValueError with the reason when it is bad.

    With `json`, `value` came from a JSON body: it must have its kind's JSON type, and a list of
    ids is taken item by item, a single string as one item (a query string or flag also
    separates ids with commas)."""
    kind = declaration.kind
    if json:
        check_json_type(declaration, value)
        if kind == "ids":  # each item is one value: an id may hold a comma
            items = [value] if isinstance(value, str) else value
            return tuple(item.strip() for item in items if item.strip())
    high = declaration.high
    if declaration.high_setting is not None and settings is not None:
        high = getattr(settings, declaration.high_setting)
    if kind == "int":
        return parse_int(value, _int_bound(declaration.low), _int_bound(high))
    if kind == "float":
        return parse_float(value, declaration.low, high)
    if kind == "bool":
        return parse_bool(value)
    if kind == "ids":
        items = value if isinstance(value, list | tuple) else [value]
        if not all(isinstance(item, str) for item in items):
            raise ValueError("must be a string or a list of strings")
        return tuple(part.strip() for item in items for part in item.split(",") if part.strip())
    if kind == "date":
        try:
            published_timestamp(str(value))
        except ValueError:
            raise ValueError(f"must be an ISO 8601 date or datetime, got {value!r}") from None
        return str(value).strip()
    if kind == "choice":
        text = str(value).strip().lower()
        if text not in declaration.choices:
            raise ValueError(f"must be one of {', '.join(declaration.choices)}, got {value!r}")
        return text
    text = str(value).strip()
    if high is not None and len(text) > high:
        raise ValueError(f"must be at most {int(high)} characters, got {len(text)}")
    return text or declaration_default(declaration)


def _int_bound(bound: float | None) -> int | None:
    return None if bound is None or math.isinf(bound) else int(bound)


def declaration_default(declaration: Declaration) -> Any:
    return next(f.default for f in fields(RelatedOptions) if f.name == declaration.name)


def parse_options(
    raw: Mapping[str, Any], settings: OptionSettings, *, json: bool = False
) -> RelatedOptions:
    """Options from `raw` (None or absent means the default from `settings`); InvalidParameter
    naming the parameter for an unknown name or a bad value. `json`: the values came from a
    JSON body and must have their kinds' JSON types (see `parse_value`)."""
    unknown = sorted(set(raw) - set(OPTION_NAMES))
    if unknown:
        raise InvalidParameter(
            f"Unknown parameter {unknown[0]!r}; known: {', '.join(OPTION_NAMES)}"
        )
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if value is None:
            continue
        try:
            values[name] = parse_value(BY_NAME[name], value, settings, json=json)
        except ValueError as exc:
            raise InvalidParameter(f"Parameter {name!r} {exc}") from None
    return replace(settings.options, **values)
