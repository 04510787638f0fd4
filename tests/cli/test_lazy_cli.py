"""The sub-commands in modules of their own are imported when used: the root's help lists
them as if they were all loaded, and `khenthuong --help` imports no database layer."""

from __future__ import annotations

import os
import subprocess
import sys

import typer
from click.testing import CliRunner as ClickRunner

from khenthuong.cli.app import MOUNTS, app
from khenthuong.cli.common import readable_help
from khenthuong.cli.help_vi import OPTIONS
from khenthuong.cli.lazy import load_mount


def test_each_mount_lists_its_own_help() -> None:
    """A mount's help is the help its module gives the sub-app (or the command's docstring)."""
    assert {m.name: m.help for m in MOUNTS} == {m.name: load_mount(m, app).help for m in MOUNTS}


def test_the_root_help_is_the_same_before_and_after_loading_every_mount() -> None:
    root = readable_help(typer.main.get_command(app))
    listed = ClickRunner().invoke(root, ["--help"], prog_name="khenthuong")
    assert listed.exit_code == 0, listed.output
    assert not [n for n in root.commands.loaded() if n in {m.name for m in MOUNTS}]
    built = dict(root.commands.items())  # every mount imported and built
    assert set(built) >= {m.name for m in MOUNTS}
    again = ClickRunner().invoke(root, ["--help"], prog_name="khenthuong")
    assert again.output == listed.output
    # A mount built after the readable help was applied gets it too: an option without help
    # of its own gets the Vietnamese one, a docstring's paragraphs are reflowed.
    query = built["audit"].commands["query"]
    nomination = next(p for p in query.params if "--nomination" in p.opts)
    assert nomination.help == OPTIONS["--nomination"], nomination.help
    assert "một cơ sở dữ liệu" in built["serve"].help, built["serve"].help


def test_help_imports_neither_the_database_layer_nor_a_sub_command() -> None:
    code = (
        "import sys\n"
        "from khenthuong.cli.app import main\n"
        "sys.argv = ['khenthuong', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'openpyxl', 'docx', 'fastapi', 'celery') "
        "or m.startswith('khenthuong.cli.') and m.endswith('_cmd'))\n"
        "print('HEAVY', heavy)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert "HEAVY []" in done.stdout, done.stdout[-500:]
