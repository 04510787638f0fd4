"""Bloc leaders by rotation and record; blocs loaded from config with located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from khenthuong.blocs.rotation import leader_for_year
from khenthuong.errors import InvalidDefinition
from khenthuong.runtime import Runtime
from khenthuong.services.actors import load_actor
from khenthuong.services.bloc_admin import set_leader
from khenthuong.services.blocs import apply_blocs, bloc_view, load_blocs
from khenthuong.storage.db import write_tx
from tests.conftest import CONFIG

ROTATION = ["CCYQD", "CCYDCQ", "CCYCA", "CCYNG"]
UNITS = {
    "BCY",
    "CCYQD",
    "CCYCA",
    "CCYNG",
    "CCYDCQ",
    "CQLKT",
    "BCA",
    "C07",
    "K02",
    "BCAKHDT",
    "A05",
    "C08",
    "BCACY",
    "BTDKTTW",
    "BQP",
    "BTP",
    "TTCP",
    "TANDTC",
    "VKSNDTC",
}


def test_recorded_leaders_win_and_rotation_continues_from_them() -> None:
    """2018 and 2019 are on record; 2020 and later continue the rotation after 2019's leader."""
    recorded = {2018: "CCYQD", 2019: "CCYDCQ"}
    assert [leader_for_year(ROTATION, recorded, 2018, y) for y in range(2018, 2024)] == [
        "CCYQD",
        "CCYDCQ",
        "CCYCA",
        "CCYNG",
        "CCYQD",
        "CCYDCQ",
    ]


def test_rotation_without_records_starts_at_the_first_member() -> None:
    """With nothing recorded the first member leads in the starting year."""
    assert leader_for_year(ROTATION, {}, 2012, 2012) == "CCYQD"
    assert leader_for_year(ROTATION, {}, 2012, 2015) == "CCYNG"


def test_demo_blocs_load_and_show_the_2019_leader(rt: Runtime) -> None:
    """Khối thi đua 4 Hệ Cơ yếu is led by Cục Cơ yếu Đảng – Chính quyền in 2019; a year
    with no recorded leader has none (chưa chọn) until one is elected: no sourced rotation."""
    with write_tx(rt.engine) as conn:
        assert apply_blocs(conn, load_blocs(CONFIG / "blocs.yaml", UNITS)) == 4
        assert apply_blocs(conn, load_blocs(CONFIG / "blocs.yaml", UNITS)) == 0
        view = bloc_view(conn, "KCY4", 2019)
        assert view.leader == "CCYDCQ"
        assert [c for c, _ in view.members] == ROTATION
        assert bloc_view(conn, "KCY4", 2020).leader is None
        set_leader(
            conn, "KCY4", 2020, "CCYNG", "CCYCA", source="elected",
            actor=load_actor(conn, "tt.dcq"),  # the 2019 leader chairs the election
        )  # fmt: skip
        assert (bloc_view(conn, "KCY4", 2020).leader, bloc_view(conn, "KCY4", 2021).leader) == (
            "CCYNG",
            None,
        )
        assert bloc_view(conn, "KCY4", 2020).leader_source == "elected"
        assert bloc_view(conn, "CUM2-BCA", 2018).leader == "C07"


def test_bad_bloc_file_names_file_and_line(tmp_path: Path) -> None:
    """An unknown member and a rotation that misses a member are located by line."""
    bad = tmp_path / "blocs.yaml"
    bad.write_text(
        "blocs:\n"
        "  - code: K1\n"
        "    name: Khối thử\n"
        "    kind: khoi\n"
        "    organiser: BCY\n"
        "    members: [CCYQD, NOPE]\n"
        "    since: 2020\n"
        "    rotation: [CCYQD]\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidDefinition) as info:
        load_blocs(bad, UNITS)
    messages = [str(p) for p in info.value.problems]
    assert f"{bad}:6: unknown unit 'NOPE'" in messages
    assert f"{bad}:8: rotation must list every member exactly once" in messages
