"""`khenthuong init` warns about catalog overrides for organisations the database lacks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from khenthuong.cli.app import app
from khenthuong.settings import PROJECT_ROOT, Settings, get_settings

runner = CliRunner()


def test_init_names_an_override_for_an_unknown_organisation(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A misspelt organisation code in awards.yaml is reported with FILE:LINE; init still ends 0."""
    result = runner.invoke(app, ["init", "--demo"])
    assert result.exit_code == 0, result.output
    assert "Cảnh báo" not in result.output
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    awards = config / "awards.yaml"
    lines = awards.read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text == "  BQP:")
    lines[line - 1] = "  BQPX:"
    awards.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("KHENTHUONG_CONFIG_DIR", str(config))
    get_settings.cache_clear()
    result = runner.invoke(app, ["init"], terminal_width=200)
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert f"{awards}:{line}: unknown unit 'BQPX'" in result.output
