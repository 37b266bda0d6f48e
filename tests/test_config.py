"""Settings: defaults, environment variables, validation, and that the README documents each."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config import documented_settings, load_settings
from service.errors import ConfigError

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = README.read_text(encoding="utf-8")
    missing = [env for _, env, _, _ in documented_settings() if f"`{env}`" not in readme]
    assert missing == []


def test_every_setting_has_a_description() -> None:
    assert all(doc for _, _, _, doc in documented_settings())


def test_environment_overrides_defaults_and_flags_override_the_environment() -> None:
    settings = load_settings(
        environ={
            "RELATED_PORT": "9001",
            "RELATED_PRELOAD_MODEL": "false",
            "RELATED_DATA_DIR": "/srv/related",
        }
    )
    assert (settings.port, settings.preload_model, settings.data_dir) == (
        9001,
        False,
        Path("/srv/related"),
    )
    assert load_settings(environ={"RELATED_PORT": "9001"}, port=9002).port == 9002


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RELATED_PORT": "eighty"}, "RELATED_PORT='eighty' is not a valid int"),
        ({"RELATED_MAX_K": "0"}, "RELATED_MAX_K must be at least 1"),
        ({"RELATED_MAX_K": "80"}, "must not exceed RELATED_NEIGHBOURS"),
    ],
)
def test_bad_values_are_clear_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(environ=env)
