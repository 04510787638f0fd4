"""The CLI walk-through (docs/guide/walkthrough.md, once the README's) runs as written on a
fresh database after `init --demo` and `demo`.

Every `khenthuong …` line of the walk-through's shell blocks is run in order (with `$(…)`
captures and `$var` substitution); a line whose comment says "refused" must exit 1, every
other line must succeed.
"""

from __future__ import annotations

import re
import shlex

import pytest
from typer.testing import CliRunner

from khenthuong.cli.app import app
from khenthuong.settings import PROJECT_ROOT, Settings

runner = CliRunner()
CAPTURE = re.compile(r"^(\w+)=\$\((.*)\)$")


def walkthrough_commands() -> list[str]:
    """The shell lines of the walk-through page, continuations joined."""
    text = (PROJECT_ROOT / "docs" / "guide" / "walkthrough.md").read_text(encoding="utf-8")
    section = text.split("# Walk-through", 1)[1].split("\n## ", 1)[0]
    lines: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S):
        pending = ""
        for raw in block.splitlines():
            if raw.rstrip().endswith("\\"):
                pending += raw.rstrip()[:-1] + " "
                continue
            lines.append(pending + raw)
            pending = ""
    return [line for line in lines if line.strip()]


def run_line(line: str, env: dict[str, str]) -> tuple[int, str]:
    code_part, _, comment = line.partition("  #")
    code_part = code_part.strip()
    capture = CAPTURE.match(code_part)
    command = capture.group(2) if capture else code_part
    for name, value in env.items():
        command = command.replace(f"${name}", value)
    tokens = shlex.split(command, comments=True)
    assert tokens[0] == "khenthuong", line
    result = runner.invoke(app, tokens[1:])
    if capture:
        env[capture.group(1)] = result.output.strip()
    expected = 1 if "refused" in comment else 0
    assert result.exit_code == expected, f"{line}\n{result.output}"
    return result.exit_code, result.output


@pytest.fixture
def demo_db(settings: Settings) -> Settings:
    for args in (["init", "--demo"], ["demo"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    return settings


def test_readme_walkthrough_runs_as_written(demo_db: Settings) -> None:
    env: dict[str, str] = {}
    outputs = []
    commands = walkthrough_commands()
    assert any("councils close" in c for c in commands)
    for line in commands:
        if line.startswith("source "):
            continue
        outputs.append(run_line(line, env)[1])
    flat = " ".join(" ".join(outputs).split())
    assert "7/7 phiếu đồng ý" in flat and ": đạt" in flat
    assert "Tổng cộng: 710.000 đồng" in flat
    assert env["id"].isdigit() and env["sid"].isdigit()
