"""Every piece of help the CLI shows is in one language, Vietnamese (NFC): no English gloss
in parentheses after the Vietnamese, no English sentence, in any command's help, summary,
epilog, argument or option of the real command tree (every lazy mount loaded); values are
shown as Vietnamese words (NĂM, MÃ-ĐƠN-VỊ), not as English ones (YEAR, UNIT)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

import typer

from khenthuong.cli.app import app
from khenthuong.cli.common import VIETNAMESE, readable_help

ENGLISH_WORDS = frozenset(
    [
        "the",
        "and",
        "of",
        "or",
        "a",
        "an",
        "to",
        "with",
        "without",
        "for",
        "from",
        "is",
        "are",
        "be",
        "by",
        "its",
        "it",
        "this",
        "that",
        "each",
        "every",
        "when",
        "where",
        "which",
        "if",
        "not",
        "on",
        "at",
        "as",
        "also",
        "only",
        "into",
        "than",
        "has",
        "have",
    ]
)
"""Common English function words; two of them in one text mark it as English prose."""

CODE_LIKE = re.compile(
    r"`[^`]*`"  # `khenthuong audit verify`
    r"|'[^']*'|\"[^\"]*\"|“[^”]*”"  # quoted commands and values
    r"|--?[A-Za-z][\w-]*"  # option names
    r"|\b[A-Z][A-Z0-9_]*[A-Z0-9]\b"  # env var names, metavars (KHENTHUONG_BROKER_URL, TỆP)
    r"|\S*[-_./|:=@#\d]\S*"  # code-like values: docx|pdf, ke_hoach, bien-ban, .p12, 74.1.a
)

VIETNAMESE_PLAIN = frozenset(
    [
        "cho",
        "theo",
        "trong",
        "khi",
        "sau",
        "hai",
        "ba",
        "bon",
        "nam",
        "con",
        "chi",
        "thi",
        "tin",
        "ban",
        "can",
        "co",
        "la",
        "hay",
        "tai",
        "ra",
        "vao",
        "ai",
        "em",
    ]
)
"""Vietnamese words written without any diacritic (so "(cho Excel)" is no English gloss)."""


def _prose(text: str) -> str:
    """The text without what stays as written in any language (code, names, values)."""
    return CODE_LIKE.sub(" ", text)


def english_gloss(text: str) -> list[str]:
    """Parenthesised spans with English words and no Vietnamese letter: "(audit trail)"."""
    found = []
    for inner in re.findall(r"\(([^()]*(?:\([^()]*\)[^()]*)*)\)", text):
        words = [
            w for w in re.findall(r"\b[a-z]{2,}\b", _prose(inner)) if w not in VIETNAMESE_PLAIN
        ]
        if words and not any(ch in VIETNAMESE for ch in inner.lower()):
            found.append(f"({inner})")
    return found


def english_prose(text: str) -> list[str]:
    """The English function words of `text` outside code, when there are two or more."""
    words = [w for w in re.findall(r"\w+", _prose(text)) if w.lower() in ENGLISH_WORDS]
    return words if len(words) >= 2 else []


def _walk(command: Any, path: str) -> Iterator[tuple[str, Any]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():  # loads every lazy mount
        yield from _walk(sub, f"{path} {name}".strip())


def _texts(command: Any, path: str) -> Iterator[tuple[str, str]]:
    """(where, text) of every piece of help the command shows."""
    for attr in ("help", "short_help", "epilog"):
        text = getattr(command, attr, None)
        if text:
            yield f"{path or 'khenthuong'} [{attr}]", text
    for param in command.params:
        if getattr(param, "help", None):
            yield f"{path} {max(param.opts, key=len)}", param.help


def english_metavar(metavar: str | None) -> bool:
    """A value's word in English (SCORE, AS-USER); a list of choices (docx|pdf) is code."""
    word = (metavar or "").removesuffix("...")
    return len(word) > 1 and "|" not in word and not any(ch in VIETNAMESE for ch in word.lower())


def problems() -> list[str]:
    root = readable_help(typer.main.get_command(app))  # as `khenthuong` shows it
    found = []
    for path, command in _walk(root, ""):
        for where, text in _texts(command, path):
            if unicodedata.normalize("NFC", text) != text:
                found.append(f"{where}: not NFC")
            found.extend(f"{where}: gloss {gloss}" for gloss in english_gloss(text))
            if words := english_prose(text):
                found.append(f"{where}: English {words}: {' '.join(text.split())[:120]}")
        for param in command.params:
            if english_metavar(param.metavar):
                found.append(f"{path} {max(param.opts, key=len)}: shown as {param.metavar}")
        if "OPTIONS" in (command.options_metavar or ""):
            found.append(f"{path or 'khenthuong'}: usage shows {command.options_metavar}")
    return found


def test_the_detectors_see_what_they_should() -> None:
    """The checks themselves: the old mixed strings are caught, Vietnamese with code is not."""
    assert english_gloss("Nhật ký kiểm tra (audit trail).") == ["(audit trail)"]
    assert english_gloss("Định dạng: docx hoặc pdf (docx or pdf)") == ["(docx or pdf)"]
    assert english_gloss("Người dùng (officers).") == ["(officers)"]
    assert english_prose("Decision number, or NUMBER:YEAR when the number exists") != []
    assert english_prose("Serve HTTP; without KHENTHUONG_BROKER_URL also run reminders") != []
    assert english_prose("Counts of decided titles and awards by form") != []
    assert english_metavar("AS-USER") and english_metavar("NOMINATION-IDS...")
    assert not english_metavar("MÃ-ĐƠN-VỊ") and not english_metavar("docx|pdf")
    assert not english_metavar("N") and not english_metavar(None)
    for vietnamese in (
        "Định dạng: docx hoặc pdf",
        "Khóa công khai Ed25519 (PEM)",
        "Loại khen thưởng (cong_trang, dot_xuat, chuyen_de…)",
        "Chạy lại `khenthuong audit verify` (mã thoát 1 nếu có lỗi)",
        "Đọc mật khẩu từ đầu vào chuẩn (--password-stdin)",
        "Định dạng in ra: table (bảng), json (cho chương trình, có mã), csv (cho Excel).",
        "Số quyết định (quyet-dinh, danh-sach); số phiên họp (bien-ban)",
    ):
        assert english_gloss(vietnamese) == [] and english_prose(vietnamese) == [], vietnamese


def test_every_help_text_is_vietnamese_only() -> None:
    found = problems()
    assert found == [], f"{len(found)} help texts not in Vietnamese only:\n" + "\n".join(found)
