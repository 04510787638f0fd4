"""Each bloc's inspection period comes from config/blocs.yaml (default 1 Oct - 30 Nov)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from khenthuong.errors import InvalidDefinition
from khenthuong.runtime import Runtime
from khenthuong.services import inspections
from khenthuong.services.actors import load_actor
from khenthuong.services.blocs import apply_blocs, bloc_view, load_blocs
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import UNITS
from tests.conftest import CONFIG

UNITS_KNOWN = {"BCY", "CCYQD", "CCYCA", "CCYNG", "CCYDCQ"}
HEAD = (
    "blocs:\n"
    "  - code: K1\n"
    "    name: Khối thử\n"
    "    kind: khoi\n"
    "    organiser: BCY\n"
    "    members: [CCYQD, CCYCA, CCYNG]\n"
    "    since: 2020\n"
    "    rotation: [CCYQD, CCYCA, CCYNG]\n"
)


def write(tmp_path: Path, period: str) -> Path:
    path = tmp_path / "blocs.yaml"
    path.write_text(HEAD + period, encoding="utf-8")
    return path


def test_period_defaults_and_reads_from_the_file(tmp_path: Path) -> None:
    """No inspection_period: 01/10 - 30/11; given: as written."""
    (bloc,) = load_blocs(write(tmp_path, ""), UNITS_KNOWN)
    assert (bloc.inspection_period.start, bloc.inspection_period.end) == ("01/10", "30/11")
    path = write(tmp_path, '    inspection_period: {start: "15/03", end: "30/06"}\n')
    (bloc,) = load_blocs(path, UNITS_KNOWN)
    assert (bloc.inspection_period.start, bloc.inspection_period.end) == ("15/03", "30/06")


@pytest.mark.parametrize(
    ("period", "line", "message"),
    [
        (
            '    inspection_period:\n      start: "01/10"\n      end: "31/11"\n',
            11,
            "'31/11' is not a day of every year (DD/MM, e.g. 01/10)",
        ),
        (
            '    inspection_period:\n      start: "29/02"\n      end: "30/04"\n',
            10,
            "'29/02' is not a day of every year",
        ),
        (
            '    inspection_period:\n      start: "01/12"\n      end: "31/01"\n',
            11,
            "the period ends (31/01) before it starts (01/12) within the year",
        ),
        ('    inspection_period:\n      start: "1/10"\n', 10, "String should match pattern"),
        ('    inspection_period: {from: "01/10"}\n', 9, "from"),
    ],
)
def test_a_bad_period_names_file_and_line(
    tmp_path: Path, period: str, line: int, message: str
) -> None:
    """Impossible days, a period ending before it starts, a wrong form or key: FILE:LINE."""
    path = write(tmp_path, period)
    with pytest.raises(InvalidDefinition) as info:
        load_blocs(path, UNITS_KNOWN)
    problems = [str(p) for p in info.value.problems]
    assert any(p.startswith(f"{path}:{line}:") and message in p for p in problems), problems


def test_plans_use_the_blocs_period(rt: Runtime, tmp_path: Path) -> None:
    """A bloc inspecting in spring gets spring visits by default; the shipped blocs keep
    autumn; re-applying the file updates an existing bloc's period."""
    with write_tx(rt.engine) as conn:
        known = set(conn.execute(select(UNITS.c.code)).scalars())
        apply_blocs(conn, load_blocs(CONFIG / "blocs.yaml", known))
        spring = write(tmp_path, '    inspection_period: {start: "15/03", end: "30/04"}\n')
        assert apply_blocs(conn, load_blocs(spring, known)) == 1
        admin = load_actor(conn, "admin")
        inspections.plan_inspections(conn, "K1", 2021, actor=admin)
        visits = inspections.visits(conn, "K1", 2021)
        assert bloc_view(conn, "K1", 2021).inspection_period(2021) == (
            date(2021, 3, 15),
            date(2021, 4, 30),
        )
        assert bloc_view(conn, "KCY4", 2021).inspection_period(2021) == (
            date(2021, 10, 1),
            date(2021, 11, 30),
        )
        autumn = write(tmp_path, '    inspection_period: {start: "01/09", end: "31/10"}\n')
        assert apply_blocs(conn, load_blocs(autumn, known)) == 0
        moved = bloc_view(conn, "K1", 2022).inspection_period(2022)
    assert visits and all(
        date(2021, 3, 15) <= v.starts_on <= v.ends_on <= date(2021, 4, 30) for v in visits
    )
    assert moved == (date(2022, 9, 1), date(2022, 10, 31))
