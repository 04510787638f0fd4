"""Shell completion's messages in Vietnamese.

Typer's `--install-completion` and `--show-completion` print English sentences of their own
("bash completion installed in …", "Shell sh is not supported."). `common.readable_help` puts
these two callbacks in their place: the same work (Typer's `install` and
`get_completion_script`), the shell checked first so that an unsupported one is refused here,
in Vietnamese, before Typer could print its English.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from typer._completion_shared import Shells, _get_shell_name, get_completion_script, install

SUPPORTED = tuple(s.value for s in Shells)


def _shell(value: Any) -> str | None:
    """The shell asked for (a name given to the option) or the one this command runs in."""
    if isinstance(value, str):
        return value
    if os.getenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION"):
        return None
    return _get_shell_name()


def _supported(shell: str | None) -> str:
    if shell not in SUPPORTED:
        found = f"shell {shell}" if shell else "shell đang dùng (không nhận ra được)"
        typer.echo(
            f"Lỗi: chưa hỗ trợ tự hoàn thành lệnh cho {found}; chỉ hỗ trợ {', '.join(SUPPORTED)}.",
            err=True,
        )
        sys.exit(1)
    assert shell is not None
    return shell


def install_completion(ctx: Any, _param: Any, value: Any) -> Any:
    """`--install-completion`: write the completion script where the shell reads it."""
    if not value or ctx.resilient_parsing:
        return value
    shell, path = install(shell=_supported(_shell(value)))
    typer.echo(f"Đã cài tự hoàn thành lệnh cho {shell} vào {path}.")
    typer.echo("Mở lại cửa sổ dòng lệnh để bắt đầu dùng.")
    sys.exit(0)


def show_completion(ctx: Any, _param: Any, value: Any) -> Any:
    """`--show-completion`: print the completion script (to copy or change)."""
    if not value or ctx.resilient_parsing:
        return value
    prog_name = ctx.find_root().info_name
    complete_var = "_{}_COMPLETE".format(prog_name.replace("-", "_").upper())
    shell = _supported(_shell(value))
    typer.echo(get_completion_script(prog_name=prog_name, complete_var=complete_var, shell=shell))
    sys.exit(0)


CALLBACKS = {"install_completion": install_completion, "show_completion": show_completion}
"""Parameter name -> the callback `readable_help` gives it."""
