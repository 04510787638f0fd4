"""Errors as problem details (RFC 9457) with a message an officer understands."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from khenthuong.errors import (
    BatchRefused,
    Forbidden,
    InvalidDefinition,
    KhenthuongError,
    NotFound,
    Refusal,
    StepRefused,
    VersionConflict,
)

log = logging.getLogger("khenthuong.web")
PROBLEM_JSON = "application/problem+json"
FORBIDDEN_CODES = frozenset({"role", "four_eyes", "scope", "read_only"})

TITLES = {
    400: "Yêu cầu không hợp lệ",
    401: "Cần đăng nhập",
    403: "Không có quyền",
    404: "Không tìm thấy",
    405: "Phương thức không được hỗ trợ",
    409: "Xung đột trạng thái",
    413: "Tệp quá lớn",
    422: "Dữ liệu không hợp lệ",
    429: "Quá nhiều lần thử",
    500: "Lỗi hệ thống",
}


class ApiProblem(Exception):
    """Raised by handlers for a problem that is not a domain error (401, 429, ...)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def problem(
    status: int, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """A problem-details response."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": TITLES.get(status, "Lỗi"),
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _refusals(refusals: list[Refusal]) -> list[dict[str, Any]]:
    return [
        {"code": r.code, "message": r.message_vi, "message_en": r.message_en, **r.details}
        for r in refusals
    ]


def status_of_refusals(refusals: list[Refusal]) -> int:
    """403 for role/scope/four-eyes refusals, 409 for a wrong state, 422 otherwise."""
    codes = {r.code for r in refusals}
    if codes & FORBIDDEN_CODES:
        return 403
    if codes == {"state"}:
        return 409
    if codes == {"not_found"}:
        return 404
    return 422


def error_response(exc: KhenthuongError) -> JSONResponse:
    """The problem-details response for a domain error; `detail` in Vietnamese, `detail_en`
    the English of it when the error has one."""
    en: dict[str, Any] = {"detail_en": exc.en} if exc.en else {}
    if isinstance(exc, VersionConflict):
        return problem(
            409,
            str(exc),
            nomination_id=exc.nomination_id,
            current_state=exc.current_state,
            current_version=exc.current_version,
            **en,
        )
    if isinstance(exc, StepRefused):
        return problem(
            status_of_refusals(exc.refusals),
            str(exc),
            nomination_id=exc.nomination_id,
            refusals=_refusals(exc.refusals),
            **en,
        )
    if isinstance(exc, BatchRefused):
        every = [r for refs in exc.failures.values() for r in refs]
        return problem(
            status_of_refusals(every),
            str(exc),
            failures={str(nid): _refusals(refs) for nid, refs in exc.failures.items()},
            **en,
        )
    if isinstance(exc, NotFound):
        return problem(404, str(exc), **en)
    if isinstance(exc, Forbidden):
        return problem(403, str(exc), **en)
    if isinstance(exc, InvalidDefinition):
        return problem(422, str(exc), problems=[str(p) for p in exc.problems], **en)
    return problem(422, str(exc), **en)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or str(loc[0] if loc else "")


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem details."""

    from khenthuong.web import ui_common  # noqa: PLC0415  (pages need the app's problems first)
    from khenthuong.web.i18n import translate  # noqa: PLC0415

    @app.exception_handler(KhenthuongError)
    async def domain_error(request: Request, exc: KhenthuongError) -> Response:
        response = error_response(exc)
        if response.status_code == 403 and not getattr(exc, "logged", False):
            from khenthuong.web.context import ctx_of, log_denied  # noqa: PLC0415

            who = getattr(request.state, "username", "?")
            await run_in_threadpool(log_denied, ctx_of(request), request, who, str(exc))
        if ui_common.wants_page(request):
            message = ui_common.refusal_text(exc, ui_common.lang_of(request))
            return await run_in_threadpool(
                ui_common.error_page, request, response.status_code, message
            )
        return response

    @app.exception_handler(ApiProblem)
    async def api_problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return problem(exc.status, exc.detail, headers=exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def invalid_input(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"field": _field(e.get("loc", ())), "message": e.get("msg", ""), "type": e["type"]}
            for e in exc.errors()
        ]
        names = ", ".join(dict.fromkeys(e["field"] for e in errors))
        if ui_common.wants_page(request):
            text = translate("invalid_field", ui_common.lang_of(request), names=names)
            return await run_in_threadpool(ui_common.error_page, request, 422, text)
        return problem(
            422,
            f"Dữ liệu không hợp lệ ở trường: {names}",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if ui_common.wants_page(request):
            page = await run_in_threadpool(ui_common.error_page, request, exc.status_code)
            page.headers.update(dict(exc.headers or {}))
            return page
        return problem(exc.status_code, str(exc.detail), headers=dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if ui_common.wants_page(request):
            try:
                return await run_in_threadpool(ui_common.error_page, request, 500)
            except Exception:
                log.exception("the error page failed too")
        return problem(500, "Lỗi hệ thống; đã ghi nhật ký")
