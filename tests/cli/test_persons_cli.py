"""`khenthuong persons` and `nominate --nominee/--person/--collective` (issue 11)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from khenthuong.cli.app import app
from khenthuong.settings import Settings
from khenthuong.storage.db import make_engine
from khenthuong.storage.models import NOMINATIONS, PERSONS

runner = CliRunner()
PROPOSER = ("--unit", "CCYQD", "--as", "cb.qd")


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def fresh(settings: Settings) -> Settings:
    code, out = run("init", "--demo")
    assert code == 0, out
    return settings


def stored(settings: Settings, nid: str) -> dict[str, object]:
    engine = make_engine(settings.database_url)
    with engine.connect() as conn:
        row = conn.execute(select(NOMINATIONS).where(NOMINATIONS.c.id == int(nid))).mappings().one()
    engine.dispose()
    return dict(row)


def test_an_unknown_name_is_refused_then_registered_then_nominated(fresh: Settings) -> None:
    """The refusal prints the exact `persons add` command; running it makes the name known."""
    code, out = run("nominate", "giay_khen", "--nominee", "Lò Văn Pá", *PROPOSER)
    assert code == 1
    assert 'khenthuong persons add "Lò Văn Pá" --unit CCYQD' in out
    code, out = run("persons", "add", "Lò Văn Pá", "--unit", "CCYQD", "--birth-year", "1988")
    assert code == 0, out
    pid = int(out.strip())
    code, out = run("nominate", "giay_khen", "--nominee", "lò văn pá", *PROPOSER)
    assert code == 0, out
    row = stored(fresh, out.strip())
    assert row["nominee_person_id"] == pid and row["nominee_kind"] == "individual"


def test_create_person_and_namesakes(fresh: Settings) -> None:
    """--create-person registers and links; a namesake added later makes the name ambiguous,
    and the refusal lists both with unit and year of birth; --person chooses."""
    code, out = run(
        "nominate", "giay_khen", "--nominee", "Hà Văn Mới", "--create-person", *PROPOSER
    )
    assert code == 0, out
    first = stored(fresh, out.strip())["nominee_person_id"]
    code, out = run("persons", "add", "Hà Văn Mới", "--unit", "CCYQD", "--birth-year", "1990")
    assert code == 0 and "trùng tên" in out
    second = int(out.strip().splitlines()[-1])
    code, out = run("nominate", "giay_khen", "--nominee", "Hà Văn Mới", *PROPOSER)
    assert code == 1
    assert f"#{first} Hà Văn Mới (Cục Cơ yếu Quân đội, chưa ghi năm sinh)" in out
    assert f"#{second} Hà Văn Mới (Cục Cơ yếu Quân đội, sinh 1990)" in out and "--person" in out
    code, out = run("persons", "find", "hà văn mới")
    assert code == 0 and f"│ {first} " in out and f"│ {second} " in out
    code, out = run("nominate", "giay_khen", "--person", str(second), *PROPOSER)
    assert code == 0 and stored(fresh, out.strip())["nominee_person_id"] == second


def test_a_collective_is_named_by_its_unit_code(fresh: Settings) -> None:
    code, out = run("nominate", "giay_khen", "--collective", "CCYQD", *PROPOSER)
    assert code == 0, out
    row = stored(fresh, out.strip())
    assert row["nominee_kind"] == "collective" and row["nominee_person_id"] is None
    code, out = run("nominate", "giay_khen", "--collective", "CCYQD", "--person", "1", *PROPOSER)
    assert code == 2 and "--person" in out


def test_persons_add_checks_its_input(fresh: Settings) -> None:
    code, out = run("persons", "add", "Ai Đó", "--unit", "KHONG")
    assert code == 3 and "KHONG" in out  # no such unit
    code, out = run("persons", "add", "Ai Đó", "--unit", "CCYQD", "--gender", "x")
    assert code == 2
    engine = make_engine(fresh.database_url)
    with engine.connect() as conn:
        assert (
            conn.execute(select(PERSONS.c.id).where(PERSONS.c.full_name == "Ai Đó")).first() is None
        )
    engine.dispose()
