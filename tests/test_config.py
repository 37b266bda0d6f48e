"""Settings: defaults, environment variables, validation, and that the docs document each."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config.options import DECLARATIONS
from service.config.settings import documented_settings, load_settings
from service.errors import ConfigError

DOCS = Path(__file__).resolve().parent.parent / "docs"
CONFIGURATION = DOCS / "configuration.md"
EDITORIAL = DOCS / "editorial.md"


def shown_default(value: object) -> str:
    return "(unset)" if value in ("", None) else f"`{value}`"


def test_the_configuration_page_table_is_the_declared_settings() -> None:
    page = CONFIGURATION.read_text(encoding="utf-8")
    expected = [
        f"| `{env}` | {shown_default(default)} | {doc} |"
        for _, env, default, doc in documented_settings()
    ]
    missing = [row for row in expected if row not in page]
    assert missing == []


def test_the_editorial_page_options_table_is_the_declared_options() -> None:
    page = EDITORIAL.read_text(encoding="utf-8")
    expected = [f"| `{d.name}` | {d.help} | `{d.example}` |" for d in DECLARATIONS]
    missing = [row for row in expected if row not in page]
    assert missing == []


def test_every_setting_has_a_description() -> None:
    assert all(doc for _, _, _, doc in documented_settings())


def test_environment_overrides_defaults_and_flags_override_the_environment() -> None:
    settings = load_settings(
        environ={
            "RELATED_PORT": "9001",
            "RELATED_PRELOAD_MODEL": "false",
            "RELATED_DATA_DIR": "/srv/related",
            "RELATED_RECENCY": "none",
            "RELATED_WEIGHT_LABELS": "0.25",
        }
    )
    assert (settings.port, settings.preload_model, settings.data_dir) == (
        9001,
        False,
        Path("/srv/related"),
    )
    assert settings.options.recency == "none" and settings.weights["labels"] == 0.25
    assert load_settings(environ={"RELATED_PORT": "9001"}, port=9002).port == 9002
    assert load_settings(environ={"RELATED_PRELOAD_MODEL": ""}).preload_model is True  # unset


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RELATED_PORT": "eighty"}, "RELATED_PORT must be a whole number, got 'eighty'"),
        ({"RELATED_PORT": "٣"}, "RELATED_PORT must be a whole number"),
        ({"RELATED_MAX_K": "0"}, "RELATED_MAX_K must be at least 1"),
        ({"RELATED_MAX_K": "80"}, "must not exceed RELATED_NEIGHBOURS"),
        ({"RELATED_RECENCY": "yearly"}, "RELATED_RECENCY must be one of none, exponential"),
        ({"RELATED_WEIGHT_DENSE": "-1"}, "RELATED_WEIGHT_DENSE must be at least 0"),
        ({"RELATED_PRELOAD_MODEL": "maybe"}, "RELATED_PRELOAD_MODEL must be true or false"),
        ({"RELATED_DEFAULT_K": "60"}, "RELATED_DEFAULT_K must be between 1 and RELATED_MAX_K"),
    ],
)
def test_bad_values_are_clear_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(environ=env)
