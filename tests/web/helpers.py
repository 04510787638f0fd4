"""Driving a nomination through the API the way an officer's client would."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from khenthuong.cli.walkthrough import _seed_cstdcs
from khenthuong.runtime import Runtime
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import EVENTS

Headers = Callable[[str], dict[str, str]]
DOCUMENTS = ["to_trinh", "bao_cao_thanh_tich", "bien_ban_binh_xet"]


def person_id(c: TestClient, headers: dict[str, str], name: str) -> int:
    found = c.get("/api/persons", params={"q": name}, headers=headers).json()["items"]
    assert found, name
    return int(found[0]["id"])


def propose(c: TestClient, headers: dict[str, str], person: int, **extra: Any) -> dict[str, Any]:
    """cb.qd proposes a Bằng khen cấp Bộ for a person of CCYQD."""
    r = c.post(
        "/api/nominations",
        json={"workflow": "bang_khen_bo", "proposing_unit": "CCYQD", "nominee_person_id": person}
        | extra,
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def attach_dossier(c: TestClient, headers: dict[str, str], nid: int) -> None:
    for doc in DOCUMENTS:
        r = c.post(
            f"/api/nominations/{nid}/documents",
            data={"doc_type": doc},
            files={"file": (f"{doc}.pdf", b"%PDF-1.4 " + doc.encode(), "application/pdf")},
            headers=headers,
        )
        assert r.status_code == 201, r.text


def step(c: TestClient, headers: dict[str, str], nid: int, trigger: str, **payload: str) -> Any:
    r = c.post(
        f"/api/nominations/{nid}/advance",
        json={"trigger": trigger, "payload": payload},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    return r.json()


def to_council(rt: Runtime, c: TestClient, token: Headers, name: str) -> int:
    """A Bằng khen cấp Bộ waiting for the ministry council; returns its id."""
    officer = token("cb.qd")
    pid = person_id(c, officer, name)
    year = date.today().year
    _seed_cstdcs(rt, pid, [year - 1, year])
    nid = int(propose(c, officer, pid)["id"])
    attach_dossier(c, officer, nid)
    step(c, officer, nid, "submit")
    step(c, token("tt.qd"), nid, "forward")
    step(c, token("cv.bcy"), nid, "appraise")
    return nid


def council_vote(c: TestClient, secretary: dict[str, str], nids: list[int], agree: int) -> Any:
    """Open a 7-member BCY session, put `nids` on it, record tallies, close it."""
    r = c.post(
        "/api/councils/sessions",
        json={
            "unit": "BCY",
            "title": "Phiên họp xét khen thưởng",
            "held_on": date.today().isoformat(),
            "members": [{"full_name": f"Ủy viên {i}"} for i in range(1, 8)],
        },
        headers=secretary,
    )
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    r = c.post(f"/api/councils/sessions/{sid}/items", json={"nomination_ids": nids},
               headers=secretary)  # fmt: skip
    assert r.status_code == 200, r.text
    tallies = [
        {"nomination_id": n, "agree": agree, "disagree": 7 - agree, "abstain": 0} for n in nids
    ]
    r = c.put(f"/api/councils/sessions/{sid}/tallies", json={"tallies": tallies},
              headers=secretary)  # fmt: skip
    assert r.status_code == 200, r.text
    r = c.post(f"/api/councils/sessions/{sid}/close", headers=secretary)
    assert r.status_code == 200, r.text
    return r.json()


def add_visit(rt: Runtime, inspector: str, inspected: str, starts: date, ends: date) -> int:
    """A current cross-inspection plan with one visit (what `inspections plan` stores)."""
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from khenthuong.storage.blocs import BLOCS, INSPECTION_PLANS, INSPECTION_VISITS
    from khenthuong.storage.db import inserted_id
    from khenthuong.storage.models import UNITS

    with write_tx(rt.engine) as conn:
        unit = dict(conn.execute(select(UNITS.c.code, UNITS.c.id)).all())
        bloc = conn.execute(select(BLOCS.c.id).where(BLOCS.c.code == "KCY4")).scalar_one()
        plan = inserted_id(
            conn.execute(
                insert(INSPECTION_PLANS).values(
                    bloc_id=bloc, year=starts.year, seed=1, period_start=starts,
                    period_end=ends, generated_by="test", generated_at=datetime.now(UTC),
                    current=True,
                )
            )
        )  # fmt: skip
        return inserted_id(
            conn.execute(
                insert(INSPECTION_VISITS).values(
                    plan_id=plan, inspector_unit_id=unit[inspector],
                    inspected_unit_id=unit[inspected], starts_on=starts, ends_on=ends,
                    report_due_on=ends,
                )
            )
        )  # fmt: skip


def denied(rt: Runtime) -> list[tuple[str, str, str]]:
    """(actor, path, reason) of every refused access in the access log, oldest first."""
    with rt.engine.connect() as conn:
        return [
            (r.actor, _payload(r.payload)["path"], r.comment or "")
            for r in conn.execute(
                select(EVENTS.c.actor, EVENTS.c.payload, EVENTS.c.comment)
                .where(EVENTS.c.stream == "access")
                .order_by(EVENTS.c.seq)
            )
        ]


def _payload(value: Any) -> dict[str, Any]:
    return dict(json.loads(value) if isinstance(value, str) else value)
