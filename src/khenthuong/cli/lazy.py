"""Sub-commands whose module is imported when one is used.

`khenthuong --help` and `khenthuong reminders status` need neither the web app nor document
rendering nor the spreadsheet readers: the root group lists each mounted sub-command from
its `Mount` (name and help) and imports the module only to run it, show its own help or
complete it. A test checks that every mount's help is its module's own.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
from typer.core import TyperGroup


@dataclass(frozen=True)
class Mount:
    """A sub-command of the root: a Typer app (a group) or a command function."""

    name: str
    module: str
    """Under khenthuong.cli."""
    attr: str
    help: str
    """What the root's help lists: the sub-app's help, or the command's docstring."""


def load_mount(mount: Mount, root: typer.Typer) -> Any:
    """The click command of `mount`, built as `root.add_typer` / `root.command` would."""
    target = getattr(importlib.import_module(f"khenthuong.cli.{mount.module}"), mount.attr)
    holder = typer.Typer()
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=mount.name)
        return typer.main.get_group_from_info(
            holder.registered_groups[0],
            pretty_exceptions_short=root.pretty_exceptions_short,
            suggest_commands=root.suggest_commands,
            rich_markup_mode=root.rich_markup_mode,
        )
    holder.command(mount.name)(target)
    return typer.main.get_command_from_info(
        holder.registered_commands[0],
        pretty_exceptions_short=root.pretty_exceptions_short,
        rich_markup_mode=root.rich_markup_mode,
    )


class LazyCommands(dict[str, Any]):
    """A group's commands: those built so far, and the mounts, built when first asked for.

    Names keep one order (the group's own commands, then the mounts'); `items()` and
    `values()` build every mount, `loaded()` only what was built."""

    def __init__(self, own: dict[str, Any], mounts: tuple[Mount, ...], root: typer.Typer) -> None:
        super().__init__(own)
        self.mounts = {m.name: m for m in mounts}
        self.root = root
        self.hooks: list[Callable[[str, Any], None]] = []

    def names(self) -> list[str]:
        return [n for n in dict.keys(self) if n not in self.mounts] + list(self.mounts)

    def on_load(self, hook: Callable[[str, Any], None]) -> None:
        """Run `hook(name, command)` on each mount when it is built (e.g. the readable help)."""
        self.hooks.append(hook)

    def loaded(self) -> dict[str, Any]:
        return dict(dict.items(self))

    def placeholder(self, name: str) -> Any:
        """What the root's help lists for a mount not built: its name and help."""
        stand_in = TyperGroup(name=name, help=self.mounts[name].help)
        for hook in self.hooks:
            hook(name, stand_in)
        return stand_in

    def __missing__(self, name: str) -> Any:
        if name not in self.mounts:
            raise KeyError(name)
        command = load_mount(self.mounts[name], self.root)
        for hook in self.hooks:
            hook(name, command)
        dict.__setitem__(self, name, command)
        return command

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default

    def __contains__(self, name: object) -> bool:
        return dict.__contains__(self, name) or name in self.mounts

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def keys(self) -> list[str]:  # type: ignore[override]
        return self.names()

    def items(self) -> list[tuple[str, Any]]:  # type: ignore[override]
        return [(n, self[n]) for n in self.names()]

    def values(self) -> list[Any]:  # type: ignore[override]
        return [self[n] for n in self.names()]


class LazyGroup(TyperGroup):
    """The root group: its own commands plus `mounts`, imported when used. Subclasses set
    `mounts` and `root` (the Typer app the group is built from)."""

    mounts: ClassVar[tuple[Mount, ...]] = ()
    root: ClassVar[typer.Typer]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands: LazyCommands = LazyCommands(self.commands, self.mounts, self.root)
        self._listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return self.commands.names()

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        built = dict.__contains__(self.commands, cmd_name)
        if self._listing and not built and cmd_name in self.commands.mounts:
            return self.commands.placeholder(cmd_name)
        return self.commands.get(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True  # the list shows each mount's name and help, nothing imported
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False
