"""Signed decisions: sign the decision's PDF (PAdES, PKCS#12), keep it, and check a file.

The signed PDF and its SHA-256 are stored (generated_file) and the hash appended to the
decision's audit stream; `verify_file` checks the signature, the chain against the
configured trust roots, and that the file is one the system recorded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select

from khenthuong.audit.append import append_event
from khenthuong.documents.render import PDF_TYPE, Rendered
from khenthuong.documents.settings import documents_config
from khenthuong.documents.signing import SignatureCheck, check_pdf, load_certificates, sign_pdf
from khenthuong.errors import NotFound
from khenthuong.localtime import LOCAL_TZ
from khenthuong.rules.catalog import Catalog
from khenthuong.services.actors import Actor
from khenthuong.services.decisions import _check_signer
from khenthuong.services.documents import (
    DocumentRequest,
    decision_key,
    decision_of_key,
    record_file,
    render_document,
)
from khenthuong.storage.db import write_tx
from khenthuong.storage.decisions import DECISIONS
from khenthuong.storage.documents import GENERATED_FILES
from khenthuong.storage.models import UNITS


def sign_decision(
    engine: Engine,
    catalog: Catalog,
    config_dir: Path,
    key: str,
    *,
    pkcs12: bytes,
    passphrase: bytes | None,
    actor: Actor,
    soffice: str | None = None,
) -> Rendered:
    """Render the decision's PDF, sign it as `actor` (who holds the signing role), store it.
    `key` is the decision's number, or NUMBER:YEAR when the number exists in several years."""
    with engine.connect() as conn:
        head = decision_of_key(conn, key)
        number = str(head["number"])
        key = decision_key(head)
        authority = conn.execute(
            select(UNITS.c.code, UNITS.c.name).where(UNITS.c.id == head["authority_unit_id"])
        ).one()
    _check_signer(catalog, str(head["award_code"]), authority.code, actor, authority.name)
    pdf = render_document(
        engine, catalog, config_dir, DocumentRequest("quyet-dinh", key, "pdf", actor),
        soffice=soffice,
    )  # fmt: skip
    cfg = documents_config(config_dir)
    signed, subject = sign_pdf(
        pdf.content,
        pkcs12,
        passphrase,
        reason=f"Ký ban hành Quyết định số {number}",
        location=cfg.unit(str(authority)).place or cfg.place,
    )
    rendered = Rendered(pdf.filename.replace(".pdf", "-da-ky.pdf"), signed, PDF_TYPE)
    stream = f"decision:{head['id']}"
    req = DocumentRequest("quyet-dinh", key, "pdf", actor)
    with write_tx(engine) as conn:
        record_file(conn, stream, req, rendered, signer=subject)
        append_event(
            conn,
            stream,
            actor=actor.username,
            actor_unit=actor.unit_code,
            trigger="sign_document",
            payload={
                "kind": "quyet-dinh",
                "filename": rendered.filename,
                "bytes": len(signed),
                "sha256": rendered.sha256,
                "unsigned_sha256": pdf.sha256,
                "signer": subject,
            },
        )
    return rendered


@dataclass(frozen=True)
class Verification:
    """A file's signature check and whether the system recorded it as a signed decision."""

    check: SignatureCheck
    recorded: str | None
    """The stream (decision:ID) of the recorded signed file with this SHA-256, if any."""
    signed_at: datetime | None

    @property
    def valid(self) -> bool:
        return self.check.valid and self.recorded is not None

    @property
    def problems(self) -> tuple[str, ...]:
        missing = () if self.recorded else ("Tệp không phải bản đã ký được hệ thống lưu",)
        return self.check.problems + missing


def verify_file(engine: Engine, content: bytes, trust_roots: Path | None) -> Verification:
    """Check the signature, the chain against `trust_roots`, and the recorded hash."""
    roots = load_certificates([trust_roots]) if trust_roots is not None else []
    check = check_pdf(content, roots)
    if not roots:
        check = SignatureCheck(
            check.intact, False, check.whole_file, check.signer,
            (*check.problems, "Chưa cấu hình chứng thư gốc tin cậy (KHENTHUONG_TRUST_ROOTS)"),
        )  # fmt: skip
    digest = hashlib.sha256(content).hexdigest()
    with engine.connect() as conn:
        row = conn.execute(
            select(GENERATED_FILES.c.stream, GENERATED_FILES.c.created_at).where(
                GENERATED_FILES.c.sha256 == digest, GENERATED_FILES.c.signed.is_(True)
            )
        ).first()
    at = row.created_at.astimezone(LOCAL_TZ) if row is not None else None
    return Verification(check, row.stream if row is not None else None, at)


@dataclass(frozen=True)
class SignedFile:
    """A stored signed decision PDF and today's verdict on it."""

    id: int
    filename: str
    sha256: str
    signer: str
    signed_at: datetime
    verification: Verification


def signed_files(engine: Engine, decision_id: int, trust_roots: Path | None) -> list[SignedFile]:
    """The decision's signed PDFs, newest first, each checked again (the decision page)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(GENERATED_FILES)
            .where(GENERATED_FILES.c.stream == f"decision:{decision_id}", GENERATED_FILES.c.signed)
            .order_by(GENERATED_FILES.c.id.desc())
        ).all()
    return [
        SignedFile(
            r.id,
            r.filename,
            r.sha256,
            r.signer or "",
            r.created_at.astimezone(LOCAL_TZ),
            verify_file(engine, r.content or b"", trust_roots),
        )
        for r in rows
    ]


def signed_file(engine: Engine, file_id: int) -> tuple[int, str, str, bytes]:
    """(decision id, decision number, filename, bytes) of a stored signed file."""
    with engine.connect() as conn:
        row = conn.execute(
            select(GENERATED_FILES).where(GENERATED_FILES.c.id == file_id, GENERATED_FILES.c.signed)
        ).first()
        if row is None or not str(row.stream).startswith("decision:"):
            raise NotFound(f"Không có bản ký số #{file_id}", en=f"No signed file #{file_id}")
        decision_id = int(str(row.stream).removeprefix("decision:"))
        number = conn.execute(
            select(DECISIONS.c.number).where(DECISIONS.c.id == decision_id)
        ).scalar_one()
    return decision_id, str(number), str(row.filename), bytes(row.content)
