"""Search keys that ignore Vietnamese diacritics, case and NFC/NFD differences (pure)."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """'Nguyễn Văn Đức' -> 'nguyen van duc' (NFC or NFD input alike)."""
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.replace("đ", "d").replace("Đ", "D")
    return " ".join(stripped.lower().split())


def name_key(text: str) -> str:
    """A person's name as compared against the register: NFC, single spaces, case folded,
    diacritics kept ('trần  thị bích' == 'Trần Thị Bích' != 'Tran Thi Bich')."""
    spaced = " ".join(unicodedata.normalize("NFC", text).split())
    return unicodedata.normalize("NFC", spaced.casefold())


def clean_name(text: str) -> str:
    """A name as stored: NFC, single spaces, no leading or trailing space (case kept)."""
    return " ".join(unicodedata.normalize("NFC", text).split())
