"""Unit-path scope as SQL: units are stored with their materialised path (/BCY/CCYQD/)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, true


def path_filter(column: ColumnElement[str], paths: tuple[str, ...] | None) -> ColumnElement[bool]:
    """A WHERE clause keeping rows whose unit path lies under one of `paths`."""
    if paths is None:
        return true()
    if not paths:
        return false()
    return or_(*(column.startswith(p, autoescape=True) for p in paths))
