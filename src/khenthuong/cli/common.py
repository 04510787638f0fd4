"""Shared CLI helpers: console, runtime, exit codes and error reporting, output formats
(table, JSON, CSV), readable help, progress bars and capped error lists.

Exit codes (every command, through `report_errors` and `fail`):

| code | meaning |
| --- | --- |
| 0 | done |
| 1 | refused, or bad data (a rule, a role, a file's rows) |
| 2 | usage: an unknown option or a malformed value (Click's own code) |
| 3 | not found: no such nomination, decision, person, unit … |
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from enum import Enum, IntEnum, StrEnum
from functools import partial, wraps
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from khenthuong.cli.lazy import LazyCommands
from khenthuong.documents.text import money
from khenthuong.errors import InvalidDefinition, KhenthuongError, NotFound, Refusal, StepRefused
from khenthuong.localtime import LOCAL_TZ

if TYPE_CHECKING:
    from khenthuong.runtime import Runtime
    from khenthuong.services.actors import Actor

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

P = ParamSpec("P")
R = TypeVar("R")


class ExitCode(IntEnum):
    """What a command's exit status means (the table in this module's docstring)."""

    DONE = 0
    REFUSED = 1
    USAGE = 2
    NOT_FOUND = 3


def fail(code: ExitCode = ExitCode.REFUSED) -> NoReturn:
    """End the command with `code` (its message already printed)."""
    raise typer.Exit(int(code))


COMMANDS = {
    "missing_rating": "(nhập xếp loại: khenthuong ratings import)",
    "unregistered": "(đăng ký: khenthuong registrations add)",
    "no_award": "(ký với hình thức đã chọn: khenthuong decisions create --award MÃ)",
    "sign_apart": "(ký quyết định: khenthuong decisions create)",
    "unlisted_person": "(thêm cá nhân vào danh sách: khenthuong persons add TÊN --unit MÃ)",
    "create_persons": "(hoặc nhập lại với --create-persons)",
    "rated": "(sửa cả xếp loại đã có: thêm --replace)",
    "unlisted": '(thêm vào danh sách: khenthuong persons add "{unlisted}" --unit {unit}, '
    "hoặc đề nghị lại với --create-person)",
    "namesakes": "(chọn đúng người bằng --person ID; người trùng tên chưa có trong danh sách "
    "thì thêm bằng khenthuong persons add … --birth-year NĂM)",
}
"""A refusal's detail that tells what is missing → the command that puts it right (the
pages point to their own pages: `web.ui_common.POINTERS`)."""


def refusal_line(refusal: Refusal) -> str:
    """A refusal as the CLI prints it: its Vietnamese, with the command that puts it right
    when the refusal tells what is missing (a year's rating, a registration, an award)."""
    return " ".join([refusal.message_vi, *command_hints(refusal.details)])


def command_hints(details: Mapping[str, Any]) -> list[str]:
    """The commands that put right what a refusal's (or an import's) `details` say is
    missing, filled from the details (a person's name and unit)."""
    return [hint.format_map(details) for key, hint in COMMANDS.items() if key in details]


def report_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn project errors into a message on stderr and an exit code (1 refused or bad data,
    3 not found) instead of a traceback."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except InvalidDefinition as exc:
            print_capped([str(p) for p in exc.problems])
            fail(ExitCode.REFUSED)
        except StepRefused as exc:
            typer.echo("Bị từ chối:", err=True)
            for refusal in exc.refusals:
                typer.echo(f"  - {refusal_line(refusal)}", err=True)
                missing_types = refusal.details.get("missing")
                if isinstance(missing_types, list) and missing_types:
                    typer.echo(f"    attach --type: {', '.join(map(str, missing_types))}", err=True)
            missing = all(r.code == "not_found" for r in exc.refusals)
            fail(ExitCode.NOT_FOUND if missing and exc.refusals else ExitCode.REFUSED)
        except NotFound as exc:
            typer.echo(f"Không tìm thấy: {exc}", err=True)
            fail(ExitCode.NOT_FOUND)
        except KhenthuongError as exc:
            lines = getattr(exc, "errors", None)  # a file's FILE:ROW lines (imports)
            if isinstance(lines, list) and len(lines) > 1:
                typer.echo(f"Lỗi: {money(len(lines))} dòng không nhập được", err=True)
                print_capped([str(line) for line in lines])
            else:
                typer.echo(f"Lỗi: {exc}", err=True)
            for hint in command_hints(getattr(exc, "details", None) or {}):
                typer.echo(hint, err=True)
            fail(ExitCode.REFUSED)

    return wrapper


ERRORS_SHOWN = 20
"""How many lines of a long error list are printed; the rest is counted."""


def print_capped(lines: Sequence[str], limit: int = ERRORS_SHOWN) -> None:
    """Print at most `limit` error lines on stderr and how many more there are."""
    for line in lines[:limit]:
        typer.echo(line, err=True)
    if len(lines) > limit:
        typer.echo(
            f"… và {money(len(lines) - limit)} lỗi khác; tổng cộng {money(len(lines))} lỗi",
            err=True,
        )


class OutputFormat(StrEnum):
    """How a read command prints: a table for people, JSON for programs, CSV for Excel."""

    table = "table"
    json = "json"
    csv = "csv"


FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        "-f",
        help="Định dạng in ra: table (bảng), json (cho chương trình, có mã), csv (cho Excel).",
        case_sensitive=False,
    ),
]


def _plain(value: Any) -> Any:
    """A value for JSON: dates ISO, enums their value, everything else as is or text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def as_local(moment: datetime) -> datetime:
    """A stored time in Việt Nam (SQLite hands back naive UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(LOCAL_TZ)


def _shown(value: Any) -> str:
    """A value for a table or CSV cell: dates as dd/mm/yyyy (times in Việt Nam), lists joined."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{as_local(value):%d/%m/%Y %H:%M}"
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, list | tuple):
        return ", ".join(_shown(v) for v in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {_shown(v)}" for k, v in value.items())
    return str(value)


def _cell(row: Mapping[str, Any], column: tuple[str, ...]) -> str:
    value = row.get(column[0])
    if len(column) > 2 and column[2] == "number" and isinstance(value, int | float):
        return f"{value:,}".replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return _shown(value)


def emit(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[tuple[str, ...]],
    fmt: OutputFormat,
    *,
    title: str | None = None,
) -> None:
    """Print `rows`: a Rich table or CSV of `columns` (key, Vietnamese header[, "number":
    written 3.510.000]), or JSON with every field of each row (codes included)."""
    items = list(rows)
    if fmt is OutputFormat.json:
        typer.echo(json.dumps(_plain(items), ensure_ascii=False, indent=2, default=str))
        return
    if fmt is OutputFormat.csv:
        from khenthuong.tabular import write_csv  # noqa: PLC0415

        write_csv(
            sys.stdout,
            [c[1] for c in columns],
            ([_cell(r, c) for c in columns] for r in items),
        )
        return
    table = Table(*[c[1] for c in columns], title=title)
    for r in items:
        table.add_row(*[_cell(r, c) for c in columns])
    console.print(table)


def emit_one(item: Mapping[str, Any], labels: Mapping[str, str], fmt: OutputFormat) -> None:
    """Print one object: a two-column table (or CSV) of the labelled fields, or all as JSON."""
    if fmt is OutputFormat.json:
        typer.echo(json.dumps(_plain(dict(item)), ensure_ascii=False, indent=2, default=str))
        return
    pairs = [{"field": label, "value": item.get(key)} for key, label in labels.items()]
    emit(pairs, [("field", "Mục"), ("value", "Giá trị")], fmt)


@contextmanager
def progress(
    description: str, total: int | None, *, on: Console | None = None
) -> Iterator[Callable[..., None]]:
    """A Rich progress bar while a long job runs, on stderr or `on` (the console the job
    prints to, so lines appear above the bar), only on a terminal; yields `advance(n)`, or
    `advance(n, total)` once the total is known."""
    target = on or err_console
    if not target.is_terminal:
        yield lambda n, of=None: None
        return
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=target, transient=True,
    )  # fmt: skip
    with bar:
        task = bar.add_task(description, total=total)
        yield lambda n, of=None: bar.update(task, advance=n, total=of if of else None)


HELP_TEXT = "Xem hướng dẫn này rồi thoát."


VIETNAMESE = frozenset("ăâđêôơưáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ")


def _is_vietnamese(text: str | None) -> bool:
    return bool(text) and any(ch in VIETNAMESE for ch in (text or "").lower())


def _vietnamese_first(text: str | None) -> bool:
    """The text opens in Vietnamese (a Vietnamese letter in its first three words)."""
    return _is_vietnamese(" ".join((text or "").split()[:3]))


RICH_TEXTS = {
    "ARGUMENTS_PANEL_TITLE": "Tham số",
    "OPTIONS_PANEL_TITLE": "Tùy chọn",
    "COMMANDS_PANEL_TITLE": "Lệnh",
    "ERRORS_PANEL_TITLE": "Lỗi",
    "DEFAULT_STRING": "[mặc định: {}]",
    "REQUIRED_LONG_STRING": "[bắt buộc]",
    "ENVVAR_STRING": "[biến môi trường: {}]",
    "DEPRECATED_STRING": "(không dùng nữa) ",
    "ABORTED_TEXT": "Đã hủy.",
    "RICH_HELP": "Xem hướng dẫn: [blue]'{command_path} {help_option}'[/]",
}
"""Typer's own words around the help (panel titles, default and required marks)."""


def _reflowed(text: str) -> str:
    """Each paragraph of a docstring on one line: the terminal wraps it, not the source."""
    return "\n\n".join(" ".join(p.split()) for p in text.split("\n\n"))


def readable_help(command: Any, path: str = "") -> Any:
    """Help an officer reads, in Vietnamese only: the commands' own help, options without a
    Vietnamese help of their own given one (khenthuong.cli.help_vi); each parameter's value
    named as a word (UNIT, YEAR, table|json|csv) instead of a type (<str>, <bool>,
    <list[str]>); flags show none; the help option and Typer's panels in Vietnamese; the
    usage line ("Cách dùng: …") and usage errors in Vietnamese (khenthuong.cli.usage_errors)."""
    import typer.rich_utils  # noqa: PLC0415

    from khenthuong.cli import usage_errors  # noqa: PLC0415
    from khenthuong.cli.completion_vi import CALLBACKS  # noqa: PLC0415
    from khenthuong.cli.help_vi import (  # noqa: PLC0415
        COMMAND_METAVARS,
        COMMAND_OPTIONS,
        METAVARS,
        OPTIONS,
    )

    for name, text in RICH_TEXTS.items():
        setattr(typer.rich_utils, name, text)
    usage_errors.install()
    command.format_usage = partial(usage_errors.format_usage, command)
    usage_errors.keep_context(command)
    if command.help:
        command.help = _reflowed(command.help)
    command.options_metavar = "[TÙY-CHỌN]"
    if getattr(command, "subcommand_metavar", None):
        command.subcommand_metavar = "LỆNH [THAM-SỐ]..."
    for param in command.params:
        if param.name in CALLBACKS:
            param.callback = CALLBACKS[param.name]  # Typer's own prints English
        long_name = next((o for o in getattr(param, "opts", ()) if o.startswith("--")), "")
        vietnamese = COMMAND_OPTIONS.get(f"{path} {long_name}") or OPTIONS.get(long_name)
        if vietnamese and not _vietnamese_first(getattr(param, "help", None)):
            param.help = vietnamese  # none of its own, or Typer's own English
        if not getattr(param, "opts", None) or param.param_type_name == "argument":
            # An argument's type column would show <str>: its name says what it is.
            param.display_type_rich = lambda ctx: None
        if param.metavar is not None:
            continue
        described = getattr(param, "type_descriptor", None)
        if getattr(param, "is_flag", False):
            param.metavar = ""
        elif described is not None and described.is_choice and described.choices:
            param.metavar = "|".join(
                str(c.value if isinstance(c, Enum) else c) for c in described.choices
            )
        else:
            name = (
                COMMAND_METAVARS.get(f"{path} {param.name}")
                or METAVARS.get(param.name or "")
                or (param.name or "value").strip("_").upper().replace("_", "-")
            )
            param.metavar = name + ("..." if param.multiple or param.nargs == -1 else "")
    help_option = command.get_help_option(typer.Context(command))
    if help_option is not None:
        help_option.help = HELP_TEXT
        help_option.metavar = ""
    if hasattr(command, "commands"):  # a group (Typer's own click)
        subs = command.commands
        if isinstance(subs, LazyCommands):  # the root: its mounts get the same when built
            subs.on_load(lambda name, sub: readable_help(sub, f"{path} {name}".strip()))
            subs = subs.loaded()
        for name, sub in subs.items():
            readable_help(sub, f"{path} {name}".strip())
    return command


def runtime() -> Runtime:
    """The runtime for this command (definitions synced with the database)."""
    from khenthuong.runtime import open_runtime  # noqa: PLC0415

    return open_runtime()


@contextmanager
def actor_for(rt: Runtime, username: str) -> Iterator[Actor]:
    """Load the acting user."""
    from khenthuong.services.actors import load_actor  # noqa: PLC0415

    with rt.engine.connect() as conn:
        actor = load_actor(conn, username)
    yield actor


def parse_fields(fields: list[str]) -> dict[str, Any]:
    """KEY=VALUE pairs into a dict; a malformed pair is a usage error naming it."""
    result: dict[str, Any] = {}
    for item in fields:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{item!r} không có dạng KHÓA=GIÁ-TRỊ", param_hint="--field")
        result[key.strip()] = value
    return result


def stdout_is_tty() -> bool:
    """True when output goes to a terminal (progress bars only then)."""
    return sys.stdout.isatty()


def moves(rt: Runtime, results: Sequence[Any]) -> dict[int, str]:
    """Each step's "state → state" by the states' Vietnamese names (codes stay in `--format
    json` and the API), keyed by nomination id: one query for all the nominations."""
    from sqlalchemy import select  # noqa: PLC0415 (kept off the CLI's start-up path)

    from khenthuong.storage.models import NOMINATIONS  # noqa: PLC0415

    ids = [r.nomination_id for r in results]
    with rt.engine.connect() as conn:
        rows = conn.execute(
            select(NOMINATIONS.c.id, NOMINATIONS.c.workflow, NOMINATIONS.c.workflow_version).where(
                NOMINATIONS.c.id.in_(ids)
            )
        ).all()
    versions = {r.id: rt.registry.get(r.workflow, r.workflow_version).definition for r in rows}
    shown = {}
    for r in results:
        wf = versions.get(r.nomination_id)
        if wf is None:
            shown[r.nomination_id] = f"{r.from_state} → {r.to_state}"
            continue
        shown[r.nomination_id] = (
            f"{wf.state(r.from_state).title.vi} → {wf.state(r.to_state).title.vi}"
        )
    return shown
