"""Usage errors and the usage line in Vietnamese: what Typer (its own Click, `typer._click`)
prints when a command is typed wrong.

Typer words these errors in English f-strings that no gettext catalog reaches, so they are
worded here again from the exceptions' attributes: the unknown option and its near matches
(`NoSuchOption`), the missing option or argument and its choices (`MissingParameter`), the
bad value and the conversion that failed (`BadParameter` and the Pydantic error it is raised
from: integer, number, range, choice, path, date and time, yes/no), the unknown command and
its near matches, extra arguments, an option without its value. Where Typer keeps no
attribute (an unknown command, extra arguments, a path's problem) its fixed sentence is read
back; tests/cli/test_usage_errors.py runs each kind through the real command, so a Typer
that words them otherwise fails there. Option names and values stay as typed; the exit code
stays Click's (2 for usage).

`install()` (called by `common.readable_help`, i.e. for the `khenthuong` command) puts
`show` in place of Typer's error printer; `format_usage` gives each command the usage line
"Cách dùng: …"; `keep_context` gives the errors Typer's parser raises without the command's
context that context, so they too print the usage line.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Sequence
from typing import Any

import typer
import typer.rich_utils
from typer._click import exceptions as click_errors

from khenthuong.cli.common import VIETNAMESE

USAGE_PREFIX = "Cách dùng: "

_TYPER_FORMAT_ERROR = typer.rich_utils.rich_format_error

NO_SUCH_COMMAND = re.compile(
    r"^No such command (?P<name>'.*'|\".*\")\.(?: Did you mean (?P<near>.+)\?)?$", re.S
)
EXTRA_ARGUMENTS = re.compile(r"^Got unexpected extra argument\(s\) \((?P<args>.*)\)$", re.S)
NEEDS_VALUE = re.compile(r"^Option .* requires (?:an argument|(?P<n>\d+) arguments)\.$")
TAKES_NO_VALUE = re.compile(r"^Option .* does not take a value\.$")
ARGUMENT_TAKES = re.compile(r"^Argument .* takes (?P<n>\d+) values\.$")
PATH_PROBLEM = re.compile(
    r"^(?P<kind>file|dir|path) (?P<path>'.*'|\".*\") (?P<problem>does not exist|is a file|"
    r"is a directory|is not readable|is not writable)\.$",
    re.S,
)

KINDS = {"file": "tệp", "dir": "thư mục", "path": "đường dẫn"}

OS_PROBLEMS = {
    errno.ENOENT: "không có tệp hoặc thư mục này",
    errno.EACCES: "không có quyền truy cập",
    errno.EPERM: "không có quyền truy cập",
    errno.EISDIR: "là thư mục, không phải tệp",
    errno.ENOTDIR: "một phần của đường dẫn không phải thư mục",
    errno.ENOSPC: "đĩa đã đầy",
    errno.EEXIST: "đã có",
    errno.EROFS: "ổ đĩa chỉ cho đọc",
}


def file_problem(exc: OSError) -> str:
    """Why a file could not be read or written, in Vietnamese (the system's own message,
    `strerror`, is English)."""
    known = OS_PROBLEMS.get(exc.errno or 0)
    if known:
        return known
    return f"lỗi hệ thống {errno.errorcode.get(exc.errno or 0, exc.errno)}"


def _quoted(value: Any) -> str:
    return repr(str(value))


def _listed(names: Sequence[str]) -> str:
    return ", ".join(names)


def _shown_name(param: Any) -> str:
    """A parameter as the officer types it: an option's long name, an argument's word."""
    opts = [o for o in getattr(param, "opts", ()) if o.startswith("-")]
    if opts and getattr(param, "param_type_name", "") != "argument":
        return str(max(opts, key=len))
    word = str(getattr(param, "metavar", None) or (param.name or "").upper())
    return word.removesuffix("...")


def _param_named(ctx: Any, hint: str) -> Any:
    """The command's parameter a hint names: an option's name, an argument's name or word
    (a command writes `param_hint="FILE"`; the officer sees the argument as TỆP)."""
    if ctx is None:
        return None
    wanted = hint.strip("'\"")
    for param in getattr(ctx.command, "params", ()):
        names = {*getattr(param, "opts", ()), (param.name or "").upper(), str(param.metavar)}
        if wanted in names or wanted.upper().replace("-", "_") == (param.name or "").upper():
            return param
    return None


def _where(exc: Any) -> str | None:
    """Which option or argument the error is about, as typed (None when it names none)."""
    param = getattr(exc, "param", None)
    hint = getattr(exc, "param_hint", None)
    if hint is not None:
        hints = [hint] if isinstance(hint, str) else list(hint)
        named = [_param_named(getattr(exc, "ctx", None), h) for h in hints]
        return " / ".join(
            _shown_name(p) if p is not None else h for p, h in zip(named, hints, strict=True)
        )
    if param is not None:
        return _shown_name(param)
    return None


def _choices(param: Any) -> list[str] | None:
    described = getattr(param, "type_descriptor", None)
    if described is None or not described.is_choice or not described.choices:
        return None
    return [str(getattr(c, "value", c)) for c in described.choices]


def _limits(param: Any) -> tuple[Any, Any]:
    info = getattr(getattr(param, "type_descriptor", None), "parameter_info", None)
    return getattr(info, "min", None), getattr(info, "max", None)


def _range(value: Any, param: Any, error: dict[str, Any]) -> str:
    low, high = _limits(param)
    context = error.get("ctx") or {}
    low = low if low is not None else context.get("ge", context.get("gt"))
    high = high if high is not None else context.get("le", context.get("lt"))
    if low is not None and high is not None:
        return f"{_quoted(value)} không nằm trong khoảng từ {low} đến {high}"
    if low is not None:
        return f"{_quoted(value)} nhỏ hơn {low}"
    return f"{_quoted(value)} lớn hơn {high}"


CONVERSIONS = {
    "int": "không phải số nguyên",
    "float": "không phải số",
    "decimal": "không phải số",
    "bool": "không phải giá trị có/không (true, false, 1, 0)",
    "datetime": "không phải ngày giờ (YYYY-MM-DD hoặc YYYY-MM-DDTHH:MM:SS)",
    "date": "không phải ngày (YYYY-MM-DD)",
    "time": "không phải giờ (HH:MM:SS)",
    "uuid": "không phải UUID",
}
"""Pydantic's error type (its first word: int_parsing, float_type …) → what the value is not."""


def _conversion(exc: Any) -> str | None:
    """Why the value could not be converted, from the Pydantic error the BadParameter was
    raised from (Typer converts values through Pydantic)."""
    cause = exc.__cause__
    errors = getattr(cause, "errors", None)
    if not callable(errors):
        return _os_or_none(cause, exc)
    found = errors()
    if not found:
        return None
    error = found[0]
    kind = str(error.get("type", ""))
    value = error.get("input")
    param = getattr(exc, "param", None)
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        return _range(value, param, error)
    choices = _choices(param)
    if choices is not None:
        return f"{_quoted(value)} không phải một trong: {_listed(choices)}"
    raised = (error.get("ctx") or {}).get("error")
    if kind == "value_error" and isinstance(raised, Exception):
        text = str(raised)
        if any(ch in VIETNAMESE for ch in text.lower()):
            return text  # the project's own parser, worded in Vietnamese (BadDate)
    head = kind.split("_", maxsplit=1)[0]
    if head in CONVERSIONS:
        return f"{_quoted(value)} {CONVERSIONS[head]}"
    return f"{_quoted(value)} không hợp lệ"


def _os_or_none(cause: Any, exc: Any) -> str | None:
    if isinstance(cause, OSError):
        name = exc.message.split("': ")[0].lstrip("'")
        return f"{_quoted(name)}: {file_problem(cause)}"
    return None


def _path_problem(message: str) -> str | None:
    found = PATH_PROBLEM.match(message)
    if found is None:
        return None
    kind, path, problem = KINDS[found["kind"]], found["path"], found["problem"]
    return {
        "does not exist": f"không có {kind} {path}",
        "is a file": f"{path} là tệp, cần một thư mục",
        "is a directory": f"{path} là thư mục, cần một tệp",
        "is not readable": f"không đọc được {kind} {path}",
        "is not writable": f"không ghi được vào {kind} {path}",
    }[problem]


def _bad_value(exc: click_errors.BadParameter) -> str:
    reason = _conversion(exc) or _path_problem(exc.message) or _typer_value(exc.message)
    where = _where(exc)
    if where is None:
        return f"Giá trị không hợp lệ: {reason}."
    return f"Giá trị của {where} không hợp lệ: {reason}."


def _typer_value(message: str) -> str:
    """Typer's own wording of a value it cannot take, else the message (the project's own
    BadParameter, already Vietnamese)."""
    found = re.match(r"^Value (?P<value>.*) is not a valid .*\.$", message, re.S)
    if found:
        return f"{found['value']} không hợp lệ"
    if message == "Value must be an iterable.":
        return "cần một danh sách giá trị"
    return message.rstrip(".")


def _missing(exc: click_errors.MissingParameter) -> str:
    param = exc.param
    kind = exc.param_type or getattr(param, "param_type_name", "parameter")
    word = "tùy chọn" if kind == "option" else "tham số"
    where = _where(exc)
    text = f"Thiếu {word} {where}" if where else f"Thiếu {word}"
    choices = _choices(param)
    if choices:
        text += f": chọn một trong {_listed(choices)}"
    return text + "."


def _usage(exc: click_errors.UsageError) -> str:
    message = exc.message
    if found := NO_SUCH_COMMAND.match(message):
        name = found["name"][1:-1]
        near = found["near"]
        if near:
            names = [n.strip().strip("'\"") for n in near.split(",")]
            return f"Không có lệnh {name} (có thể là: {_listed(names)})."
        return f"Không có lệnh {name}."
    if found := EXTRA_ARGUMENTS.match(message):
        return f"Thừa tham số: {found['args']}."
    if message == "Missing command.":
        return "Thiếu lệnh."
    return message


def worded(exc: click_errors.ClickException) -> str:
    """The Vietnamese of a Click/Typer error, named by what is wrong and where."""
    if isinstance(exc, click_errors.NoSuchOption):
        text = f"Không có tùy chọn {exc.option_name}"
        if exc.possibilities:
            text += f" (có thể là: {_listed(sorted(exc.possibilities))})"
        return text + "."
    if isinstance(exc, click_errors.MissingParameter):
        return _missing(exc)
    if isinstance(exc, click_errors.BadParameter):
        return _bad_value(exc)
    if isinstance(exc, click_errors.BadOptionUsage):
        if found := NEEDS_VALUE.match(exc.message):
            count = found["n"] or "một"
            return f"Tùy chọn {exc.option_name} cần {count} giá trị."
        if TAKES_NO_VALUE.match(exc.message):
            return f"Tùy chọn {exc.option_name} không nhận giá trị."
        return exc.message
    if isinstance(exc, click_errors.BadArgumentUsage):
        if found := ARGUMENT_TAKES.match(exc.message):
            return f"Tham số cần {found['n']} giá trị."
        return exc.message
    if isinstance(exc, click_errors.UsageError):
        return _usage(exc)
    if isinstance(exc, click_errors.FileError):
        cause = exc.__cause__
        reason = file_problem(cause) if isinstance(cause, OSError) else exc.message
        return f"Không mở được tệp {_quoted(exc.ui_filename)}: {reason}."
    return exc.format_message()


def show(exc: click_errors.ClickException) -> None:
    """Typer's error printer (usage line, where to find help, the error panel) with the
    error worded in Vietnamese."""
    if isinstance(exc, click_errors.NoArgsIsHelpError):
        _TYPER_FORMAT_ERROR(exc)
        return
    ctx = getattr(exc, "ctx", None)
    shown: click_errors.ClickException = (
        click_errors.UsageError(worded(exc), ctx)
        if isinstance(exc, click_errors.UsageError)
        else click_errors.ClickException(worded(exc))
    )
    _TYPER_FORMAT_ERROR(shown)


def format_usage(command: Any, ctx: Any, formatter: Any) -> None:
    """A command's usage line, "Cách dùng: khenthuong … [TÙY-CHỌN] …"."""
    pieces = command.collect_usage_pieces(ctx)
    formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=USAGE_PREFIX)


def keep_context(command: Any) -> None:
    """Give the command's usage errors that Typer's parser raises without a context (an option
    without its value, a flag given one, an argument short of values) the command's own
    context, so that `show` prints its usage line and where to find its help like any other."""
    if getattr(command, "_keeps_context", False):
        return
    parse = command.parse_args

    def parse_args(ctx: Any, args: list[str]) -> list[str]:
        try:
            return list(parse(ctx, args))
        except click_errors.UsageError as exc:
            if exc.ctx is None:
                exc.ctx, exc.cmd = ctx, ctx.command
            raise

    command.parse_args = parse_args
    command._keeps_context = True


def install() -> None:
    """Typer prints usage errors through `show` (once set, for every command built)."""
    # Typer names the printer's parameter `self` (it was a method of Click's exception).
    typer.rich_utils.rich_format_error = show  # type: ignore[assignment]
    highlights = typer.rich_utils.OptionHighlighter.highlights
    usage = f"(?P<usage>{USAGE_PREFIX})"
    if usage not in highlights:
        highlights.append(usage)
