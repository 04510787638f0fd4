"""The unit's year in one pass: registrations and ratings feed the new workflows; one council
session votes each title's list once; the head signs one decision per title; and the
refusals: an unregistered nominee, a missing rating, a collective with a disciplined member,
a title over its quota."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import select

from khenthuong.cli.common import refusal_line as cli_line
from khenthuong.errors import StepRefused
from khenthuong.localtime import LOCAL_TZ
from khenthuong.rules.catalog import Catalog, load_catalog
from khenthuong.runtime import Runtime
from khenthuong.services import guards, year_review
from khenthuong.services.documents import DocumentRequest, render_document
from khenthuong.services.registrations import EntryIn
from khenthuong.services.year_review import ProposedEntry, Tally
from khenthuong.storage.db import write_tx
from khenthuong.storage.history import AWARD_RECORDS
from khenthuong.storage.models import NOMINATIONS, UNITS
from khenthuong.storage.registrations import COUNCIL_TITLE_VOTES
from khenthuong.web.ui_common import refusal_line as page_line
from tests.conftest import CONFIG
from tests.unit_year.helpers import (
    catalog,
    council_pass,
    discipline,
    initiative,
    people,
    propose_and_submit,
    register,
    who,
)

TODAY = datetime.now(UTC).astimezone(LOCAL_TZ).date()


def override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Catalog:
    """The shipped catalog with Ban Cơ yếu's own settings (guards read it)."""
    source = (CONFIG / "awards.yaml").read_text(encoding="utf-8")
    path = tmp_path / "awards.yaml"
    path.write_text(
        source.replace("\norganisations:\n", "\norganisations:\n" + text.lstrip("\n"), 1),
        encoding="utf-8",
    )
    loaded = load_catalog(path)
    monkeypatch.setattr(guards, "_catalog", lambda: loaded)
    return loaded


def unit_id(rt: Runtime, code: str) -> int:
    with rt.engine.connect() as conn:
        return int(conn.execute(select(UNITS.c.id).where(UNITS.c.code == code)).scalar_one())


def states(rt: Runtime, ids: list[int]) -> dict[int, str]:
    with rt.engine.connect() as conn:
        return {
            r.id: r.state
            for r in conn.execute(select(NOMINATIONS.c.id, NOMINATIONS.c.state).where(
                NOMINATIONS.c.id.in_(ids)))
        }  # fmt: skip


def test_one_pass_decides_ldtt_cstdcs_and_ttldtt_one_decision_per_title(rt: Runtime) -> None:
    """Five rated people register; the one rated 'hoàn thành' is refused at submission with
    its reason while the others go on; one session votes three lists (one record per
    title); three decisions are signed, the collective's last, judged on its members' LĐTT."""
    ids = people(rt, {"Lò Văn Một": "htxs", "Lò Văn Hai": "htt", "Lò Văn Ba": "htt",
                      "Lò Văn Bốn": "htt", "Lò Văn Năm": "ht"})  # fmt: skip
    initiative(rt, ids["Lò Văn Một"])
    register(
        rt,
        [EntryIn("LDTT", person_id=pid) for pid in ids.values()]
        + [EntryIn("CSTDCS", person_id=ids["Lò Văn Một"]), EntryIn("TTLDTT", unit_code="CCYQD")],
    )
    batch_id, step = propose_and_submit(rt)
    assert len(step.done) == 6
    [(refused_id, reasons)] = step.refused.items()
    assert "hoàn thành tốt nhiệm vụ trở lên" in reasons[0].message_vi
    minutes = council_pass(
        rt, batch_id, {"LDTT": Tally(7), "CSTDCS": Tally(6, 1), "TTLDTT": Tally(7)}
    )
    assert "Kết quả bỏ phiếu theo danh hiệu:" in minutes
    assert "Lao động tiên tiến: 4 cá nhân trong danh sách; đồng ý 7" in minutes
    assert "Chiến sĩ thi đua cơ sở: 1 cá nhân trong danh sách; đồng ý 6, không đồng ý 1" in minutes
    assert "Tập thể lao động tiên tiến: 1 tập thể trong danh sách; đồng ý 7" in minutes
    with rt.engine.connect() as conn:
        votes = conn.execute(select(COUNCIL_TITLE_VOTES.c.award_code)).scalars().all()
    assert sorted(votes) == ["CSTDCS", "LDTT", "TTLDTT"]
    with write_tx(rt.engine) as conn:
        signed = year_review.decide_titles_in(
            conn, rt.registry, catalog(), batch_id,
            {"LDTT": "41/QĐ-CCYQD", "CSTDCS": "42/QĐ-CCYQD", "TTLDTT": "43/QĐ-CCYQD"},
            signer="Trần Văn Hùng", authority="CCYQD", decided_on=TODAY, actor=who(rt, "tt.qd"),
        )  # fmt: skip
    assert list(signed) == ["CSTDCS", "LDTT", "TTLDTT"]
    assert [len(signed[c]) for c in signed] == [1, 4, 1]
    assert signed["LDTT"][0].amount_vnd == 710_000  # 0.3 × 2,340,000 rounded up
    assert signed["TTLDTT"][0].amount_vnd == 1_880_000  # 0.8 × 2,340,000 rounded up
    with rt.engine.connect() as conn:
        numbers = sorted(
            (r.award_code, r.decision_number)
            for r in conn.execute(select(AWARD_RECORDS.c.award_code, AWARD_RECORDS.c.decision_number))
        )  # fmt: skip
    assert numbers.count(("LDTT", "41/QĐ-CCYQD")) == 4
    assert ("TTLDTT", "43/QĐ-CCYQD") in numbers
    assert states(rt, [refused_id]) == {refused_id: "draft"}
    # Each title's decision recognises it (công nhận danh hiệu), never "tặng" it.
    for number, name, counts in (("41/QĐ-CCYQD", "Lao động tiên tiến", "4 cá nhân"),
                                 ("42/QĐ-CCYQD", "Chiến sĩ thi đua cơ sở", "1 cá nhân"),
                                 ("43/QĐ-CCYQD", "Tập thể lao động tiên tiến", "1 tập thể")):  # fmt: skip
        text = decision_text(rt, number)
        assert f"Về việc công nhận danh hiệu {name} năm 2026" in text
        assert f"Điều 1. Công nhận danh hiệu {name} năm 2026 cho {counts}" in text
        assert f"ĐƯỢC CÔNG NHẬN DANH HIỆU {name.upper()} NĂM 2026" in text
        assert "Về việc tặng" not in text and "Tặng " not in text


def decision_text(rt: Runtime, number: str) -> str:
    """The text of a decision's DOCX as rendered for its signer's unit (paragraphs, cells)."""
    request = DocumentRequest("quyet-dinh", f"{number}:{TODAY.year}", "docx", who(rt, "tt.qd"))
    doc = Document(io.BytesIO(render_document(rt.engine, catalog(), CONFIG, request).content))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_unregistered_nominee_is_refused_where_the_organisation_requires_it(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With Ban Cơ yếu requiring registration, a rated person proposed for LĐTT without
    registering is refused, the refusal naming the missing registration; once registered
    the same nomination goes on."""
    override(tmp_path, monkeypatch, """
  BCY:
    awards:
      LDTT:
        - effective_from: 2024-01-01
          source: "Quy chế TĐKT Ban Cơ yếu (ví dụ)"
          registration: {required: true, covered_by: [CSTDCS]}
""")  # fmt: skip
    ids = people(rt, {"Đỗ Thị Sáu": "htt"})
    _, step = propose_and_submit(rt, [ProposedEntry("LDTT", person_id=ids["Đỗ Thị Sáu"])])
    [(nid, reasons)] = step.refused.items()
    assert [r.code for r in reasons] == ["registered"]
    message = reasons[0].message_vi
    assert "thiếu đăng ký thi đua của Đỗ Thị Sáu cho Lao động tiên tiến năm 2026" in message
    assert "hoặc Chiến sĩ thi đua cơ sở" in message
    register(rt, [EntryIn("CSTDCS", person_id=ids["Đỗ Thị Sáu"])])
    from khenthuong.services import stepping

    stepping.advance(rt.engine, rt.registry, nid, "submit", who(rt, "cb.qd"))
    assert states(rt, [nid]) == {nid: "unit_council"}


def test_nd91_rules_require_registration_for_a_2019_title(rt: Runtime) -> None:
    """Under the 2003 law (rule set nd91) registration is required: a 2019 LĐTT submitted
    in 2019 without it is refused."""
    from khenthuong.services import new_nominations, stepping

    ids = people(rt, {"Vi Văn Bảy": "htt"}, year=2019)
    with write_tx(rt.engine) as conn:
        nid = new_nominations.create_nomination_in(
            conn, rt.registry, workflow="lao_dong_tien_tien", proposing_unit="CCYQD",
            actor=who(rt, "cb.qd"), nominee_person_id=ids["Vi Văn Bảy"], year=2019,
            now=datetime(2019, 11, 1, 3, tzinfo=UTC),
        )  # fmt: skip
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, nid, "submit", who(rt, "cb.qd"),
                    now=datetime(2019, 11, 4, 3, tzinfo=UTC))  # fmt: skip
    assert "registered" in [r.code for r in info.value.refusals]
    refusal = next(r for r in info.value.refusals if r.code == "registered")
    assert "Điều 10(1)(b)" in refusal.message_vi
    # The rule names no interface; each adds its own way (the award by name, code apart).
    assert "khenthuong" not in refusal.message_vi and "trang" not in refusal.message_vi
    assert refusal.message_en == "Vi Văn Bảy has no registration for Advanced Worker in 2019"
    assert refusal.details == {"award": "LDTT", "year": 2019, "unregistered": True}
    assert cli_line(refusal).endswith("(đăng ký: khenthuong registrations add)")
    assert page_line(refusal, "en").endswith("under Emulation registration)")


def test_missing_rating_is_refused_naming_the_year(rt: Runtime) -> None:
    """A person with no rating for the year cannot be proposed for Chiến sĩ tiên tiến."""
    ids = people(rt, {"Hà Văn Tám": None})
    _, step = propose_and_submit(rt, [ProposedEntry("CST", person_id=ids["Hà Văn Tám"])])
    [(_, reasons)] = step.refused.items()
    assert [r.code for r in reasons] == ["eligible"]
    assert reasons[0].message_vi.startswith("Chưa có xếp loại năm 2026")
    # Where to enter ratings is each interface's to say (a page is not a CLI): not the rule's.
    assert reasons[0].details == {"missing_rating": 2026}
    assert "khenthuong" not in reasons[0].message_vi + reasons[0].message_en


def test_collective_with_a_member_disciplined_at_warning_is_refused(rt: Runtime) -> None:
    """TTLĐTT is judged when the head signs: a member disciplined at cảnh cáo in the year
    refuses it, naming the discipline; a khiển trách alone would not."""
    ids = people(rt, {f"Tòng Văn {n}": "htt" for n in ("A", "B", "C", "D")})
    discipline(rt, ids["Tòng Văn D"], "canh_cao")
    entries = [ProposedEntry("LDTT", person_id=p) for n, p in ids.items() if n != "Tòng Văn D"]
    batch_id, step = propose_and_submit(rt, [*entries, ProposedEntry("TTLDTT", unit_code="CCYQD")])
    assert not step.refused
    council_pass(rt, batch_id, {"LDTT": Tally(5), "TTLDTT": Tally(5)}, members=5)
    with pytest.raises(StepRefused) as info, write_tx(rt.engine) as conn:
        year_review.decide_titles_in(
            conn, rt.registry, catalog(), batch_id,
            {"LDTT": "51/QĐ-CCYQD", "TTLDTT": "52/QĐ-CCYQD"},
            signer="Trần Văn Hùng", authority="CCYQD", decided_on=TODAY, actor=who(rt, "tt.qd"),
        )  # fmt: skip
    message = info.value.refusals[0].message_vi
    assert "1 cá nhân bị kỷ luật từ mức cảnh cáo trở lên trong năm" in message


def test_cstdcs_over_the_organisation_quota_is_refused_at_the_council(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ban Cơ yếu caps CSTĐCS at 15% of the LĐTT of the unit: 7 LĐTT passed in the same
    session give one place, so the second CSTĐCS refuses the closing; voted down by its own
    tally, the session closes with one CSTĐCS."""
    override(tmp_path, monkeypatch, """
  BCY:
    awards:
      CSTDCS:
        - effective_from: 2024-01-01
          source: "Quy chế TĐKT Ban Cơ yếu (ví dụ)"
          quota: {share: 0.15, of: LDTT}
""")  # fmt: skip
    names = [f"Quàng Văn {i}" for i in range(1, 8)]
    ids = people(rt, dict.fromkeys(names, "htxs"))
    entries = [ProposedEntry("LDTT", person_id=p) for p in ids.values()]
    entries += [ProposedEntry("CSTDCS", person_id=ids[n]) for n in names[:2]]
    batch_id, step = propose_and_submit(rt, entries)
    assert not step.refused
    with pytest.raises(StepRefused) as info:
        council_pass(rt, batch_id, {"LDTT": Tally(7), "CSTDCS": Tally(7)})
    refusal = info.value.refusals[0]
    assert refusal.code == "within_quota"
    assert (
        "tối đa 1 hồ sơ Chiến sĩ thi đua cơ sở năm 2026 (15\u00a0% của 7 Lao động tiên tiến)"
        in refusal.message_vi
    )
    cstdcs = [n for n, c in enumerate(entries) if c.award_code == "CSTDCS"]
    with rt.engine.connect() as conn:
        at_council = (
            conn.execute(select(NOMINATIONS.c.state).where(NOMINATIONS.c.award_code == "CSTDCS"))
            .scalars()
            .all()
        )
    assert len(cstdcs) == 2 and at_council == ["unit_council", "unit_council"]  # rolled back
    from khenthuong.services import councils
    from khenthuong.services.councils import MemberIn

    secretary = who(rt, "tk.qd")
    with write_tx(rt.engine) as conn:
        sid = councils.open_session(
            conn, "CCYQD", title="Bình xét lại", held_on=TODAY,
            members=[MemberIn(f"Ủy viên {i}") for i in range(7)], actor=secretary,
        )  # fmt: skip
        waiting = year_review.members_by_title(
            conn, rt.registry, catalog(), batch_id, year_review.StateKind.council
        )
        last = waiting["CSTDCS"][-1]
        year_review.tally_titles_in(
            conn, rt.registry, catalog(), sid, batch_id,
            {"LDTT": Tally(7), "CSTDCS": Tally(7)}, actor=secretary,
            exceptions={last: Tally(2, 5)},
        )  # fmt: skip
        minutes = year_review.close_in(conn, rt.registry, catalog(), sid, actor=secretary)
    assert "đạt 1/2" in minutes
    assert states(rt, [last]) == {last: "rejected"}
