"""Search keys that ignore Vietnamese diacritics, case and NFC/NFD differences (pure)."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """'Nguyễn Văn Đức' -> 'nguyen van duc' (NFC or NFD input alike)."""
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.replace("đ", "d").replace("Đ", "D")
    return " ".join(stripped.lower().split())
