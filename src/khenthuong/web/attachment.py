"""Downloads are attachments with a safe name (RFC 6266): never shown inline by the browser."""

from __future__ import annotations

from urllib.parse import quote

from khenthuong.uploads import safe_name


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266); folders
    and reserved characters are stripped from both."""
    name = safe_name(filename)
    fallback = "".join(c if " " <= c < "\x7f" and c not in '"\\' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
