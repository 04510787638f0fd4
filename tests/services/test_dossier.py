"""Dossier attachments: stored with hash, size and type; bad files refused clearly."""

from __future__ import annotations

import hashlib

import pytest

from khenthuong.errors import KhenthuongError
from khenthuong.runtime import Runtime
from khenthuong.services import dossier, new_nominations
from khenthuong.services.actors import load_actor
from khenthuong.storage.db import write_tx

PDF = b"%PDF-1.4\n% to trinh\n"


def nomination(rt: Runtime) -> int:
    with rt.engine.connect() as conn:
        officer = load_actor(conn, "cb.qd")
    return new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow="giay_khen",
        proposing_unit="CCYQD",
        actor=officer,
        nominee_name="Nguyễn Văn An",
        create_person=True,
    )


def test_attachment_is_stored_with_hash_and_listed(rt: Runtime) -> None:
    """A PDF tờ trình is stored with its SHA-256 and size and listed for the nomination."""
    nid = nomination(rt)
    with write_tx(rt.engine) as conn:
        officer = load_actor(conn, "cb.qd")
        stored = dossier.attach(
            conn,
            nid,
            doc_type="to_trinh",
            filename="../Tờ trình.pdf",
            content=PDF,
            actor=officer,
            max_bytes=1024,
        )
    assert stored.sha256 == hashlib.sha256(PDF).hexdigest()
    assert stored.filename == "Tờ trình.pdf"
    with rt.engine.connect() as conn:
        assert dossier.present_types(conn, [nid]) == {nid: {"to_trinh"}}
        assert [d.id for d in dossier.documents(conn, nid)] == [stored.id]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"doc_type": "ho_chieu", "filename": "a.pdf", "content": PDF}, "ho_chieu"),
        (
            {"doc_type": "to_trinh", "filename": "a.pdf", "content": b"%PDF" + b"x" * 2000},
            "Tệp 'a.pdf' dung lượng 2.004 byte vượt giới hạn 1.024 byte",
        ),
        (
            {"doc_type": "to_trinh", "filename": "a.exe", "content": b"MZ"},
            "Tệp 'a.exe': phần mở rộng .exe không được chấp nhận; "
            "dùng .doc, .docx, .jpg, .pdf, .png, .txt, .xls, .xlsx",
        ),
        ({"doc_type": "to_trinh", "filename": "a.pdf", "content": b""}, "Tệp 'a.pdf' rỗng"),
        (
            {"doc_type": "to_trinh", "filename": "a.pdf", "content": b"MZ\x90\x00" + b"\x00" * 60},
            "Tệp 'a.pdf': nội dung không phải tệp PDF",
        ),
        (
            {
                "doc_type": "to_trinh",
                "filename": "a.pdf",
                "content": PDF,
                "content_type": "image/png",
            },
            "Tệp 'a.pdf': loại khai báo image/png không khớp với phần mở rộng .pdf",
        ),
    ],
)
def test_bad_attachments_are_refused(rt: Runtime, kwargs: dict[str, object], fragment: str) -> None:
    """Unknown type, oversize, disallowed format or empty file: refused naming the problem."""
    nid = nomination(rt)
    with write_tx(rt.engine) as conn:
        officer = load_actor(conn, "cb.qd")
        with pytest.raises(KhenthuongError, match=fragment):
            dossier.attach(conn, nid, actor=officer, max_bytes=1024, **kwargs)  # type: ignore[arg-type]
    with rt.engine.connect() as conn:
        assert dossier.documents(conn, nid) == []


def test_officer_of_another_unit_cannot_attach(rt: Runtime) -> None:
    """An officer of Bộ Công an cannot add documents to a Ban Cơ yếu nomination."""
    nid = nomination(rt)
    with write_tx(rt.engine) as conn:
        outsider = load_actor(conn, "cb.pccc")
        with pytest.raises(KhenthuongError, match="không có quyền với hồ sơ"):
            dossier.attach(
                conn,
                nid,
                doc_type="to_trinh",
                filename="a.pdf",
                content=PDF,
                actor=outsider,
                max_bytes=1024,
            )
