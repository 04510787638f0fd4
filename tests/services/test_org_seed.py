"""Seeding the demo organisations: every bloc member has a leader address, re-seeding fills gaps."""

from __future__ import annotations

from sqlalchemy import select, update

from khenthuong.roles import roles_in
from khenthuong.runtime import Runtime
from khenthuong.services.blocs import load_blocs
from khenthuong.services.org import apply_seed, load_seed
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import UNITS
from tests.conftest import CONFIG


def test_every_bloc_member_of_the_demo_has_a_leader_address() -> None:
    """Notices of a bloc (plans, reminders) go to the member's leader: none may lack one."""
    seed = load_seed(CONFIG / "demo.yaml", roles_in(CONFIG))
    addresses = {u.code: u.leader_email for u in seed.units}
    blocs = load_blocs(CONFIG / "blocs.yaml", set(addresses))
    members = {m for bloc in blocs for m in bloc.members}
    assert members >= {"BQP", "BCA", "BTP", "TTCP", "TANDTC", "VKSNDTC", "CCYCA"}
    missing = sorted(m for m in members if not addresses[m])
    assert missing == []
    assert all(addresses[m].endswith(".example") for m in members)  # type: ignore[union-attr]


def test_reseeding_fills_a_missing_leader_address_and_keeps_a_set_one(rt: Runtime) -> None:
    """A database seeded before an address was added gets it; a changed address stays."""
    roles = roles_in(CONFIG)
    with write_tx(rt.engine) as conn:
        conn.execute(update(UNITS).where(UNITS.c.code == "BTP").values(leader_email=None))
        conn.execute(
            update(UNITS).where(UNITS.c.code == "BCA").values(leader_email="vanphong@bca.example")
        )
        counts = apply_seed(conn, load_seed(CONFIG / "demo.yaml", roles), roles)
        emails = dict(conn.execute(select(UNITS.c.code, UNITS.c.leader_email)).all())
    assert counts["units"] == 0
    assert emails["BTP"] == "botruong@btp.example"
    assert emails["BCA"] == "vanphong@bca.example"
