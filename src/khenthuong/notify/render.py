"""Build e-mails from plain dataclasses with Jinja2 templates (pure: no I/O, no settings lookup).

Every message carries a text and an HTML alternative, a Vietnamese subject, and a
Message-ID derived from the caller's ledger key, so a message sent twice is recognisable
as the same one by the relay, the mailbox and the ledger.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from khenthuong.notify.mail_settings import MailSettings

ReminderKind = Literal["before", "due", "overdue"]
SUBJECT_PREFIX = "[Thi đua – Khen thưởng]"
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
KEY_HEADER = "X-Khenthuong-Key"

_KIND_ORDER: dict[str, int] = {"overdue": 0, "due": 1, "before": 2}
_KIND_TEXT: dict[str, tuple[str, str]] = {
    "before": ("Nhắc trước hạn", "Reminder before due date"),
    "due": ("Đến hạn hôm nay", "Due today"),
    "overdue": ("Quá hạn – báo cáo lãnh đạo", "Overdue – escalation"),
}

ENV = Environment(
    loader=PackageLoader("khenthuong.notify", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def addressee_en(name: str | None) -> str:
    """The English salutation's name: a unit's leadership ("Lãnh đạo Bộ Tư pháp") as
    "Head of Bộ Tư pháp"; a person as named; nobody as "colleague"."""
    if not name:
        return "colleague"
    prefix = "Lãnh đạo "
    return f"Head of {name[len(prefix) :]}" if name.startswith(prefix) else name


ENV.filters["addressee_en"] = addressee_en


@dataclass(frozen=True, kw_only=True)
class Sender:
    """Who the mail is from and where links point: the rendering part of MailSettings."""

    address: str = "khenthuong@localhost"
    name: str = "Hệ thống Thi đua – Khen thưởng"
    base_url: str | None = None

    @classmethod
    def from_settings(cls, settings: MailSettings) -> Sender:
        """The sender described by mail settings."""
        return cls(address=settings.sender, name=settings.sender_name, base_url=settings.base_url)

    def link(self, path: str) -> str | None:
        """An absolute link to `path` in the web application, or None without a base URL."""
        if not self.base_url:
            return None
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")


@dataclass(frozen=True)
class DigestItem:
    """One nomination waiting for the recipient."""

    nomination_id: int
    nominee_name: str
    workflow_title: str
    state_title: str
    due_on: date
    working_days_left: int
    """Negative when overdue."""
    kind: ReminderKind
    subject: str = "nomination"
    """nomination, or inspection (a cross-inspection visit or its overdue report)."""
    path: str | None = None
    """The item's page in the web application (relative to the base URL). Unset: the
    nomination's page `nominations/{id}`; an inspection without it gets no link."""
    workflow_title_en: str | None = None
    """The English part's titles (the award path's and state's English names); unset: the
    Vietnamese ones."""
    state_title_en: str | None = None


@dataclass(frozen=True)
class Digest:
    """Everything one officer has to act on, gathered by one reminder run."""

    recipient_email: str
    recipient_name: str
    items: tuple[DigestItem, ...]

    @property
    def kind_counts(self) -> dict[str, int]:
        """How many items of each kind (before, due, overdue), zeros included."""
        counts = Counter(item.kind for item in self.items)
        return {kind: counts.get(kind, 0) for kind in ("before", "due", "overdue")}


@dataclass(frozen=True)
class StepNotice:
    """One step someone took on a nomination that its proposer should hear about."""

    recipient_email: str
    recipient_name: str
    nomination_id: int
    nominee_name: str
    workflow_title: str
    headline_vi: str
    """e.g. "Hồ sơ đã bị trả lại để bổ sung"."""
    headline_en: str
    """e.g. "The nomination was returned for completion"."""
    state_title: str
    """Title of the state the nomination is in now."""
    actor_name: str
    occurred_at: datetime
    """When the step was taken; a naive value is taken as UTC."""
    reason: str | None = None
    workflow_title_en: str | None = None
    """The English part's titles (English names); unset: the Vietnamese ones."""
    state_title_en: str | None = None


@dataclass(frozen=True)
class InspectionVisit:
    """One visit of an inspection plan, seen from the notified unit."""

    counterpart: str
    """The other unit: the one inspected, or the one inspecting."""
    starts_on: date
    ends_on: date | None = None


@dataclass(frozen=True)
class InspectionNotice:
    """A unit's visits in a bloc's cross-inspection plan, as inspector and as inspected."""

    recipient_email: str
    recipient_name: str
    unit_name: str
    bloc_name: str
    year: int
    period_start: date
    period_end: date
    as_inspector: tuple[InspectionVisit, ...]
    as_inspected: tuple[InspectionVisit, ...]


def message_id_for(ledger_key: str) -> str:
    """The Message-ID that every send of `ledger_key` carries."""
    digest = hashlib.sha256(nfc(ledger_key).encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@khenthuong>"


def nfc(text: str) -> str:
    """`text` in Unicode NFC (precomposed Vietnamese letters)."""
    return unicodedata.normalize("NFC", text)


def render_pair(name: str, context: Mapping[str, Any]) -> tuple[str, str]:
    """Render `<name>.txt.j2` and `<name>.html.j2`; a missing variable raises UndefinedError."""
    text = ENV.get_template(f"{name}.txt.j2").render(context)
    html = ENV.get_template(f"{name}.html.j2").render(context)
    return nfc(text), nfc(html)


def render_digest(
    digest: Digest, *, ledger_key: str, sender: Sender, sent_at: datetime | None = None
) -> EmailMessage:
    """The reminder digest for one officer (items sorted: overdue, due today, upcoming)."""
    if not digest.items:
        raise ValueError("a digest needs at least one item")
    items = sorted(digest.items, key=lambda i: (_KIND_ORDER[i.kind], i.due_on, i.nomination_id))
    counts = digest.kind_counts
    context = {
        "recipient_name": digest.recipient_name,
        "items": [_item_view(item, sender) for item in items],
        "total": len(items),
        "counts": counts,
        "base_url": sender.base_url,
    }
    text, html = render_pair("digest", context)
    extra = []
    if counts["overdue"]:
        extra.append(f"{counts['overdue']} quá hạn")
    if counts["due"]:
        extra.append(f"{counts['due']} đến hạn hôm nay")
    subject = f"{SUBJECT_PREFIX} {len(items)} hồ sơ cần xử lý"
    if extra:
        subject += f" ({', '.join(extra)})"
    return _message(
        subject=subject,
        to=(digest.recipient_name, digest.recipient_email),
        text=text,
        html=html,
        ledger_key=ledger_key,
        sender=sender,
        sent_at=sent_at,
    )


def render_step_notice(
    notice: StepNotice, *, ledger_key: str, sender: Sender, sent_at: datetime | None = None
) -> EmailMessage:
    """A single notification about a step on a nomination (returned, rejected, decided)."""
    context = {
        "recipient_name": notice.recipient_name,
        "nomination_id": notice.nomination_id,
        "nominee_name": notice.nominee_name,
        "workflow_title": notice.workflow_title,
        "workflow_title_en": notice.workflow_title_en or notice.workflow_title,
        "state_title_en": notice.state_title_en or notice.state_title,
        "headline_vi": notice.headline_vi,
        "headline_en": notice.headline_en,
        "state_title": notice.state_title,
        "actor_name": notice.actor_name,
        "occurred_at": format_local(notice.occurred_at),
        "reason": notice.reason,
        "url": sender.link(f"nominations/{notice.nomination_id}"),
        "base_url": sender.base_url,
    }
    text, html = render_pair("step_notice", context)
    return _message(
        subject=f"{SUBJECT_PREFIX} Hồ sơ #{notice.nomination_id}: {notice.headline_vi}",
        to=(notice.recipient_name, notice.recipient_email),
        text=text,
        html=html,
        ledger_key=ledger_key,
        sender=sender,
        sent_at=sent_at,
    )


@dataclass(frozen=True)
class MailAlert:
    """Mail has been failing for a while: what an administrator is told."""

    recipient_email: str
    recipient_name: str
    since: datetime
    error: str
    waiting: int
    """Reminders and notices that failed at least once and wait (or were given up)."""


def render_mail_alert(
    alert: MailAlert, *, ledger_key: str, sender: Sender, sent_at: datetime | None = None
) -> EmailMessage:
    """To an administrator: mail could not be delivered from `since` on, and why."""
    context = {
        "recipient_name": alert.recipient_name,
        "since": format_local(alert.since),
        "error": alert.error,
        "waiting": alert.waiting,
        "base_url": sender.base_url,
    }
    text, html = render_pair("mail_alert", context)
    return _message(
        subject=f"{SUBJECT_PREFIX} Thư điện tử không gửi được từ {context['since']}",
        to=(alert.recipient_name, alert.recipient_email),
        text=text,
        html=html,
        ledger_key=ledger_key,
        sender=sender,
        sent_at=sent_at,
    )


def render_inspection_notice(
    notice: InspectionNotice, *, ledger_key: str, sender: Sender, sent_at: datetime | None = None
) -> EmailMessage:
    """A unit's cross-inspection schedule: whom it visits and who visits it, with dates."""
    context = {
        "recipient_name": notice.recipient_name,
        "unit_name": notice.unit_name,
        "bloc_name": notice.bloc_name,
        "year": notice.year,
        "period": format_span(notice.period_start, notice.period_end),
        "as_inspector": _visit_views(notice.as_inspector),
        "as_inspected": _visit_views(notice.as_inspected),
        "base_url": sender.base_url,
    }
    text, html = render_pair("inspection_plan", context)
    return _message(
        subject=f"{SUBJECT_PREFIX} Kế hoạch kiểm tra chéo năm {notice.year} – {notice.bloc_name}",
        to=(notice.recipient_name, notice.recipient_email),
        text=text,
        html=html,
        ledger_key=ledger_key,
        sender=sender,
        sent_at=sent_at,
    )


def format_date(day: date) -> str:
    """dd/mm/yyyy, as Vietnamese documents write dates."""
    return day.strftime("%d/%m/%Y")


def format_span(start: date, end: date | None) -> str:
    """One date, or 'dd/mm/yyyy – dd/mm/yyyy' for a span of days."""
    if end is None or end == start:
        return format_date(start)
    return f"{format_date(start)} – {format_date(end)}"


def format_local(moment: datetime) -> str:
    """'HH:MM dd/mm/yyyy' in Vietnam time; a naive value is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_TZ).strftime("%H:%M %d/%m/%Y")


def _days(n: int, en: bool) -> str:
    if en:
        return f"{n} working day" + ("" if n == 1 else "s")
    return f"{n} ngày làm việc"


def _item_view(item: DigestItem, sender: Sender) -> dict[str, Any]:
    left = item.working_days_left
    if item.kind == "overdue" or left < 0:
        late = max(-left, 0)
        # Past the due date but no working day lost yet (due on Friday, read on Saturday).
        left_vi = f"quá hạn {_days(late, False)}" if late else "đã quá hạn"
        left_en = f"overdue by {_days(late, True)}" if late else "overdue"
    elif left == 0:
        left_vi, left_en = "đến hạn hôm nay", "due today"
    else:
        left_vi, left_en = f"còn {_days(left, False)}", f"{_days(left, True)} left"
    kind_vi, kind_en = _KIND_TEXT[item.kind]
    path = item.path or (
        f"nominations/{item.nomination_id}" if item.subject == "nomination" else None
    )
    return {
        "nomination_id": item.nomination_id,
        "nominee_name": item.nominee_name,
        "workflow_title": item.workflow_title,
        "state_title": item.state_title,
        "workflow_title_en": item.workflow_title_en or item.workflow_title,
        "state_title_en": item.state_title_en or item.state_title,
        "due": format_date(item.due_on),
        "left_vi": left_vi,
        "left_en": left_en,
        "kind": item.kind,
        "kind_vi": kind_vi,
        "kind_en": kind_en,
        "label_vi": "Hồ sơ" if item.subject == "nomination" else "Lượt kiểm tra chéo",
        "label_en": "Nomination" if item.subject == "nomination" else "Cross-inspection visit",
        "url": sender.link(path) if path else None,
    }


def _visit_views(visits: Sequence[InspectionVisit]) -> list[dict[str, str]]:
    ordered = sorted(visits, key=lambda v: (v.starts_on, v.counterpart))
    return [
        {"counterpart": v.counterpart, "dates": format_span(v.starts_on, v.ends_on)}
        for v in ordered
    ]


_EW_BYTES = 45
"""UTF-8 bytes per encoded word: base64 of 45 bytes is 60 characters, 72 with the chrome,
inside RFC 2047's 75."""


def _encoded_words(text: str) -> list[str]:
    """`text` as RFC 2047 base64 encoded words, spaces included, split before a space where
    a word fits (between characters only inside a word too long for one)."""
    chunks: list[bytes] = []
    chunk = b""
    for piece in re.split(r"(?= )", text):
        data = piece.encode("utf-8")
        if chunk and len(chunk) + len(data) > _EW_BYTES:
            chunks.append(chunk)
            chunk = b""
        if len(data) <= _EW_BYTES - len(chunk):
            chunk += data
            continue
        for char in piece:
            encoded = char.encode("utf-8")
            if len(chunk) + len(encoded) > _EW_BYTES:
                chunks.append(chunk)
                chunk = b""
            chunk += encoded
    if chunk:
        chunks.append(chunk)
    return [f"=?utf-8?b?{base64.b64encode(c).decode('ascii')}?=" for c in chunks]


def _fold_non_ascii(name: str, value: Any, policy: EmailPolicy) -> str | None:
    """A non-ASCII header folded with every character inside encoded words; None otherwise.

    Python's own folder (before 3.13) loses or adds spaces where it splits a long non-ASCII
    header between encoded words: "Kế hoạchkiểm tra", "Viện kiểm sát nhân dân t ối cao".
    Whitespace between adjacent encoded words is dropped by readers, so spaces are kept
    inside the words here and the reader puts the text back exactly.
    """
    text = str(value)
    if text.isascii():
        return None
    groups: list[list[str]] = []
    if hasattr(value, "addresses"):
        for address in value.addresses:
            if not address.addr_spec.isascii():
                return None
            if address.display_name and not address.display_name.isascii():
                groups.append([*_encoded_words(address.display_name), f"<{address.addr_spec}>"])
            else:
                groups.append([str(address)])
        tokens = [t for g in groups[:-1] for t in [*g[:-1], g[-1] + ","]] + groups[-1]
    else:
        tokens = _encoded_words(text)
    width = policy.max_line_length or 78
    lines = [f"{name}: {tokens[0]}"]
    for token in tokens[1:]:
        if len(lines[-1]) + 1 + len(token) > width:
            lines.append(f" {token}")
        else:
            lines[-1] += f" {token}"
    return policy.linesep.join(lines) + policy.linesep


class _MailPolicy(EmailPolicy):
    """The default e-mail policy, with non-ASCII headers folded by `_fold_non_ascii`."""

    def fold(self, name: str, value: Any) -> str:
        """A header for text output."""
        return _fold_non_ascii(name, value, self) or super().fold(name, value)

    def fold_binary(self, name: str, value: Any) -> bytes:
        """A header for the wire (SMTP) or a file (Maildir)."""
        folded = None if self.utf8 else _fold_non_ascii(name, value, self)
        return folded.encode("ascii") if folded else super().fold_binary(name, value)


MAIL_POLICY = _MailPolicy()


def _message(
    *,
    subject: str,
    to: tuple[str, str],
    text: str,
    html: str,
    ledger_key: str,
    sender: Sender,
    sent_at: datetime | None,
) -> EmailMessage:
    msg = EmailMessage(policy=MAIL_POLICY)
    msg["Subject"] = nfc(subject)
    msg["From"] = Address(display_name=nfc(sender.name), addr_spec=sender.address)
    msg["To"] = Address(display_name=nfc(to[0]), addr_spec=to[1])
    msg["Date"] = format_datetime(sent_at or datetime.now(UTC))
    msg["Message-ID"] = message_id_for(ledger_key)
    msg[KEY_HEADER] = nfc(ledger_key)
    # Quoted-printable keeps the message 7-bit clean for relays without 8BITMIME.
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return msg
