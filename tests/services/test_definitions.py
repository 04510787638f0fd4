"""Workflow versions: pinned at creation, changes need a new version, migration is audited."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from khenthuong.errors import InvalidDefinition
from khenthuong.runtime import open_runtime
from khenthuong.services import new_nominations, stepping
from khenthuong.services import nominations as svc
from khenthuong.services.actors import load_actor
from khenthuong.services.definitions import migrate_nominations
from khenthuong.services.org import apply_seed, load_seed
from khenthuong.settings import Settings
from khenthuong.storage.db import make_engine, write_tx
from tests.conftest import CONFIG, WORKFLOWS

SHIPPED = (WORKFLOWS / "giay_khen.yaml").read_text(encoding="utf-8")
V1 = SHIPPED.replace("\nversion: 2\n", "\nversion: 1\n")
V2 = (
    V1.replace("\nversion: 1\n", "\nversion: 2\n")
    .replace("  unit_council:\n", "  unit_council:\n", 1)
    .replace(
        '    deadline: {working_days: 10, basis: "NĐ 39/2012',
        '    deadline: {working_days: 7, basis: "NĐ 39/2012',
    )
)


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    folder = tmp_path / "workflows"
    folder.mkdir()
    (folder / "giay_khen.yaml").write_text(V1, encoding="utf-8")
    return folder


def runtime_for(settings: Settings, folder: Path):  # type: ignore[no-untyped-def]
    custom = settings.model_copy(update={"workflows_dir": folder})
    return open_runtime(custom, engine=make_engine(settings.database_url))


def test_changed_file_under_recorded_version_is_refused(settings: Settings, flows: Path) -> None:
    """Editing a registered version in place is refused, naming the file and the fix."""
    runtime_for(settings, flows)
    (flows / "giay_khen.yaml").write_text(V2.replace("version: 2", "version: 1"), encoding="utf-8")
    with pytest.raises(InvalidDefinition) as info:
        runtime_for(settings, flows)
    message = str(info.value)
    assert "giay_khen.yaml:1:" in message
    assert "version 2" in message


def test_new_version_coexists_and_running_nominations_stay_pinned(
    settings: Settings, flows: Path
) -> None:
    """v2 is used for new nominations while a v1 nomination keeps v1, even with v1's file gone."""
    rt = runtime_for(settings, flows)
    roles = rt.roles
    with write_tx(rt.engine) as conn:
        apply_seed(conn, load_seed(CONFIG / "demo.yaml", roles), roles)
        officer = load_actor(conn, "cb.qd")
    old = new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow="giay_khen",
        proposing_unit="CCYQD",
        actor=officer,
        nominee_name="A",
        create_person=True,
    )
    (flows / "giay_khen.yaml").unlink()
    (flows / "giay_khen_v2.yaml").write_text(V2, encoding="utf-8")
    rt = runtime_for(settings, flows)
    new = new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow="giay_khen",
        proposing_unit="CCYQD",
        actor=officer,
        nominee_name="B",
        create_person=True,
    )
    with rt.engine.connect() as conn:
        assert svc.get_row(conn, old)["workflow_version"] == 1
        assert svc.get_row(conn, new)["workflow_version"] == 2
    assert (
        stepping.advance(rt.engine, rt.registry, old, "submit", officer).to_state
    ) == "unit_council"
    assert rt.registry.get("giay_khen", 1).source.startswith("database")


def test_migrate_moves_open_nominations_with_an_audited_event(
    settings: Settings, flows: Path
) -> None:
    """Migration moves open v1 nominations to v2, leaves closed ones, and records an event."""
    rt = runtime_for(settings, flows)
    with write_tx(rt.engine) as conn:
        apply_seed(conn, load_seed(CONFIG / "demo.yaml", rt.roles), rt.roles)
        officer = load_actor(conn, "cb.qd")
        admin = load_actor(conn, "admin")
    open_one = new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow="giay_khen",
        proposing_unit="CCYQD",
        actor=officer,
        nominee_name="A",
        create_person=True,
    )
    closed = new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow="giay_khen",
        proposing_unit="CCYQD",
        actor=officer,
        nominee_name="B",
        create_person=True,
    )
    stepping.advance(rt.engine, rt.registry, closed, "withdraw", officer, {"reason": "Rút"})
    shutil.copy(flows / "giay_khen.yaml", flows.parent / "old.yaml")
    (flows / "giay_khen_v2.yaml").write_text(V2, encoding="utf-8")
    rt = runtime_for(settings, flows)
    with write_tx(rt.engine) as conn:
        result = migrate_nominations(
            conn, rt.registry, "giay_khen", 1, 2, {}, admin, comment="NĐ mới"
        )
    assert result.moved == 1
    with rt.engine.connect() as conn:
        assert svc.get_row(conn, open_one)["workflow_version"] == 2
        assert svc.get_row(conn, open_one)["version"] == 2
        assert svc.get_row(conn, closed)["workflow_version"] == 1
        from khenthuong.audit.query import history
        from khenthuong.audit.verify import verify_all

        assert history(conn, open_one)[-1]["trigger"] == "migrate_version"
        assert verify_all(conn).ok


def test_migrate_refuses_unknown_states_in_the_map(settings: Settings, flows: Path) -> None:
    """A --map naming a state that does not exist is refused before anything moves."""
    from khenthuong.errors import KhenthuongError

    (flows / "giay_khen_v2.yaml").write_text(V2, encoding="utf-8")
    rt = runtime_for(settings, flows)
    with write_tx(rt.engine) as conn:
        apply_seed(conn, load_seed(CONFIG / "demo.yaml", rt.roles), rt.roles)
        admin = load_actor(conn, "admin")
        with pytest.raises(KhenthuongError, match="nowhere"):
            migrate_nominations(conn, rt.registry, "giay_khen", 1, 2, {"draft": "nowhere"}, admin)
