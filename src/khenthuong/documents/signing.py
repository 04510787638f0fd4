"""PAdES signatures on decision PDFs with a PKCS#12 certificate (pyHanko), and their check.

Signing adds an incremental revision, so a second signature (the agency's, after the
signer's; DOMAIN-2 §7) can follow. Checking needs the trust roots the office configures
(KHENTHUONG_TRUST_ROOTS): a signature whose chain does not end in one of them fails.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from asn1crypto import x509 as asn1_x509

from khenthuong.errors import KhenthuongError

_T = TypeVar("_T")


def _off_the_loop(call: Callable[..., _T], *args: object, **kwargs: object) -> _T:
    """`call(*args, **kwargs)` where `asyncio.run` may be used: pyHanko's synchronous signing
    and validation run their coroutines with `asyncio.run`, which refuses to start inside a
    thread whose event loop is running (an async caller, a notebook, a sync Playwright
    session); there the call runs in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call, *args, **kwargs).result()


@dataclass(frozen=True)
class SignatureCheck:
    """The verdict on one signed PDF: valid only when every part holds."""

    intact: bool
    """The signed bytes are unchanged and the signature matches them."""
    trusted: bool
    """The signer's chain ends in a configured trust root."""
    whole_file: bool
    """The signature covers the whole file (nothing added after signing)."""
    signer: str
    problems: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return self.intact and self.trusted and self.whole_file and not self.problems


def load_certificates(paths: list[Path]) -> list[asn1_x509.Certificate]:
    """Certificates from PEM or DER files (a PEM file may hold several)."""
    from asn1crypto import pem  # noqa: PLC0415

    certs = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise KhenthuongError(f"Không đọc được chứng thư gốc tin cậy {path}: {exc}") from exc
        blobs = (
            [der for _t, _h, der in pem.unarmor(data, multiple=True)]
            if pem.detect(data)
            else [data]
        )
        for der in blobs:
            try:
                certs.append(asn1_x509.Certificate.load(der))
            except ValueError as exc:
                raise KhenthuongError(f"{path}: không phải chứng thư X.509 ({exc})") from exc
    return certs


def sign_pdf(
    pdf: bytes,
    pkcs12: bytes,
    passphrase: bytes | None,
    *,
    reason: str,
    location: str,
    field_name: str = "ChuKyNguoiKy",
) -> tuple[bytes, str]:
    """The PDF with a PAdES signature by the PKCS#12's key; (signed bytes, signer subject)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: PLC0415
    from pyhanko.sign import fields, signers  # noqa: PLC0415

    try:
        signer = signers.SimpleSigner.load_pkcs12_data(
            pkcs12, other_certs=[], passphrase=passphrase
        )
    except (ValueError, TypeError) as exc:
        raise KhenthuongError(
            f"Không mở được tệp PKCS#12 (sai mật khẩu hoặc tệp hỏng): {exc}"
        ) from exc
    if signer is None or signer.signing_cert is None:
        raise KhenthuongError(
            "Tệp PKCS#12 không có khóa và chứng thư ký", en="No key or certificate"
        )
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    out = _off_the_loop(signers.sign_pdf, writer, meta, signer=signer)
    return out.getvalue(), signer.signing_cert.subject.human_friendly


def check_pdf(pdf: bytes, trust_roots: list[asn1_x509.Certificate]) -> SignatureCheck:
    """Check every signature of `pdf` against the trust roots; the problems in Vietnamese."""
    from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: PLC0415
    from pyhanko.sign.validation import validate_pdf_signature  # noqa: PLC0415
    from pyhanko_certvalidator import ValidationContext  # noqa: PLC0415

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as exc:  # a damaged file cannot even be parsed
        return SignatureCheck(False, False, False, "", (f"Tệp PDF hỏng, không đọc được: {exc}",))
    if not embedded:
        return SignatureCheck(False, False, False, "", ("Tệp không có chữ ký số",))
    context = ValidationContext(trust_roots=trust_roots, allow_fetching=False)
    problems: list[str] = []
    intact = trusted = True
    signer = ""
    for sig in embedded:
        try:
            status = _off_the_loop(validate_pdf_signature, sig, context)
        except Exception as exc:
            problems.append(f"Chữ ký {sig.field_name}: không kiểm tra được ({exc})")
            intact = trusted = False
            continue
        signer = status.signing_cert.subject.human_friendly
        if not (status.intact and status.valid):
            intact = False
            problems.append(f"Chữ ký {sig.field_name}: nội dung đã bị thay đổi sau khi ký")
        if not status.trusted:
            trusted = False
            problems.append(
                f"Chữ ký {sig.field_name}: chứng thư của {signer} không thuộc chuỗi tin cậy "
                "đã cấu hình (KHENTHUONG_TRUST_ROOTS)"
            )
    last = embedded[-1]
    whole = last.signed_revision == reader.xrefs.total_revisions - 1 and _covers_file(last, pdf)
    if not whole:
        problems.append("Có nội dung được thêm vào sau chữ ký cuối cùng")
    return SignatureCheck(intact, trusted, whole, signer, tuple(problems))


def _covers_file(sig: object, pdf: bytes) -> bool:
    """The last signature's byte range reaches the end of the file."""
    byte_range = getattr(sig, "sig_object", {}).get("/ByteRange")
    if byte_range is None:
        return False
    start, length = int(byte_range[2]), int(byte_range[3])
    return start + length == len(pdf)
