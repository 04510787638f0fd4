"""The types of commendation (loại hình khen thưởng, Luật TĐKT 2022 Điều 8) and the names an
officer may type for them: shared by the rules, the services and the interfaces, so it
lives below all of them (pure)."""

from __future__ import annotations

from khenthuong.textsearch import fold

COMMENDATION_TYPES: dict[str, str] = {
    "cong_trang": "thường xuyên (theo công trạng và thành tích)",
    "chuyen_de": "theo đợt (chuyên đề)",
    "dot_xuat": "đột xuất",
    "cong_hien": "quá trình cống hiến",
    "nien_han": "theo niên hạn",
    "doi_ngoai": "đối ngoại",
}
"""Stored code -> Vietnamese name (Law 06/2022 Art 8, DOMAIN §1.2)."""

ALIASES: dict[str, str] = {
    "thuong_xuyen": "cong_trang",
    "theo_cong_trang": "cong_trang",
    "theo_dot": "chuyen_de",
    "theo_chuyen_de": "chuyen_de",
    "qua_trinh_cong_hien": "cong_hien",
    "theo_nien_han": "nien_han",
}
"""Vietnamese-friendly names (without diacritics) accepted beside the codes."""
SHOWN_ALIAS = {"cong_trang": "thuong_xuyen", "chuyen_de": "theo_dot"}
"""The friendly name shown beside a code in help texts and errors."""


def _key(text: str) -> str:
    return "_".join(fold(text).replace("-", " ").replace("_", " ").split())


def commendation_type_of(text: str | None) -> str | None:
    """The stored code of a type given as its code, its Vietnamese name or a friendly name
    ('thường xuyên', 'theo_dot', 'Đột xuất', 'cong_trang'); None when it is none of them."""
    if text is None:
        return None
    key = _key(text)
    if key in COMMENDATION_TYPES:
        return key
    if key in ALIASES:
        return ALIASES[key]
    for code, name in COMMENDATION_TYPES.items():
        if key in (_key(name), _key(name.split(" (")[0])):
            return code
    return None


def accepted_types() -> str:
    """The accepted values, each with its Vietnamese name, for help texts and errors:
    'thuong_xuyen/cong_trang: thường xuyên (…); theo_dot/chuyen_de: theo đợt (chuyên đề); …'."""
    return "; ".join(
        f"{SHOWN_ALIAS[code] + '/' if code in SHOWN_ALIAS else ''}{code}: {name}"
        for code, name in COMMENDATION_TYPES.items()
    )
