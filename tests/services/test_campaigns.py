"""Campaigns (phong trào thi đua) with their linked nominations, and ad-hoc awards through
the simplified procedure (Luật TĐKT 2022, Điều 85) to a signed decision."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from khenthuong.errors import Forbidden, KhenthuongError, StepRefused
from khenthuong.roles import roles_in
from khenthuong.rules.catalog import catalog_in
from khenthuong.runtime import Runtime
from khenthuong.services import campaigns, dossier, new_nominations, stepping
from khenthuong.services import proposal_import as imp
from khenthuong.services.actors import load_actor
from khenthuong.services.org import add_user
from khenthuong.settings import PROJECT_ROOT
from khenthuong.storage.campaigns import CAMPAIGNS
from khenthuong.storage.db import write_tx
from khenthuong.storage.history import AWARD_RECORDS
from khenthuong.storage.models import EVENTS, NOMINATIONS

PDF = b"%PDF-1.4\n% campaign document\n"
CONFIG = PROJECT_ROOT / "config"


def _campaign(rt: Runtime, kind: str = "theo_dot") -> int:
    with write_tx(rt.engine) as conn:
        officer = load_actor(conn, "cv.bcy")
        cid = campaigns.create_campaign_in(
            conn, launching_unit="BCY", actor=officer,
            title="Thi đua lập thành tích chào mừng Đại hội Đảng bộ Ban Cơ yếu Chính phủ",
            kind=kind, starts_on=date(2026, 3, 1), ends_on=date(2026, 9, 30),
            targets=["100% đơn vị đăng ký thi đua", "  ", "Mỗi đơn vị có một mô hình mới"],
            plan_number="12/KH-BCY",
        )  # fmt: skip
        campaigns.attach_in(
            conn, cid, doc_type="ke_hoach_phat_dong", filename="ke-hoach.pdf", content=PDF,
            actor=officer, max_bytes=10_000,
        )  # fmt: skip
    return cid


def _nominate(rt: Runtime, campaign_id: int | None, **extra: object) -> int:
    with write_tx(rt.engine) as conn:
        officer = load_actor(conn, "cb.qd")
    values: dict[str, object] = {
        "workflow": "bang_khen_bo", "proposing_unit": "CCYQD", "actor": officer,
        "nominee_person_id": 1, "commendation_type": "chuyen_de",
    }  # fmt: skip
    values.update(extra)
    return campaigns.nominate_for_campaign(rt.engine, rt.registry, campaign_id, **values)


def test_a_campaign_holds_its_plan_targets_and_linked_nominations(rt: Runtime) -> None:
    cid = _campaign(rt)
    first = _nominate(rt, cid)
    second = _nominate(rt, None, nominee_person_id=2, commendation_type="dot_xuat")
    collective = _nominate(rt, None, nominee_person_id=None, nominee_unit_code="CCYQD",
                           nominee_kind="collective")  # fmt: skip
    with write_tx(rt.engine) as conn:
        campaigns.link_in(conn, cid, [second, collective], actor=load_actor(conn, "cb.qd"))
    with rt.engine.connect() as conn:
        view = campaigns.view_campaign(conn, cid, registry=rt.registry)
        stored = conn.execute(select(CAMPAIGNS.c.targets).where(CAMPAIGNS.c.id == cid)).scalar()
        triggers = conn.execute(
            select(EVENTS.c.trigger).where(EVENTS.c.stream == f"campaign:{cid}").order_by(EVENTS.c.seq)
        ).scalars().all()  # fmt: skip
        listed = campaigns.list_campaigns(conn, ("/CP/BCY/CCYQD/",), year=2026)
        other_year = campaigns.list_campaigns(conn, None, year=2027)
        linked_of_first = campaigns.campaign_of(conn, first)
    assert view.kind_name == "Phong trào thi đua theo đợt"
    assert view.unit_code == "BCY" and view.plan_number == "12/KH-BCY"
    assert view.targets == ["100% đơn vị đăng ký thi đua", "Mỗi đơn vị có một mô hình mới"]
    assert json.loads(stored or "[]") == view.targets
    assert [d.doc_type for d in view.documents] == ["ke_hoach_phat_dong"]
    assert [n.nomination_id for n in view.nominations] == [first, second, collective]
    assert {n.commendation_type for n in view.nominations} == {"chuyen_de", "dot_xuat"}
    assert view.nominations[0].state_title == "Đơn vị lập hồ sơ đề nghị"
    assert view.nominations[0].workflow_title == "Bằng khen cấp Bộ"
    assert triggers == ["create", "attach", "link", "link"]
    assert [r["id"] for r in listed] == [cid] and listed[0]["nominations"] == 3
    assert other_year == []
    assert linked_of_first is not None and linked_of_first["id"] == cid


def test_a_refused_link_writes_nothing_and_names_each_nomination(rt: Runtime) -> None:
    cid = _campaign(rt)
    with rt.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(NOMINATIONS)).scalar_one()
    with pytest.raises(KhenthuongError, match="khen thưởng thường xuyên") as refused:
        _nominate(rt, cid, commendation_type="cong_trang")  # a merit award in a theo đợt one
    assert "theo đợt (chuyên đề) hoặc đột xuất" in str(refused.value)
    with rt.engine.connect() as conn:  # the nomination was not created either
        assert conn.execute(select(func.count()).select_from(NOMINATIONS)).scalar_one() == before
    linked = _nominate(rt, cid)
    police = _nominate_police(rt)
    with write_tx(rt.engine) as conn, pytest.raises(KhenthuongError) as twice:
        campaigns.link_in(conn, cid, [linked], actor=load_actor(conn, "cv.bcy"))
    assert f"hồ sơ #{linked} (Nguyễn Văn An) đã thuộc phong trào #{cid}" in str(twice.value)
    with write_tx(rt.engine) as conn, pytest.raises(KhenthuongError) as outside:
        campaigns.link_in(conn, cid, [police], actor=load_actor(conn, "cb.c07"))
    assert f"hồ sơ #{police}" in str(outside.value)
    assert "ngoài phạm vi phong trào" in str(outside.value)
    with write_tx(rt.engine) as conn, pytest.raises(Forbidden):
        campaigns.link_in(conn, cid, [police], actor=load_actor(conn, "cv.bcy"))
    standing = _campaign(rt, kind="thuong_xuyen")
    with write_tx(rt.engine) as conn:  # a standing campaign takes the merit awards
        merit = new_nominations.create_nomination_in(
            conn, rt.registry, workflow="giay_khen", proposing_unit="CCYQD",
            actor=load_actor(conn, "cb.qd"), nominee_person_id=2,
        )  # fmt: skip
        campaigns.link_in(conn, standing, [merit], actor=load_actor(conn, "cb.qd"))


def _nominate_police(rt: Runtime) -> int:
    """A nomination of a Bộ Công an unit: outside Ban Cơ yếu's campaigns."""
    with write_tx(rt.engine) as conn:
        add_user(conn, "cb.c07", "Cán bộ C07", "cb.c07@bca.example", "C07",
                 [("unit_officer", "C07")], roles_in(CONFIG))  # fmt: skip
    with write_tx(rt.engine) as conn:
        return new_nominations.create_nomination_in(
            conn, rt.registry, workflow="giay_khen", proposing_unit="C07",
            actor=load_actor(conn, "cb.c07"), nominee_person_id=4, commendation_type="chuyen_de",
        )  # fmt: skip


def test_campaign_records_are_checked(rt: Runtime) -> None:
    with write_tx(rt.engine) as conn:
        officer = load_actor(conn, "cv.bcy")
        base = {"launching_unit": "BCY", "actor": officer, "title": "Phong trào"}
        with pytest.raises(KhenthuongError, match="cần có ngày kết thúc"):
            campaigns.create_campaign_in(conn, **base, kind="chuyên đề", starts_on=date(2026, 1, 1))
        with pytest.raises(KhenthuongError, match="trước ngày bắt đầu"):
            campaigns.create_campaign_in(
                conn, **base, kind="theo_dot", starts_on=date(2026, 5, 1), ends_on=date(2026, 4, 1)
            )
        with pytest.raises(KhenthuongError, match="Loại phong trào 'hàng năm'"):
            campaigns.create_campaign_in(conn, **base, kind="hàng năm", starts_on=date(2026, 1, 1))
        with pytest.raises(Forbidden):
            campaigns.create_campaign_in(
                conn, launching_unit="BCY", actor=load_actor(conn, "cb.qd"), title="X",
                kind="thuong_xuyen", starts_on=date(2026, 1, 1),
            )  # fmt: skip
        standing = campaigns.create_campaign_in(
            conn, **base, kind="Thường xuyên", starts_on=date(2026, 1, 1)
        )
        with pytest.raises(KhenthuongError, match="không dùng cho phong trào"):
            campaigns.attach_in(
                conn, standing, doc_type="to_trinh", filename="x.pdf", content=PDF,
                actor=officer, max_bytes=10_000,
            )  # fmt: skip
    with rt.engine.connect() as conn:
        assert campaigns.view_campaign(conn, standing).ends_on is None


def _officers(rt: Runtime, *names: str) -> list:  # type: ignore[type-arg]
    with rt.engine.connect() as conn:
        return [load_actor(conn, n) for n in names]


def test_an_ad_hoc_giay_khen_goes_through_the_simplified_path_to_its_decision(rt: Runtime) -> None:
    cid = _campaign(rt)
    officer, head = _officers(rt, "cb.qd", "tt.qd")
    nid = campaigns.nominate_for_campaign(
        rt.engine, rt.registry, cid, workflow="giay_khen_dot_xuat", proposing_unit="CCYQD",
        actor=officer, nominee_person_id=2, commendation_type="dot_xuat",
    )  # fmt: skip
    with pytest.raises(StepRefused) as refused:
        stepping.advance(rt.engine, rt.registry, nid, "submit", officer)
    assert refused.value.refusals[0].code == "simplified_procedure"
    assert refused.value.refusals[0].details["missing"] == ["to_trinh", "tom_tat_thanh_tich"]
    with write_tx(rt.engine) as conn:
        for doc_type in ("to_trinh", "tom_tat_thanh_tich"):
            dossier.attach(
                conn, nid, doc_type=doc_type, filename=f"{doc_type}.pdf", content=PDF,
                actor=officer, max_bytes=10_000,
            )  # fmt: skip
    step = stepping.advance(rt.engine, rt.registry, nid, "submit", officer)
    assert step.to_state == "head_decision"  # no council: straight to the head
    done = stepping.advance(
        rt.engine, rt.registry, nid, "decide", head, {"decision_number": "31/QĐ-CCYQD"}
    )
    assert done.to_state == "decided"
    with rt.engine.connect() as conn:
        award = conn.execute(
            select(AWARD_RECORDS).where(AWARD_RECORDS.c.nomination_id == nid)
        ).mappings().one()  # fmt: skip
        steps = conn.execute(
            select(EVENTS.c.trigger).where(EVENTS.c.nomination_id == nid).order_by(EVENTS.c.seq)
        ).scalars().all()  # fmt: skip
    assert award["award_code"] == "GIAY_KHEN" and award["commendation_type"] == "dot_xuat"
    assert award["unit_path"] == "/CP/BCY/CCYQD/" and award["female"] is True
    assert steps == ["create", "submit", "decide"]


def test_the_simplified_path_refuses_a_merit_nomination(rt: Runtime) -> None:
    (officer,) = _officers(rt, "cb.qd")
    nid = new_nominations.create_nomination(
        rt.engine, rt.registry, workflow="giay_khen_dot_xuat", proposing_unit="CCYQD",
        actor=officer, nominee_person_id=1,
    )  # fmt: skip
    with pytest.raises(StepRefused) as refused:
        stepping.advance(rt.engine, rt.registry, nid, "submit", officer)
    text = refused.value.refusals[0].message_vi
    assert "Thủ tục đơn giản chỉ dành cho khen thưởng đột xuất" in text
    assert "thường xuyên" in text


def test_an_ad_hoc_bang_khen_bo_is_checked_by_the_ministry_and_signed_without_a_council(
    rt: Runtime,
) -> None:
    officer, head, ministry, minister = _officers(rt, "cb.qd", "tt.qd", "cv.bcy", "tb.bcy")
    nid = new_nominations.create_nomination(
        rt.engine, rt.registry, workflow="bang_khen_bo_dot_xuat", proposing_unit="CCYQD",
        actor=officer, nominee_unit_code="CCYQD", nominee_kind="collective",
        commendation_type="dot_xuat",
    )  # fmt: skip
    with write_tx(rt.engine) as conn:
        for doc_type in ("to_trinh", "tom_tat_thanh_tich"):
            dossier.attach(
                conn, nid, doc_type=doc_type, filename=f"{doc_type}.pdf", content=PDF,
                actor=officer, max_bytes=10_000,
            )  # fmt: skip
    stepping.advance(rt.engine, rt.registry, nid, "submit", officer)
    stepping.advance(rt.engine, rt.registry, nid, "forward", head)
    stepping.advance(rt.engine, rt.registry, nid, "check", ministry)
    done = stepping.advance(
        rt.engine, rt.registry, nid, "decide", minister, {"decision_number": "77/QĐ-BCY"}
    )
    assert done.to_state == "decided"
    with rt.engine.connect() as conn:
        award = conn.execute(
            select(AWARD_RECORDS).where(AWARD_RECORDS.c.nomination_id == nid)
        ).mappings().one()  # fmt: skip
    assert award["award_code"] == "BK_BO" and award["person_id"] is None
    assert award["unit_path"] == "/CP/BCY/CCYQD/"


def test_an_imported_ad_hoc_list_takes_the_simplified_path_and_joins_the_campaign(
    rt: Runtime, tmp_path: Path
) -> None:
    cid = _campaign(rt)
    listed = tmp_path / "dot-xuat.csv"
    with listed.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["STT", "Họ và tên / Tên tập thể", "Đối tượng", "Hình thức khen thưởng"])
        writer.writerow(["1", "Nguyễn Văn An", "Cá nhân", "GIAY_KHEN"])
        writer.writerow(["2", "Cục Cơ yếu Quân đội", "Tập thể", "BK_BO"])
    (officer,) = _officers(rt, "cb.qd")
    with write_tx(rt.engine) as conn:
        planned = imp.check_file(conn, catalog_in(CONFIG), listed, proposing_unit="CCYQD")
        made = imp.create_from(
            conn, rt.registry, planned, source=listed, proposing_unit="CCYQD", actor=officer,
            title="Khen thưởng đột xuất", year=2026, commendation_type="dot_xuat",
            receiving_unit=None, max_bytes=10_000, campaign_id=cid,
        )  # fmt: skip
    with rt.engine.connect() as conn:
        workflows = conn.execute(
            select(NOMINATIONS.c.workflow)
            .where(NOMINATIONS.c.id.in_(made.nomination_ids))
            .order_by(NOMINATIONS.c.id)
        ).scalars().all()  # fmt: skip
        linked = campaigns.view_campaign(conn, cid).nominations
    assert workflows == ["giay_khen_dot_xuat", "bang_khen_bo_dot_xuat"]
    assert [n.nomination_id for n in linked] == made.nomination_ids
