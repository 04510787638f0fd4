"""Dossier documents attached to nominations (hồ sơ đề nghị khen thưởng, Law Art 84)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, insert, select

from khenthuong.audit.append import append_event
from khenthuong.doctypes import DOC_TYPES
from khenthuong.documents.text import money
from khenthuong.errors import Forbidden, KhenthuongError
from khenthuong.services.access import READ_ALL_ROLES
from khenthuong.services.actors import Actor
from khenthuong.services.nominations import get_row
from khenthuong.storage.db import inserted_id
from khenthuong.storage.dossier import ATTACHMENTS
from khenthuong.uploads import UploadRefused, check_upload, safe_name


@dataclass(frozen=True)
class StoredDocument:
    """What was stored for one attachment."""

    id: int
    doc_type: str
    filename: str
    size: int
    sha256: str


def checked_file(
    filename: str, content: bytes, max_bytes: int, content_type: str | None
) -> tuple[str, str]:
    """The stored name (NFC, no folders of either kind) and type of an upload; refuses an
    empty file, one over `max_bytes`, an extension outside khenthuong.uploads.KINDS and content
    that is not what its extension and declared type say, naming the file. Shared by every
    upload."""
    name = safe_name(filename)
    if not content:
        raise KhenthuongError(f"Tệp {name!r} rỗng")
    if len(content) > max_bytes:
        raise KhenthuongError(
            f"Tệp {name!r} dung lượng {money(len(content))} byte vượt giới hạn {money(max_bytes)} byte"
        )
    try:
        checked = check_upload(filename, content, content_type)
    except UploadRefused as exc:
        raise KhenthuongError(str(exc)) from None
    return checked.name, checked.content_type


def attach(
    conn: Connection,
    nomination_id: int,
    *,
    doc_type: str,
    filename: str,
    content: bytes,
    actor: Actor,
    max_bytes: int,
    content_type: str | None = None,
    state_secret: bool = False,
) -> StoredDocument:
    """Store one document for a nomination, with its hash, size and type, audited."""
    row = get_row(conn, nomination_id)
    if doc_type not in DOC_TYPES:
        raise KhenthuongError(
            f"Loại tài liệu {doc_type!r} không hợp lệ; dùng một trong: {', '.join(DOC_TYPES)}",
            en=f"Unknown document type {doc_type!r}",
        )
    writable = [g.role for g in actor.grants if g.role not in READ_ALL_ROLES]
    if actor.grants and not writable:
        raise Forbidden(
            f"{actor.display_name} chỉ có quyền xem; không được đính kèm tài liệu",
            en=f"Read-only account: {actor.display_name} cannot attach documents",
        )
    if actor.grant_for(writable, row["unit_path"]) is None:
        raise Forbidden(
            f"{actor.display_name} không có quyền với hồ sơ #{nomination_id}",
            en=f"{actor.display_name} has no role over nomination #{nomination_id}",
        )
    if row["closed"]:
        raise KhenthuongError(
            f"Hồ sơ #{nomination_id} đã kết thúc; không thể bổ sung tài liệu",
            en=f"Nomination #{nomination_id} is closed",
        )
    name, guessed = checked_file(filename, content, max_bytes, content_type)
    return store_upload(
        conn,
        ATTACHMENTS,
        {"nomination_id": nomination_id, "state_secret": state_secret},
        stream=f"dossier:{nomination_id}",
        doc_type=doc_type,
        name=name,
        content_type=guessed,
        content=content,
        actor=actor,
        workflow=row["workflow"],
    )


def store_upload(
    conn: Connection,
    table: Table,
    owner: Mapping[str, Any],
    *,
    stream: str,
    doc_type: str,
    name: str,
    content_type: str,
    content: bytes,
    actor: Actor,
    workflow: str | None = None,
) -> StoredDocument:
    """Store a checked upload (`checked_file`) in `table` for `owner` (its key columns) with
    its SHA-256, size and type, and append the `attach` event to `stream`. Shared by the
    dossier of a nomination and the documents of a proposal batch."""
    digest = hashlib.sha256(content).hexdigest()
    now = datetime.now(UTC)
    new_id = inserted_id(
        conn.execute(
            insert(table).values(
                **owner,
                doc_type=doc_type,
                filename=name,
                content_type=content_type,
                size=len(content),
                sha256=digest,
                content=content,
                uploaded_by=actor.username,
                uploaded_at=now,
            )
        )
    )
    append_event(
        conn,
        stream,
        actor=actor.username,
        actor_unit=actor.unit_code,
        trigger="attach",
        workflow=workflow,
        payload={
            "attachment_id": new_id,
            "doc_type": doc_type,
            "filename": name,
            "size": len(content),
            "sha256": digest,
        },
        now=now,
    )
    return StoredDocument(new_id, doc_type, name, len(content), digest)


def documents(conn: Connection, nomination_id: int) -> list[StoredDocument]:
    """The documents attached to a nomination, oldest first (without content)."""
    return [
        StoredDocument(r.id, r.doc_type, r.filename, r.size, r.sha256)
        for r in conn.execute(
            select(
                ATTACHMENTS.c.id,
                ATTACHMENTS.c.doc_type,
                ATTACHMENTS.c.filename,
                ATTACHMENTS.c.size,
                ATTACHMENTS.c.sha256,
            )
            .where(ATTACHMENTS.c.nomination_id == nomination_id)
            .order_by(ATTACHMENTS.c.id)
        )
    ]


def present_types(conn: Connection, nomination_ids: Sequence[int]) -> dict[int, set[str]]:
    """Document types present in each nomination's dossier (every id has an entry)."""
    found: dict[int, set[str]] = {nid: set() for nid in nomination_ids}
    for row in conn.execute(
        select(ATTACHMENTS.c.nomination_id, ATTACHMENTS.c.doc_type).where(
            ATTACHMENTS.c.nomination_id.in_(list(nomination_ids))
        )
    ):
        found[row.nomination_id].add(row.doc_type)
    return found
