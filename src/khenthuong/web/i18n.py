"""Strings of the web UI in Vietnamese (default) and English: gettext catalogs read with Babel.

The catalogs are `src/khenthuong/locale/<lang>/LC_MESSAGES/messages.po`; a message id is a short
key (`queue`, `days_left`) and its text may hold `{placeholders}`. `scripts/install` compiles
them to `messages.mo` (`pybabel compile`); when a `.mo` is missing or older than its `.po` (a
fresh checkout, a test run) the `.po` is compiled in memory, so nothing is written at run time.

`STRINGS` is a thin fallback for keys not (yet) in the catalogs: a module may
`STRINGS.update({key: (vi, en)})` its own strings; the catalogs win when both hold a key.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGS = ("vi", "en")
DOMAIN = "messages"

STRINGS: dict[str, tuple[str, str]] = {}
"""Fallback strings (vi, en) by key, for modules that add their own without a catalog entry."""


def po_path(lang: str) -> Path:
    """The catalog source of a language."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def compiled(lang: str) -> Translations:
    """The language's catalog compiled in memory from its `.po` (no file written)."""
    with po_path(lang).open("rb") as handle:
        catalog = read_po(handle, locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


@cache
def translations(lang: str) -> Translations:
    """The compiled catalog of `lang` ('vi' or 'en'): the installed `.mo` when it is current."""
    lang = lang if lang in LANGS else "vi"
    po = po_path(lang)
    mo = po.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as handle:
            return Translations(handle, domain=DOMAIN)
    return compiled(lang)


def keys_with(prefix: str, lang: str = "vi") -> list[str]:
    """The catalog's keys that start with `prefix` (e.g. every named kind of audit event)."""
    return sorted(
        k for k in translations(lang)._catalog if isinstance(k, str) and k.startswith(prefix)
    )


def has_message(key: str, lang: str = "vi") -> bool:
    """Whether the catalog of `lang` translates `key`."""
    return translations(lang)._catalog.get(key) not in (None, "")


def translate(key: str, lang: str, **values: object) -> str:
    """The UI string `key` in `lang` ('vi' or 'en'), with {placeholders} filled."""
    text = translations(lang).gettext(key)
    if text == key and key in STRINGS:
        vi, en = STRINGS[key]
        text = en if lang == "en" else vi
    return text.format(**values) if values else text
