"""The CLI as an officer and a script meet it: every read command prints JSON and CSV with
--format, exit codes mean one thing each, the help names parameters in words, and a file
with ten thousand bad rows prints a short list and the count."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from click.testing import CliRunner as ClickRunner
from typer.testing import CliRunner

from khenthuong.cli.app import app
from khenthuong.cli.common import VIETNAMESE, readable_help
from khenthuong.services.history_import import COLUMNS
from khenthuong.settings import Settings

runner = CliRunner()
KHENTHUONG = str(Path(sys.executable).parent / "khenthuong")

READ_COMMANDS = [
    ["show", "1"],
    ["show", "1", "--as", "tb.bcy"],
    ["history", "1"],
    ["workflows", "list"],
    ["audit", "query", "--nomination", "1"],
    ["blocs", "list", "--year", "2019"],
    ["blocs", "show", "KCY4", "--year", "2019"],
    ["persons", "find", "Nguyễn Văn An"],
    ["decisions", "list"],
    ["decisions", "show", "1/QĐ-BCY"],
    ["councils", "list", "--unit", "BCY"],
    ["calendar", "holidays", "2026"],
    ["documents", "list", "1"],
    ["inspections", "show", "--bloc", "KCY4", "--year", "2019"],
    ["reminders", "status"],
]


@pytest.fixture
def walked(settings: Settings) -> Settings:
    """A demo database after the walk-through (decisions, sessions, plans exist)."""
    assert runner.invoke(app, ["init", "--demo"]).exit_code == 0
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    return settings


def test_every_read_command_prints_json_and_csv(walked: Settings) -> None:
    """`--format json` is valid JSON with codes and names; `--format csv` has a Vietnamese
    header row and a row per item; `--format table` still prints a table."""
    for command in READ_COMMANDS:
        result = runner.invoke(app, [*command, "--format", "json"])
        assert result.exit_code == 0, (command, result.output)
        data = json.loads(result.stdout)
        assert data, command
        as_csv = runner.invoke(app, [*command, "-f", "csv"])
        assert as_csv.exit_code == 0, (command, as_csv.output)
        rows = list(csv.reader(io.StringIO(as_csv.stdout)))
        assert len(rows) >= 2 and all(len(r) == len(rows[0]) for r in rows), command
        assert runner.invoke(app, [*command, "--format", "table"]).exit_code == 0, command
    decision = json.loads(
        runner.invoke(app, ["decisions", "show", "1/qđ-bcy", "-f", "json"]).stdout
    )
    assert decision["award_code"] and decision["award_name"].startswith("Bằng khen")
    assert decision["total_vnd"] == sum(line["amount_vnd"] for line in decision["lines"]) > 0
    sessions = json.loads(runner.invoke(app, ["councils", "list", "-f", "json"]).stdout)
    names = {s["unit"]: s["unit_name"] for s in sessions}
    assert names["BCY"] == "Ban Cơ yếu Chính phủ"  # the ministry council's session, by name
    assert names["CCYQD"] == "Cục Cơ yếu Quân đội"  # the unit's year-end review
    header = next(
        csv.reader(io.StringIO(runner.invoke(app, ["decisions", "list", "-f", "csv"]).stdout))
    )
    assert header[:3] == ["Số quyết định", "Ngày ký", "Người ký"]
    shown = json.loads(runner.invoke(app, ["workflows", "show", "giay_khen", "-f", "json"]).stdout)
    assert shown["name"] == "giay_khen" and shown["states"]
    bad = runner.invoke(app, ["workflows", "list", "--format", "xml"])
    assert bad.exit_code == 2  # usage


def test_exit_codes_mean_one_thing_each(walked: Settings) -> None:
    """0 done, 1 refused, 2 usage, 3 not found."""
    assert runner.invoke(app, ["show", "1"]).exit_code == 0
    assert runner.invoke(app, ["show", "99999"]).exit_code == 3
    assert runner.invoke(app, ["decisions", "show", "999/QĐ-BCY"]).exit_code == 3
    assert runner.invoke(app, ["persons", "find", "Không Có Ai"]).exit_code == 3
    refused = runner.invoke(app, ["nominate", "giay_khen", "--person", "1", "--unit", "CCYQD",
                                  "--as", "kiemtra"])  # fmt: skip
    assert refused.exit_code == 1, refused.output
    assert runner.invoke(app, ["show", "--no-such-option"]).exit_code == 2
    assert runner.invoke(app, ["show", "abc"]).exit_code == 2


def test_help_names_parameters_in_words(tmp_path: Path) -> None:
    """The help of the installed command shows WORDS for values, nothing for flags, and the
    help option in Vietnamese; no <bool>, <str> or <list[str]> types. (Help opens no
    database: one run, not one per database.)"""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "KHENTHUONG_DATABASE_URL": f"sqlite:///{tmp_path / 'help.db'}",
        "KHENTHUONG_STATE_DIR": str(tmp_path / "state"),
    }
    helps = {}
    for command in (["nominate"], ["audit", "query"], ["proposals", "import"], ["--help"]):
        args = command if command == ["--help"] else [*command, "--help"]
        shown = subprocess.run([KHENTHUONG, *args], env=env, capture_output=True, text=True,
                               check=True).stdout  # fmt: skip
        assert not any(t in shown for t in ("<str>", "<bool>", "<int", "<list", "<path")), shown
        assert "Xem hướng dẫn này" in shown
        helps[command[0]] = shown
    assert "QUY-TRÌNH" in helps["nominate"] and "SỐ-CÁ-NHÂN" in helps["nominate"]
    assert "[TÙY-CHỌN]" in helps["--help"] and "[OPTIONS]" not in helps["--help"]


def test_ten_thousand_bad_rows_print_a_short_list(settings: Settings, tmp_path: Path) -> None:
    """A history file of 10,001 bad rows is refused with 20 error lines and the count,
    not 10,001 lines; nothing is imported."""
    assert runner.invoke(app, ["init", "--demo"]).exit_code == 0
    path = tmp_path / "lich-su.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for n in range(10_001):
            writer.writerow(["khong_ro", f"Người {n}", "CCYQD", "2024"] + [""] * (len(COLUMNS) - 4))
    result = runner.invoke(app, ["history", "import", str(path)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) <= 23, len(lines)
    assert sum(line.startswith(f"{path}:") for line in lines) == 20
    assert any("9.981 lỗi khác" in line and "10.001" in line for line in lines)
    assert "Không nhập dòng nào" in result.stderr


def test_every_command_and_option_has_vietnamese_help() -> None:
    """Every command's help and every option's help opens in Vietnamese (and is Vietnamese
    only: tests/cli/test_cli_help_language.py)."""

    def vietnamese(text: str | None) -> bool:  # a Vietnamese letter in the first three words
        return any(ch in VIETNAMESE for ch in " ".join((text or "").split()[:3]).lower())

    def walk(command: Any, path: str) -> Iterator[tuple[str, Any]]:
        yield path, command
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, f"{path} {name}".strip())

    english = []
    for path, command in walk(readable_help(typer.main.get_command(app)), ""):
        if path and not vietnamese(command.help):
            english.append(path)
        for param in command.params:
            if param.param_type_name == "option" and param.help and not vietnamese(param.help):
                english.append(f"{path} {max(param.opts, key=len)}")
    assert english == []


def test_every_commands_help_renders() -> None:
    """Rich reads `[...]` in help text as markup: a help such as `A[/B]` once made
    `year-review tally --help` fail. Every command's help prints, exit 0."""
    failed = []
    root = readable_help(typer.main.get_command(app))  # as `khenthuong` shows it
    stack: list[tuple[list[str], Any]] = [([], root)]
    while stack:
        path, command = stack.pop()
        shown = ClickRunner().invoke(root, [*path, "--help"], prog_name="khenthuong")
        if shown.exit_code != 0:
            failed.append((" ".join(path), repr(shown.exception)))
        stack.extend(([*path, n], c) for n, c in getattr(command, "commands", {}).items())
    assert failed == []


def test_the_other_read_commands_print_json(walked: Settings) -> None:
    """Campaigns, delegations, a covenant's scores, the unit's registration, ratings and
    year-end batch print JSON with `--format json` (codes kept) and CSV with a header."""
    from datetime import date

    from sqlalchemy import select

    from khenthuong.storage.batches import BATCHES
    from khenthuong.storage.db import make_engine

    year = str(date.today().year)
    engine = make_engine(walked.database_url)
    with engine.connect() as conn:
        batch = conn.execute(
            select(BATCHES.c.id).where(BATCHES.c.title.like("Bình xét thi đua năm%"))
        ).scalar_one()
    engine.dispose()

    def as_json(*command: str) -> Any:
        result = runner.invoke(app, [*command, "--format", "json"])
        assert result.exit_code == 0, (command, result.output)
        as_csv = runner.invoke(app, [*command, "-f", "csv"])
        assert as_csv.exit_code == 0 and as_csv.stdout.strip(), (command, as_csv.output)
        return json.loads(result.stdout)

    assert isinstance(as_json("campaigns", "list"), list)
    assert isinstance(as_json("delegations", "list", "--as", "admin"), list)
    scores = as_json("covenants", "scores", "--bloc", "KCY4", "--year", "2019")
    assert {s["unit"] for s in scores} >= {"CCYQD"} and all("rank" in s for s in scores)
    registration = as_json("registrations", "show", "--unit", "CCYQD", "--year", year)
    assert registration["unit_name"] == "Cục Cơ yếu Quân đội" and registration["entries"]
    rated = as_json("ratings", "show", "--unit", "CCYQD", "--year", year)
    assert rated and {"full_name", "rating", "rating_name"} <= set(rated[0])
    members = as_json("year-review", "show", str(batch))
    assert members and {"award_code", "nomination_id", "state", "state_title"} <= set(members[0])
