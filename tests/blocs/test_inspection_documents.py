"""Inspection reports carry documents: stored with SHA-256, size and type, like dossiers."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import Connection, select

from khenthuong.audit.query import AuditFilter, query_events
from khenthuong.errors import Forbidden, KhenthuongError, NotFound
from khenthuong.runtime import Runtime
from khenthuong.services import inspections
from khenthuong.services.actors import Actor, load_actor
from khenthuong.services.blocs import apply_blocs, load_blocs
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import UNITS
from tests.conftest import CONFIG

HEADS = {"CCYQD": "tt.qd", "CCYDCQ": "tt.dcq", "CCYCA": "tt.ca", "CCYNG": "tt.ng"}
PDF = b"%PDF-1.4\n% bien ban kiem tra cheo\n"


def first_kcy4_visit(conn: Connection) -> tuple[inspections.VisitRow, Actor]:
    """The blocs loaded, KCY4's 2019 plan made: its first visit and the inspector's head."""
    known = set(conn.execute(select(UNITS.c.code)).scalars())
    apply_blocs(conn, load_blocs(CONFIG / "blocs.yaml", known))
    inspections.plan_inspections(conn, "KCY4", 2019, actor=load_actor(conn, "kt.cy"))
    visit = inspections.visits(conn, "KCY4", 2019)[0]
    return visit, load_actor(conn, HEADS[visit.inspector])


def test_the_inspector_attaches_documents_to_its_report(rt: Runtime) -> None:
    """The inspecting unit's head attaches a PDF and a photo: both listed with hash, size and
    type, the bytes read back, each audited; anyone else, an empty, oversized or
    executable file, and an unknown visit are refused."""
    with write_tx(rt.engine) as conn:
        visit, head = first_kcy4_visit(conn)
        inspections.record_report(conn, visit.id, findings="Đạt yêu cầu", score=90, actor=head)
        pdf = inspections.attach_report_document(
            conn, visit.id, filename="reports/Biên bản.pdf", content=PDF, actor=head, max_bytes=1000
        )
        photo = inspections.attach_report_document(
            conn,
            visit.id,
            filename="anh.png",
            content=b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            actor=head,
            max_bytes=1000,
        )
        listed = inspections.report_documents(conn, visit.id, head)
        document, content = inspections.report_document_content(conn, pdf.id, head)
        events = list(query_events(conn, AuditFilter(trigger="attach_report_document")))
        inspected_head = load_actor(conn, HEADS[visit.inspected])
        attach = inspections.attach_report_document
        with pytest.raises(Forbidden, match="không thuộc đơn vị kiểm tra"):
            attach(conn, visit.id, filename="x.pdf", content=PDF, actor=inspected_head,
                   max_bytes=1000)  # fmt: skip
        with pytest.raises(Forbidden):  # an auditor reads everything, changes nothing
            attach(conn, visit.id, filename="x.pdf", content=PDF,
                   actor=load_actor(conn, "kiemtra"), max_bytes=1000)  # fmt: skip
        with pytest.raises(KhenthuongError, match="rỗng"):
            attach(conn, visit.id, filename="x.pdf", content=b"", actor=head, max_bytes=1000)
        with pytest.raises(KhenthuongError, match="vượt giới hạn 10 byte"):
            attach(conn, visit.id, filename="x.pdf", content=PDF, actor=head, max_bytes=10)
        with pytest.raises(KhenthuongError, match="không được chấp nhận"):
            attach(conn, visit.id, filename="x.exe", content=b"MZ", actor=head, max_bytes=1000)
        with pytest.raises(NotFound):
            attach(conn, 999_999, filename="x.pdf", content=PDF, actor=head, max_bytes=1000)
        assert len(inspections.report_documents(conn, visit.id, head)) == 2
    assert pdf.filename == "Biên bản.pdf" and pdf.content_type == "application/pdf"
    assert (pdf.size, pdf.sha256) == (len(PDF), hashlib.sha256(PDF).hexdigest())
    assert photo.content_type == "image/png"
    assert listed == [pdf, photo]
    assert (document, content) == (pdf, PDF)
    assert [e["payload"]["sha256"] for e in events] == [pdf.sha256, photo.sha256]
    assert {e["stream"] for e in events} == {f"inspection-visit:{visit.id}"}


def test_report_documents_are_read_by_the_parties_only(rt: Runtime) -> None:
    """The service itself (not only the web pages) lets the two units, the bloc leader and
    auditors read a report's documents; an officer of another ministry gets Forbidden naming
    who may, for the list and for the content."""
    with write_tx(rt.engine) as conn:
        visit, head = first_kcy4_visit(conn)
        pdf = inspections.attach_report_document(
            conn, visit.id, filename="Biên bản.pdf", content=PDF, actor=head, max_bytes=1000
        )
        for reader in (HEADS[visit.inspected], "kt.cy", "kiemtra"):
            actor = load_actor(conn, reader)
            assert inspections.report_documents(conn, visit.id, actor) == [pdf], reader
            assert inspections.report_document_content(conn, pdf.id, actor)[1] == PDF, reader
        outsider = load_actor(conn, "cb.pccc")
        with pytest.raises(Forbidden, match=f"không thuộc đơn vị kiểm tra {visit.inspector}"):
            inspections.report_documents(conn, visit.id, outsider)
        with pytest.raises(Forbidden, match="khối trưởng khối KCY4"):
            inspections.report_document_content(conn, pdf.id, outsider)
        with pytest.raises(NotFound):
            inspections.report_document_content(conn, 999_999, head)
