"""Shell completion speaks Vietnamese: installing it, printing its script, and refusing a
shell it does not support (Typer's own callbacks print English sentences). Run through the
real `khenthuong` program with HOME in a temporary folder, so nothing is written outside."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.cli.test_usage_errors import english

KHENTHUONG = str(Path(sys.executable).parent / "khenthuong")


def _run(home: Path, *args: str, detect: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home), "COLUMNS": "200"}
    if detect:
        env.pop("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", None)
        command = ["sh", "-c", " ".join([KHENTHUONG, *args])]  # the shell found is sh
    else:
        env["_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION"] = "1"  # the shell is given
        command = [KHENTHUONG, *args]
    return subprocess.run(
        command, check=False, env=env, capture_output=True, text=True, timeout=120
    )


def test_installing_completion_says_where_in_vietnamese(tmp_path: Path) -> None:
    done = _run(tmp_path, "--install-completion", "bash")
    assert done.returncode == 0, done.stderr
    script = tmp_path / ".bash_completions" / "khenthuong.sh"
    assert script.is_file() and "_KHENTHUONG_COMPLETE" in script.read_text()
    assert done.stdout.splitlines() == [
        f"Đã cài tự hoàn thành lệnh cho bash vào {script}.",
        "Mở lại cửa sổ dòng lệnh để bắt đầu dùng.",
    ]
    assert f"source '{script}'" in (tmp_path / ".bashrc").read_text()


def test_the_script_is_printed_for_a_supported_shell(tmp_path: Path) -> None:
    done = _run(tmp_path, "--show-completion", "zsh")
    assert done.returncode == 0, done.stderr
    assert "#compdef khenthuong" in done.stdout and done.stderr == ""
    assert list(tmp_path.iterdir()) == []  # printing writes nothing


def test_an_unsupported_shell_is_refused_in_vietnamese(tmp_path: Path) -> None:
    for args in (("--show-completion",), ("--install-completion",)):
        done = _run(tmp_path, *args, detect=True)
        assert done.returncode == 1
        assert done.stdout == ""
        assert done.stderr.strip() == (
            "Lỗi: chưa hỗ trợ tự hoàn thành lệnh cho shell sh; "
            "chỉ hỗ trợ bash, zsh, fish, powershell, pwsh."
        )
        assert english(done.stderr) == []
    assert list(tmp_path.iterdir()) == []
