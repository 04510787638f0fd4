"""A refused step names the roles by their titles and the person by name, never by code, in
Vietnamese and (apart) in English."""

from __future__ import annotations

import pytest

from khenthuong.errors import StepRefused
from khenthuong.runtime import Runtime
from khenthuong.services import new_nominations, stepping
from khenthuong.services.actors import Actor, load_actor


def _actor(rt: Runtime, username: str) -> Actor:
    with rt.engine.connect() as conn:
        return load_actor(conn, username)


def test_a_step_refused_for_its_role_names_the_role_and_the_person(rt: Runtime) -> None:
    nid = new_nominations.create_nomination(
        rt.engine, rt.registry, workflow="giay_khen", proposing_unit="CCYQD",
        actor=_actor(rt, "cb.qd"), nominee_name="Nguyễn Văn An", create_person=True, year=2026,
    )  # fmt: skip
    head = _actor(rt, "tt.qd")
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, nid, "submit", head)
    (refusal,) = info.value.refusals
    assert refusal.code == "role" and refusal.details == {"roles": ["unit_officer"]}
    assert refusal.message_vi == (
        f"{head.full_name} không có vai trò Cán bộ thi đua – khen thưởng đơn vị "
        "đối với đơn vị của hồ sơ"
    )
    assert refusal.message_en.startswith(
        f"{head.full_name} does not hold the role Unit emulation and commendation officer"
    )
    assert head.full_name and "tt.qd" not in str(info.value) + str(info.value.en)


def test_proposing_outside_ones_unit_names_the_role_and_the_unit(rt: Runtime) -> None:
    with pytest.raises(StepRefused) as info:
        new_nominations.create_nomination(
            rt.engine, rt.registry, workflow="giay_khen", proposing_unit="CCYQD",
            actor=_actor(rt, "cb.pccc"), nominee_name="Nguyễn Văn An", create_person=True,
            year=2026,
        )  # fmt: skip
    (refusal,) = info.value.refusals
    assert refusal.message_vi == (
        "Chỉ Cán bộ thi đua – khen thưởng đơn vị của Cục Cơ yếu Quân đội được lập đề nghị"
    )
    assert "Unit emulation and commendation officer of Cục Cơ yếu Quân đội" in refusal.message_en


def test_an_unknown_field_names_the_step_by_its_title(rt: Runtime) -> None:
    nid = new_nominations.create_nomination(
        rt.engine, rt.registry, workflow="giay_khen", proposing_unit="CCYQD",
        actor=_actor(rt, "cb.qd"), nominee_name="Nguyễn Văn Bình", create_person=True, year=2026,
    )  # fmt: skip
    with pytest.raises(StepRefused) as info:
        stepping.advance(
            rt.engine, rt.registry, nid, "submit", _actor(rt, "cb.qd"), {"colour": "do"}
        )
    (refusal,) = info.value.refusals
    assert refusal.message_vi == "Trường 'colour' không dùng cho bước 'Trình Hội đồng'"
    assert "submit" not in refusal.message_en and "reason" in refusal.details["accepted"]  # type: ignore[operator]
