"""Check every audit chain and name the first event that was altered, deleted or reordered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from khenthuong.audit.chain import GENESIS, event_hash
from khenthuong.storage.models import EVENTS, NOMINATIONS, STREAM_HEADS


@dataclass(frozen=True)
class Finding:
    """One break in a chain; `message` in Vietnamese (officers read it), `message_en` in
    English (the English locale, the API), never both in one text."""

    stream: str
    event_id: int | None
    seq: int | None
    kind: str
    """altered, deleted, reordered or head_mismatch."""
    message: str
    message_en: str = ""

    def text(self, lang: str = "vi") -> str:
        """'STREAM: where: message' in one language ('vi' or 'en')."""
        if lang == "en":
            where = f"event id {self.event_id} (seq {self.seq})" if self.event_id else ""
            message = self.message_en or self.message
        else:
            where = f"sự kiện id {self.event_id} (seq {self.seq})" if self.event_id else ""
            message = self.message
        where = where or f"seq {self.seq}"
        return f"{self.stream}: {where}: {message}"

    def __str__(self) -> str:
        return self.text("vi")


def _finding(stream: str, event_id: int | None, seq: int | None, kind: str,
             why: tuple[str, str]) -> Finding:  # fmt: skip
    return Finding(stream, event_id, seq, kind, why[0], why[1])


def _gap(expected: int, found: int) -> tuple[str, str]:
    return (
        f"cần số thứ tự {expected}, gặp {found}: một sự kiện trước đó đã mất",
        f"expected sequence {expected}, found {found}: an earlier event is missing",
    )


def _reorder(expected: int, found: int) -> tuple[str, str]:
    return (
        f"cần số thứ tự {expected}, gặp {found}: các sự kiện đã bị sắp xếp lại",
        f"expected sequence {expected}, found {found}: events were reordered",
    )


def _cut(last: int, head: int) -> tuple[str, str]:
    return (
        f"chuỗi dừng ở seq {last} nhưng đầu chuỗi ghi seq {head}: các sự kiện sau đã bị xóa, "
        "hoặc đầu chuỗi đã bị sửa",
        f"the chain ends at seq {last} but its head records seq {head}: later events were "
        "deleted, or the head was edited",
    )


_ALL_GONE = (
    "mọi sự kiện của chuỗi này đã mất",
    "every event of this stream is missing",
)


@dataclass
class VerifyReport:
    """The outcome of a full verification."""

    streams: int = 0
    events: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no chain is broken."""
        return not self.findings


@dataclass
class _Cursor:
    expected_seq: int = 1
    prev_hash: str = GENESIS
    last_id: int = 0
    broken: bool = False
    finding_index: int = -1
    later_seqs: set[int] = field(default_factory=set)
    last_seq: int = 0
    link_break: tuple[int, int, str] | None = None
    """(id, seq, prev_hash) of a self-consistent event whose prev_hash does not link."""


_UNLINKED = (
    "prev_hash không liên kết tới sự kiện trước: một sự kiện đã bị xóa, thay thế hoặc sắp xếp lại",
    "prev_hash does not link to the previous event (an event was removed, replaced or reordered)",
)
_ALTERED = (
    "nội dung không khớp với mã băm của nó: dòng đã bị sửa",
    "content does not match its hash: the row was edited",
)


def _rehashed(next_id: int | None, next_seq: int | None) -> tuple[str, str]:
    """Why an event whose own hash checks out is named: what chained to it disagrees."""
    if next_id is None:
        return (
            "sự kiện cuối không còn khớp với mã băm đầu chuỗi đã ghi: sự kiện đã bị sửa rồi "
            "tính lại mã băm, bị thay thế, hoặc đầu chuỗi bị sửa",
            "the last event no longer matches the hash its head recorded: it was edited and "
            "its hash recomputed, or replaced, or the head was edited",
        )
    return (
        f"sự kiện không còn khớp với mã băm mà sự kiện kế tiếp (id {next_id}, seq {next_seq}) "
        "đã liên kết tới: sự kiện đã bị sửa rồi tính lại mã băm, hoặc bị thay thế (hoặc sự "
        "kiện ngay sau nó bị xóa và các số thứ tự được đánh lại)",
        f"this event no longer matches the hash the next event (id {next_id}, seq {next_seq}) "
        "chained to: it was edited and its hash recomputed, or it was replaced; or the event "
        "after it was deleted and the rest renumbered",
    )


def verify_all(
    conn: Connection,
    *,
    progress: Callable[[int], None] | None = None,
    chunk: int = 10_000,
) -> VerifyReport:
    """Verify every stream in one pass over the events in insertion (id) order.

    Memory grows with the number of streams, not events. Per stream the first
    break is reported: a wrong sequence number (deleted or reordered), a
    prev_hash that does not link (removed, replaced or reordered) or content that
    does not match its hash (altered). An event edited and then re-hashed matches
    its own hash, so the break shows at the next event's prev_hash; when no event
    of the stream has the hash that prev_hash names, the previous event is the one
    named (altered), not the next. Finally each stream's last event must
    match its head (the nomination row or stream_head), which catches deleted
    tail events.
    """
    report = VerifyReport()
    cursors: dict[str, _Cursor] = {}
    result = conn.execution_options(yield_per=chunk).execute(select(EVENTS).order_by(EVENTS.c.id))
    count = 0
    for row in result.mappings():
        count += 1
        if progress and count % chunk == 0:
            progress(chunk)
        stream = row["stream"]
        cur = cursors.get(stream)
        if cur is None:
            cur = cursors[stream] = _Cursor()
        if cur.broken:
            cur.later_seqs.add(row["seq"])
            continue
        finding = None
        if row["seq"] != cur.expected_seq:
            if row["seq"] > cur.expected_seq:
                kind, why = "deleted", _gap(cur.expected_seq, row["seq"])
            else:
                kind, why = "reordered", _reorder(cur.expected_seq, row["seq"])
            finding = _finding(stream, row["id"], row["seq"], kind, why)
        elif row["prev_hash"] != cur.prev_hash:
            if event_hash(row) != row["hash"] or not cur.last_id:
                # This row does not match its own hash (its prev_hash was edited), or
                # it is the first of its stream and was rewritten with a new link.
                finding = _finding(stream, row["id"], row["seq"], "altered", _ALTERED)
            else:
                # Self-consistent, but chained to something that is not the previous
                # event: decided after the pass (see _resolve_link_break).
                cur.link_break = (row["id"], row["seq"], row["prev_hash"])
                finding = _finding(stream, row["id"], row["seq"], "reordered", _UNLINKED)
        elif event_hash(row) != row["hash"]:
            finding = _finding(stream, row["id"], row["seq"], "altered", _ALTERED)
        if finding is not None:
            cur.finding_index = len(report.findings)
            report.findings.append(finding)
            cur.broken = True
            continue
        cur.expected_seq += 1
        cur.prev_hash = row["hash"]
        cur.last_id = row["id"]
        cur.last_seq = row["seq"]
    if progress and count % chunk:
        progress(count % chunk)
    report.events = count
    report.streams = len(cursors)
    for stream, cur in cursors.items():
        # A gap whose missing number turns up later in the stream was a reorder.
        if (
            cur.broken
            and report.findings[cur.finding_index].kind == "deleted"
            and cur.expected_seq in cur.later_seqs
        ):
            old = report.findings[cur.finding_index]
            report.findings[cur.finding_index] = _finding(
                stream, old.event_id, old.seq, "reordered", _reorder(cur.expected_seq, old.seq or 0)
            )

        if cur.broken and cur.link_break is not None:
            report.findings[cur.finding_index] = _resolve_link_break(
                conn, stream, cur, cur.link_break
            )

    nominations = NOMINATIONS
    heads: dict[str, tuple[int, str]] = {
        f"nomination:{r.id}": (r.version, r.head_hash)
        for r in conn.execute(
            select(nominations.c.id, nominations.c.version, nominations.c.head_hash)
        )
    }
    heads.update((r.stream, (r.seq, r.hash)) for r in conn.execute(select(STREAM_HEADS)))
    for stream, (seq, head_hash) in heads.items():
        cur = cursors.get(stream)
        if cur is None:
            report.findings.append(_finding(stream, None, seq, "deleted", _ALL_GONE))
        elif not cur.broken and cur.expected_seq - 1 == seq and cur.prev_hash != head_hash:
            # The last event is where the head says, but not what it recorded.
            report.findings.append(
                _finding(stream, cur.last_id or None, seq, "altered", _rehashed(None, None))
            )
        elif not cur.broken and cur.expected_seq - 1 != seq:
            report.findings.append(
                _finding(
                    stream,
                    cur.last_id or None,
                    cur.expected_seq - 1,
                    "deleted",
                    _cut(cur.expected_seq - 1, seq),
                )
            )
    report.findings.sort(key=lambda f: (f.event_id is None, f.event_id or 0))
    return report


def _resolve_link_break(
    conn: Connection, stream: str, cur: _Cursor, link_break: tuple[int, int, str]
) -> Finding:
    """Name the event a self-consistent but unlinked event points at the break.

    The event in `link_break` matches its own hash but chains to a hash that
    is not the previous event's. When some event of the stream still has that
    hash, the chain was reordered or an event was moved: report the unlinked
    event. When none has, the event it chained to is gone from its place, and the
    previous event sits there: it was edited and re-hashed, or replaced.
    """
    next_id, next_seq, chained_to = link_break
    moved = conn.execute(
        select(EVENTS.c.id).where(EVENTS.c.stream == stream, EVENTS.c.hash == chained_to).limit(1)
    ).first()
    if moved is not None:
        return _finding(stream, next_id, next_seq, "reordered", _UNLINKED)
    return _finding(stream, cur.last_id, cur.last_seq, "altered", _rehashed(next_id, next_seq))
