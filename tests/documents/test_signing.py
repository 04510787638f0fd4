"""PAdES signing and checking of PDFs against configured trust roots (no database)."""

from __future__ import annotations

import asyncio
import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pypdf import PdfWriter

from khenthuong.documents.signing import check_pdf, load_certificates, sign_pdf
from khenthuong.errors import KhenthuongError
from tests.documents.pki import make_ca, signer_p12

PASS = b"mat-khau-thu"


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def roots(tmp_path: Path, pem: bytes) -> list:  # type: ignore[type-arg]
    path = tmp_path / "roots.pem"
    path.write_bytes(pem)
    return load_certificates([path])


def test_signed_pdf_verifies_and_a_changed_byte_fails(tmp_path: Path) -> None:
    """A signature by a certificate of the trusted CA verifies; one changed byte fails."""
    ca = make_ca()
    signed, subject = sign_pdf(blank_pdf(), signer_p12(ca, "Ngô Văn Thành", PASS), PASS,
                               reason="Ký ban hành quyết định", location="Hà Nội")  # fmt: skip
    assert "Ngô Văn Thành" in subject
    check = check_pdf(signed, roots(tmp_path, ca.pem))
    assert check.valid, check.problems
    # Flip a byte inside the signed content (the page object, before the signature).
    at = signed.index(b"/MediaBox")
    tampered = signed[:at] + b"/MediaBoy" + signed[at + 9 :]
    broken = check_pdf(tampered, roots(tmp_path, ca.pem))
    assert not broken.valid and not broken.intact
    assert any("thay đổi" in p for p in broken.problems)


def test_signer_outside_the_trust_roots_fails(tmp_path: Path) -> None:
    """A certificate from another CA signs, but the check names it as untrusted."""
    trusted, other = make_ca("CA tin cậy"), make_ca("CA lạ")
    signed, _ = sign_pdf(blank_pdf(), signer_p12(other, "Người lạ", PASS), PASS,
                         reason="Thử", location="Hà Nội")  # fmt: skip
    check = check_pdf(signed, roots(tmp_path, trusted.pem))
    assert check.intact and not check.trusted and not check.valid
    assert any("không thuộc chuỗi tin cậy" in p for p in check.problems)


def test_wrong_passphrase_and_unsigned_file(tmp_path: Path) -> None:
    """A wrong PKCS#12 passphrase is refused clearly; an unsigned PDF is not valid."""
    ca = make_ca()
    with pytest.raises(KhenthuongError, match="PKCS#12"):
        sign_pdf(blank_pdf(), signer_p12(ca, "A", PASS), b"sai", reason="x", location="y")
    assert check_pdf(blank_pdf(), roots(tmp_path, ca.pem)).problems == ("Tệp không có chữ ký số",)


def test_signing_and_checking_from_inside_a_running_event_loop(tmp_path: Path) -> None:
    """Called by code whose thread runs an event loop (an async caller, a sync Playwright
    session): pyHanko's `asyncio.run` would refuse; the signature is made and verifies
    anyway, instead of an error or a check that reports a good signature as unreadable."""
    ca = make_ca()
    trusted = roots(tmp_path, ca.pem)

    async def inside_a_loop() -> tuple[bytes, object]:
        signed, _ = sign_pdf(blank_pdf(), signer_p12(ca, "Ngô Văn Thành", PASS), PASS,
                             reason="Ký ban hành quyết định", location="Hà Nội")  # fmt: skip
        return signed, check_pdf(signed, trusted)

    # In a thread of its own: this test's thread may already run a loop (a browser test's
    # sync Playwright session earlier in the same pytest worker), where asyncio.run refuses.
    with ThreadPoolExecutor(max_workers=1) as pool:
        signed, check = pool.submit(asyncio.run, inside_a_loop()).result()
    assert check.valid, check.problems  # type: ignore[attr-defined]
    assert check_pdf(signed, trusted).valid
