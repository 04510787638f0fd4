"""Config and workflow files are read with bounds: no aliases, no huge files."""

from __future__ import annotations

from pathlib import Path

import pytest

from khenthuong.errors import InvalidDefinition
from khenthuong.settings import PROJECT_ROOT
from khenthuong.yamlsource import MAX_YAML_BYTES, load_yaml

BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
"""


def problems(path: Path) -> list[str]:
    with pytest.raises(InvalidDefinition) as refused:
        load_yaml(path)
    return [f"{p.file}:{p.line}: {p.message}" for p in refused.value.problems]


def test_nested_aliases_are_refused_at_their_line(tmp_path: Path) -> None:
    """The 'billion laughs' file would expand to 9^8 items; it is refused at the first alias
    (the expansion is never built)."""
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    assert problems(path) == [
        f"{path}:2: YAML syntax: alias *a is not allowed (write the value out in full)"
    ]


def test_an_anchor_without_an_alias_is_harmless(tmp_path: Path) -> None:
    path = tmp_path / "anchor.yaml"
    path.write_text("a: &x 1\nb: 2\n")
    assert load_yaml(path).data == {"a": 1, "b": 2}


def test_a_file_over_the_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("k: " + "x" * MAX_YAML_BYTES + "\n")
    assert problems(path) == [
        f"{path}:1: file is {MAX_YAML_BYTES + 4:,} bytes; at most {MAX_YAML_BYTES:,} are read"
    ]


def test_the_shipped_files_are_within_the_bounds() -> None:
    root = Path(__file__).resolve().parents[1]
    for path in [*root.glob("config/*.yaml"), *root.glob("workflows/*.yaml")]:
        assert load_yaml(path).data, path


SHIPPED_YAML = sorted(
    [*(PROJECT_ROOT / "workflows").glob("*.yaml"), *(PROJECT_ROOT / "config").glob("*.yaml")],
    key=str,
)


@pytest.mark.parametrize("path", SHIPPED_YAML, ids=str)
def test_the_libyaml_reader_gives_the_python_readers_data_and_lines(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files are read through libyaml when PyYAML has it; the pure-Python composer (which
    words the errors) must give the same values and the same line for every key."""
    from khenthuong import yamlsource

    fast = load_yaml(path)
    monkeypatch.setattr(yamlsource, "_FAST_LOADER", None)
    slow = load_yaml(path)
    assert fast.data == slow.data
    assert fast.lines == slow.lines


def test_a_single_alias_is_refused_through_either_reader(tmp_path: Path) -> None:
    path = tmp_path / "alias.yaml"
    path.write_text("a: &x 1\nb: *x\n", encoding="utf-8")
    assert problems(path) == [
        f"{path}:2: YAML syntax: alias *x is not allowed (write the value out in full)"
    ]
