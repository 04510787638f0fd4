"""One way to page every /api list: `{items, next_cursor}`, asked with `limit` and `cursor`.

A cursor is opaque to clients (base64url of the sort key of the last item shown); pass the
`next_cursor` of one page as `cursor` to get the next, until `next_cursor` is null. Lists are
keyset-paged, so an item inserted meanwhile is never shown twice nor skipped before the key.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Annotated, Any, Generic, TypeVar

import pydantic_core
from fastapi import Query
from fastapi.responses import Response
from pydantic import BaseModel

from khenthuong.web.problems import ApiProblem

T = TypeVar("T")

CURSOR_HELP = "next_cursor of the previous page (omit for the first page)"
CursorQuery = Annotated[str | None, Query(max_length=400, description=CURSOR_HELP)]


def limit_query(default: int = 100, most: int = 500) -> Any:
    """The `limit` parameter: items per page."""
    return Query(default, ge=1, le=most, description=f"Items per page (at most {most})")


class Page(BaseModel, Generic[T]):
    """One page of a list; pass `next_cursor` as `cursor` for the next (null: last page)."""

    items: list[T]
    next_cursor: str | None = None


def page_response(page: Page[Any]) -> Response:
    """`page` as the JSON FastAPI would send for it, serialised once.

    The route keeps `response_model=Page[…]` for its OpenAPI schema; returning this Response
    skips FastAPI's second validation of the returned items against that model (and the
    worker-thread hop it takes for it): the items were validated when they were built. The
    bytes are those of FastAPI's own path (it serialises with the same pydantic `dump_json`).
    """
    return Response(content=page.model_dump_json(), media_type="application/json")


def items_response(items: list[dict[str, Any]], next_cursor: str | None) -> Response:
    """A page of items given as plain dicts (the model's fields, in its order, with its
    types), written as `page_response` would write the page of models: the same bytes, with
    no model built per item. The route's `response_model` still documents the schema."""
    body = pydantic_core.to_json({"items": items, "next_cursor": next_cursor})
    return Response(content=body, media_type="application/json")


def encode_cursor(*key: Any) -> str:
    """The opaque cursor of a sort key (ints, strings, ISO dates or None)."""
    raw = json.dumps(list(key), separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, types: Sequence[type | tuple[type, ...]]) -> list[Any]:
    """The sort key carried by `cursor`; a cursor this API did not write is a 422 on `cursor`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        key = None
    if (
        not isinstance(key, list)
        or len(key) != len(types)
        or not all(
            isinstance(v, t) and not isinstance(v, bool) for v, t in zip(key, types, strict=True)
        )
    ):
        raise bad_cursor()
    return key


def bad_cursor() -> ApiProblem:
    """The 422 for a cursor this API did not write."""
    return ApiProblem(
        422,
        "Con trỏ trang không hợp lệ: dùng next_cursor của trang trước",
        field="cursor",
        errors=[{"field": "cursor", "message": "not a next_cursor of this list", "type": "cursor"}],
    )


def cut(rows: list[T], limit: int, key: Callable[[T], Sequence[Any]]) -> tuple[list[T], str | None]:
    """Rows read with `limit + 1`: the page and the cursor after its last row (None at the end)."""
    if len(rows) > limit:
        return rows[:limit], encode_cursor(*key(rows[limit - 1]))
    return rows, None


def page_in_memory(
    items: Iterable[T], key: Callable[[T], Any], cursor: str | None, limit: int
) -> Page[T]:
    """A page of a short list held in memory (units, workflows…), ordered by a unique text key."""
    after = decode_cursor(cursor, [str])[0] if cursor else None
    ordered = sorted(items, key=key)
    rows = [i for i in ordered if after is None or key(i) > after]
    page, next_cursor = cut(rows[: limit + 1], limit, lambda i: [key(i)])
    return Page[T](items=page, next_cursor=next_cursor)
