"""Shared CLI helpers: console, runtime, error reporting."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from khenthuong.errors import InvalidDefinition, KhenthuongError, StepRefused
from khenthuong.runtime import Runtime, open_runtime
from khenthuong.services.actors import Actor, load_actor

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

P = ParamSpec("P")
R = TypeVar("R")


def report_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn project errors into a red message and exit code 1 instead of a traceback."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except InvalidDefinition as exc:
            for problem in exc.problems:
                typer.echo(str(problem), err=True)
            raise typer.Exit(1) from None
        except StepRefused as exc:
            typer.echo("Bị từ chối (refused):", err=True)
            for refusal in exc.refusals:
                typer.echo(f"  - {refusal.message_vi}", err=True)
                typer.echo(f"    {refusal.message_en}", err=True)
            raise typer.Exit(1) from None
        except KhenthuongError as exc:
            typer.echo(f"Lỗi (error): {exc}", err=True)
            raise typer.Exit(1) from None

    return wrapper


def runtime() -> Runtime:
    """The runtime for this command (definitions synced with the database)."""
    return open_runtime()


@contextmanager
def actor_for(rt: Runtime, username: str) -> Iterator[Actor]:
    """Load the acting user."""
    with rt.engine.connect() as conn:
        actor = load_actor(conn, username)
    yield actor


def parse_fields(fields: list[str]) -> dict[str, Any]:
    """KEY=VALUE pairs into a dict; a malformed pair is a usage error naming it."""
    result: dict[str, Any] = {}
    for item in fields:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--field")
        result[key.strip()] = value
    return result


def stdout_is_tty() -> bool:
    """True when output goes to a terminal (progress bars only then)."""
    return sys.stdout.isatty()
