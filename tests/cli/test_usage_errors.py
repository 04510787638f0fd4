"""A command typed wrong is answered in Vietnamese only: the usage line ("Cách dùng: …"), where
to find help, and the error named by what is wrong and where (the option or argument as
typed), with exit code 2; questions asked on the terminal too. Each kind of error runs
through the real `khenthuong` command (khenthuong.cli.app.command, what `main` runs), lazy
sub-commands included; none of these commands reaches the database."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from khenthuong.cli.app import command
from khenthuong.cli.common import VIETNAMESE, readable_help
from khenthuong.cli.prompts import confirm
from tests.cli.test_cli_help_language import ENGLISH_WORDS, _prose

CLI = Path(__file__).resolve().parents[2] / "src" / "khenthuong" / "cli"

CLICK_WORDS = frozenset([
    "no", "such", "option", "options", "possible", "missing", "argument", "arguments", "invalid",
    "value", "values", "got", "unexpected", "extra", "command", "requires", "usage", "error",
    "aborted", "did", "you", "mean", "does", "exist", "file", "directory", "valid", "integer",
    "number", "input", "should", "choose", "repeat", "confirmation", "entered", "match", "try",
    "help", "give", "use", "must", "between", "date", "datetime", "address",
])  # fmt: skip
"""English words of Click's and Typer's messages (and the project's old ones)."""


def english(text: str) -> list[str]:
    """Any English word of `text` outside code and quoted values: one is too many here."""
    sentences = re.sub(r"[.,:;!?](?=\s|$)", " ", text)  # "Aborted." is a word, not code
    words = re.findall(r"[^\W\d_]+", _prose(sentences))
    return [w for w in words if w.lower() in ENGLISH_WORDS | CLICK_WORDS]


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `khenthuong ARGS` (wide, so no line is wrapped)."""
    runner = CliRunner()
    code: int | str | None = 0
    with runner.isolation(input=stdin, env={"COLUMNS": "400"}) as (out, err, _):
        try:
            command().main(list(args), prog_name="khenthuong")
        except SystemExit as exc:
            code = exc.code
        printed, errors = out.getvalue().decode(), err.getvalue().decode()
    assert isinstance(code, int | None)
    return code or 0, printed, errors


def panel(stderr: str) -> str:
    """The text of the error panel ("╭─ Lỗi ─╮ … ╰─╯") on one line."""
    lines = stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("╭─ Lỗi"))
    inside = []
    for line in lines[start + 1 :]:
        if line.startswith("╰"):
            break
        inside.append(line.strip("│ "))
    return " ".join(inside)


def usage_error(*args: str) -> tuple[str, str]:
    """The error's message and the whole of stderr; exit code 2, every word Vietnamese."""
    code, _, err = run(*args)
    assert code == 2, err
    assert english(err) == [], err
    assert "Usage" not in err and "Error" not in err, err
    return panel(err), err


def test_the_detector_sees_click_english() -> None:
    for old in (
        "No such option: --as (Possible options: --year)",
        "Missing option '--as'.",
        "Missing argument 'FILE'.",
        "Invalid value for '--year': 'abc' is not a valid integer.",
        "'x' is not one of 'docx', 'pdf'.",
        "Got unexpected extra argument (x)",
        "No such command 'foo'.",
        "Option '--x' requires an argument.",
        "Aborted.",
        "Error: The two entered values do not match.",
        "Usage: khenthuong councils list [TÙY-CHỌN]",
        "'x=1' is not KEY=VALUE",
        "'x' is not CODE=NUMBER",
    ):
        assert english(old), old
    assert english("Không có tùy chọn --as (có thể là: --year).") == []
    assert english("Giá trị của --format không hợp lệ: 'x' không phải một trong: docx, pdf.") == []


def test_an_unknown_option_names_it_and_its_near_matches() -> None:
    message, err = usage_error("councils", "list", "--as", "x")
    assert message == "Không có tùy chọn --as (có thể là: --year)."
    assert err.splitlines()[:2] == [
        "Cách dùng: khenthuong councils list [TÙY-CHỌN]",
        "Xem hướng dẫn: 'khenthuong councils list --help'",
    ]
    assert usage_error("--bogus")[0] == "Không có tùy chọn --bogus."


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["stats"], "Thiếu tùy chọn --year."),
        (["documents", "render", "quyet-dinh", "1", "--as", "a"], "Thiếu tùy chọn --output."),
        (["ratings", "import"], "Thiếu tham số TỆP."),
        (["documents", "render"], "Thiếu tham số LOẠI-VĂN-BẢN."),
    ],
)
def test_a_missing_option_or_argument_is_named(args: list[str], message: str) -> None:
    assert usage_error(*args)[0] == message


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["councils", "list", "--year", "abc"],
            "Giá trị của --year không hợp lệ: 'abc' không phải số nguyên.",
        ),
        (
            ["inspections", "report", "1", "--score", "abc"],
            "Giá trị của --score không hợp lệ: 'abc' không phải số.",
        ),
        (
            ["stats", "--year", "1800"],
            "Giá trị của --year không hợp lệ: '1800' không nằm trong khoảng từ 1945 đến 2100.",
        ),
        (
            ["councils", "list", "--format", "xml"],
            "Giá trị của --format không hợp lệ: 'xml' không phải một trong: table, json, csv.",
        ),
        (
            ["calendar", "add-working-days", "xx", "3"],
            "Giá trị của NGÀY không hợp lệ: 'xx' không phải ngày (YYYY-MM-DD).",
        ),
        (
            ["calendar", "holidays", "1800"],
            "Giá trị của NĂM không hợp lệ: năm phải từ 1901 đến 2100.",
        ),
        (
            ["documents", "render", "x", "1", "-o", "out.pdf", "--as", "a"],
            "Giá trị của LOẠI-VĂN-BẢN không hợp lệ: 'x' không phải một trong: "
            "quyet-dinh, danh-sach, bang-khen, bien-ban, to-trinh, ke-hoach-kiem-tra, "
            "bao-cao-so-ket, bao-cao-tong-ket.",
        ),
    ],
)
def test_a_bad_value_names_the_option_and_why(args: list[str], message: str) -> None:
    assert usage_error(*args)[0] == message


def test_a_path_that_is_not_there_or_not_a_file(tmp_path: Path) -> None:
    missing = tmp_path / "không-có.csv"
    message, _ = usage_error("ratings", "import", str(missing))
    assert message == f"Giá trị của TỆP không hợp lệ: không có tệp '{missing}'."
    message, _ = usage_error("ratings", "import", str(tmp_path))
    assert message == f"Giá trị của TỆP không hợp lệ: '{tmp_path}' là thư mục, cần một tệp."
    message, _ = usage_error("documents", "verify", str(missing))
    assert message == f"Giá trị của TỆP không hợp lệ: '{missing}': không có tệp hoặc thư mục này."


def test_an_unknown_command_names_it_and_its_near_matches() -> None:
    assert usage_error("foo")[0] == "Không có lệnh foo."
    message, err = usage_error("councils", "lst")
    assert message == "Không có lệnh lst (có thể là: list)."
    assert err.startswith("Cách dùng: khenthuong councils [TÙY-CHỌN] LỆNH [THAM-SỐ]...\n")


def test_extra_arguments_and_an_option_without_its_value() -> None:
    assert usage_error("reminders", "status", "thừa", "nữa")[0] == "Thừa tham số: thừa nữa."
    assert usage_error("councils", "list", "--year")[0] == "Tùy chọn --year cần một giá trị."
    assert usage_error("init", "--demo=có")[0] == "Tùy chọn --demo không nhận giá trị."


@pytest.mark.parametrize(
    ("args", "usage", "message"),
    [
        (
            ["show", "--as"],
            "khenthuong show [TÙY-CHỌN] {SỐ-HỒ-SƠ}",
            "Tùy chọn --as cần một giá trị.",
        ),
        (
            ["councils", "list", "--year"],
            "khenthuong councils list [TÙY-CHỌN]",
            "Tùy chọn --year cần một giá trị.",
        ),
        (
            ["init", "--demo=có"],
            "khenthuong init [TÙY-CHỌN]",
            "Tùy chọn --demo không nhận giá trị.",
        ),
    ],
)
def test_an_option_without_its_value_or_with_one_it_takes_not_shows_the_usage_line(
    args: list[str], usage: str, message: str
) -> None:
    """Typer's parser raises these without the command's context: they get it back."""
    found, err = usage_error(*args)
    assert found == message
    command = usage.split(" [", 1)[0]
    assert err.splitlines()[:2] == [
        f"Cách dùng: {usage}",
        f"Xem hướng dẫn: '{command} --help'",
    ]


def test_an_argument_short_of_values_shows_the_usage_line() -> None:
    """No khenthuong command takes an argument of two values: a small one built the same way
    (`readable_help`) shows what its usage error prints."""
    app = typer.Typer()

    @app.command()
    def span(days: tuple[int, int] = typer.Argument(...)) -> None:
        """Hai số."""

    @app.command()
    def other() -> None:
        """Lệnh khác."""

    built = readable_help(typer.main.get_command(app))
    with CliRunner().isolation(env={"COLUMNS": "400"}) as (_out, err, _):
        with pytest.raises(SystemExit) as exited:
            built.main(["span", "1"], prog_name="thu")
        printed = err.getvalue().decode()
    assert exited.value.code == 2
    assert printed.splitlines()[:2] == [
        "Cách dùng: thu span [TÙY-CHỌN] {DAYS}...",
        "Xem hướng dẫn: 'thu span --help'",
    ]
    assert panel(printed) == "Tham số cần 2 giá trị."


def test_the_help_shows_the_usage_line_in_vietnamese() -> None:
    code, out, _ = run("councils", "list", "--help")
    assert code == 0
    assert "Cách dùng: khenthuong councils list [TÙY-CHỌN]" in out
    assert "Usage" not in out


def test_a_new_password_typed_twice_differently_is_asked_again_then_aborted() -> None:
    code, out, err = run("users", "set-password", "cb.qd", stdin="một\nhai\n")
    assert code == 1
    assert "Mật khẩu mới: " in out and "Nhập lại để xác nhận: " in out
    assert "Lỗi: hai lần nhập không giống nhau; nhập lại." in err
    assert err.rstrip().endswith("Đã hủy."), err
    assert english(out + err) == [], out + err


def test_yes_or_no_is_asked_in_vietnamese() -> None:
    runner = CliRunner()
    with runner.isolation(input="có thể\nc\n\n") as (out, err, _):
        assert confirm("Ký quyết định?") is True
        assert confirm("Ký quyết định?") is False  # an empty answer: the default
        assert out.getvalue().decode().startswith("Ký quyết định? [c/K]: ")
        assert err.getvalue().decode() == "Trả lời c (có) hoặc k (không).\n"


def test_the_entry_point_answers_in_vietnamese() -> None:
    """`khenthuong` itself (a new process through `main`), not only the command tree."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-c", "from khenthuong.cli.app import main; main()", "councils", "lst"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert panel(done.stderr) == "Không có lệnh lst (có thể là: list)."


def _literal(node: ast.expr) -> str:
    """A message's words: a string, or an f-string's text with each value as "…"."""
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else " … " for v in node.values)
    return ""


def test_the_commands_own_usage_errors_and_questions_are_vietnamese() -> None:
    """Every BadParameter a command raises is worded in Vietnamese (or passes on a Vietnamese
    message), and every question goes through khenthuong.cli.prompts."""
    found = []
    for path in sorted(CLI.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            where = f"{path.name}:{node.lineno}"
            if node.func.attr in {"prompt", "confirm"} and path.name != "prompts.py":
                found.append(f"{where}: typer.{node.func.attr}, not khenthuong.cli.prompts")
            if node.func.attr != "BadParameter" or not node.args:
                continue
            text = _literal(node.args[0])
            prose = " ".join(re.findall(r"[^\W\d_]+", _prose(text)))
            if english(text) or (prose and not any(ch in VIETNAMESE for ch in prose.lower())):
                found.append(f"{where}: {text!r}")
    assert found == [], "\n".join(found)
