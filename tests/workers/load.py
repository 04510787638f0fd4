"""A reminder backlog for load tests and bench/workers.py: many units, each with its own
council secretary and nominations waiting for its council, due now (one reminder per
nomination, one digest per unit). Bulk Core inserts, no ORM."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from khenthuong.runtime import Runtime
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import NOMINATIONS, UNITS, USER_ROLES, USERS

PARENT = "BCY"


def load_email(unit: int) -> str:
    """The council secretary of load unit `unit`."""
    return f"tk.tai{unit}@tai.example"


def seed_due_load(rt: Runtime, *, units: int, per_unit: int) -> int:
    """`units` units under Ban Cơ yếu, each with one council secretary, and `per_unit`
    Giấy khen nominations in each unit waiting for the unit council, due within the hour
    (a `due` or `before` reminder to that secretary alone). Returns units × per_unit."""
    now = datetime.now(UTC)
    version = max(
        w.definition.version for w in rt.registry.latest() if w.definition.name == "giay_khen"
    )
    with write_tx(rt.engine) as conn:
        parent = conn.execute(select(UNITS.c.id, UNITS.c.path).where(UNITS.c.code == PARENT)).one()
        codes = [f"TAI{i:05d}" for i in range(units)]
        conn.execute(
            insert(UNITS),
            [
                {
                    "code": code,
                    "name": f"Đơn vị thử tải số {i}",
                    "level": "unit",
                    "parent_id": parent.id,
                    "path": f"{parent.path}{code}/",
                    "leader_email": f"lanhdao.tai{i}@tai.example",
                }
                for i, code in enumerate(codes)
            ],
        )
        unit_ids = dict(
            conn.execute(select(UNITS.c.code, UNITS.c.id).where(UNITS.c.code.in_(codes))).all()
        )
        conn.execute(
            insert(USERS),
            [
                {
                    "username": f"tk.tai{i}",
                    "full_name": f"Thư ký Hội đồng đơn vị {i}",
                    "email": load_email(i),
                    "unit_id": unit_ids[code],
                    "active": True,
                    "session_epoch": 0,
                }
                for i, code in enumerate(codes)
            ],
        )
        user_ids = dict(
            conn.execute(
                select(USERS.c.username, USERS.c.id).where(USERS.c.username.like("tk.tai%"))
            ).all()
        )
        conn.execute(
            insert(USER_ROLES),
            [
                {
                    "user_id": user_ids[f"tk.tai{i}"],
                    "role": "council_secretary",
                    "scope_unit_id": unit_ids[code],
                }
                for i, code in enumerate(codes)
            ],
        )
        rows = [
            {
                "workflow": "giay_khen",
                "workflow_version": version,
                "state": "unit_council",
                "closed": False,
                "version": 2,
                "nominee_name": f"Nguyễn Văn Tải {i}-{n}",
                "search_key": f"nguyen van tai {i}-{n}",
                "proposing_unit_id": unit_ids[code],
                "unit_path": f"{parent.path}{code}/",
                "year": now.year,
                "created_by": "cb.qd",
                "created_at": now,
                "state_entered_at": now,
                "due_at": now + timedelta(hours=1),
                "head_hash": "0" * 64,
                "entered_by": "cb.qd",
                "commendation_type": "cong_trang",
                "quota_taken": False,
            }
            for i, code in enumerate(codes)
            for n in range(per_unit)
        ]
        for start in range(0, len(rows), 5_000):
            conn.execute(insert(NOMINATIONS), rows[start : start + 5_000])
    return units * per_unit
