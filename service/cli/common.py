"""What every `related` subcommand shares: one-line errors, --data-dir, and the option flags
derived from the declarations in `service.config.options`."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from service.config.options import DECLARATIONS, Group
from service.config.settings import Settings, load_settings
from service.errors import RelatedError, StorageFull

F = TypeVar("F", bound=Callable[..., Any])


SIGPIPE_EXIT = 141
"""What a shell reports for a program ended by SIGPIPE (128 + 13), as `cat` in `cat | head`."""


class RelatedGroup(click.Group):
    """Turns every failure into one line and an exit code; no traceback unless RELATED_DEBUG.
    A reader that goes away (`related export | head`) ends the command quietly."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except BrokenPipeError:
            # Python would complain again when it flushes stdout at exit: point it at nothing.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(SIGPIPE_EXIT)
        except RelatedError as exc:
            if os.environ.get("RELATED_DEBUG"):
                raise
            # One line: the message names the first problems; --json (where offered) has all.
            click.echo(f"Error: {exc.message}", err=True)
            ctx.exit(exit_code(exc))
        except Exception as exc:
            if os.environ.get("RELATED_DEBUG"):
                raise
            click.echo(f"Error: {type(exc).__name__}: {exc}", err=True)
            ctx.exit(1)


STORAGE_FULL_EXIT = 3
"""A full disk (`storage_full`): nothing is wrong with the input or the data; free space, retry."""


def exit_code(error: RelatedError) -> int:
    """2 for bad input (a 4xx error), 3 for a full disk, 1 for everything else."""
    if isinstance(error, StorageFull):
        return STORAGE_FULL_EXIT
    return 2 if error.status < 500 else 1


def data_dir_option(func: F) -> F:
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Data directory [default: $RELATED_DATA_DIR or ./data].",
    )(func)


def settings_for(**overrides: Any) -> Settings:
    return load_settings(**overrides)


def reading_settings(data_dir: Path | None) -> Settings:
    """Settings for a command that reads a store: NoStore (exit 2) when the data directory has
    none, rather than creating an empty one and answering from it."""
    from service.store import ArticleStore

    settings = settings_for(data_dir=data_dir)
    ArticleStore.existing(settings.db_path).close()
    return settings


def raw_options(values: dict[str, Any]) -> dict[str, Any]:
    """CLI values as raw options: unset flags and empty repeatables mean 'the default'."""
    return {
        name: value
        for name, value in values.items()
        if value is not None and value != () and value is not False
    }


def option_flags(*groups: Group) -> Callable[[F], F]:
    """A flag for every declared option of `groups`, named as in HTTP (`--published-after` for
    `published_after`); values are parsed by the same code as HTTP parameters."""
    chosen = [d for d in DECLARATIONS if d.group in groups]

    def decorate(func: F) -> F:
        for declaration in reversed(chosen):
            flag = "--" + declaration.name.replace("_", "-")
            text = declaration.help[0].upper() + declaration.help[1:] + "."
            if declaration.kind == "ids":
                func = click.option(flag, multiple=True, help=text + " (repeatable)")(func)
            elif declaration.kind == "bool":
                func = click.option(flag, is_flag=True, default=None, help=text)(func)
            elif declaration.kind == "choice":
                choice = click.Choice(list(declaration.choices))
                func = click.option(flag, type=choice, default=None, help=text)(func)
            else:
                func = click.option(flag, default=None, help=text)(func)
        return func

    return decorate


def progress_disabled(quiet: bool) -> bool | None:
    """tqdm's `disable`: off with --quiet, else automatic (no bar when not on a terminal)."""
    return True if quiet else None
