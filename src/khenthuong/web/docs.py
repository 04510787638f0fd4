"""/docs without the internet: Swagger UI served from the installed swagger-ui-bundle package
(not a CDN), and an OpenAPI document that declares how the API authenticates."""

from __future__ import annotations

from typing import Any

import swagger_ui_bundle
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from khenthuong.web.sessions import COOKIE_NAME

SWAGGER = "/static/swagger"
PUBLIC = frozenset({"/api/status"})
"""API paths that answer without credentials."""
FAVICON = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E"
    "%3Ccircle cx='8' cy='8' r='7' fill='%23b71c1c'/%3E%3C/svg%3E"
)


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "Problem details (RFC 9457); `detail` is the message for the officer.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "detail_en": {
            "type": "string",
            "description": "the same message in English, when it has one (never both in `detail`)",
        },
        "field": {"type": "string", "description": "the field at fault"},
        "errors": {
            "type": "array",
            "description": "422: each invalid field with its message",
            "items": {"type": "object", "additionalProperties": True},
        },
        "refusals": {
            "type": "array",
            "description": "a refused step: each reason (code, message, message_en)",
            "items": {"type": "object", "additionalProperties": True},
        },
        "current_state": {"type": "string", "description": "409: where the nomination is now"},
    },
    "additionalProperties": True,
}
PROBLEMS = {
    401: "Chưa đăng nhập hoặc mã truy cập không hợp lệ (no or bad credentials)",
    403: "Ngoài vai trò hoặc đơn vị của người gọi (outside the caller's roles or units)",
    404: "Không tìm thấy (not found)",
    422: "Dữ liệu không hợp lệ; `errors` nêu từng trường (invalid input, per field)",
}


def declare_problems(operation: dict[str, Any], path: str, *, secured: bool) -> None:
    """Declare the problem+json answers of one /api operation: 401 and 403 when it needs
    credentials, 404 when its path names an object, 422 always; answers it already declares
    (409, 413 …) keep their description and get the problem body."""
    responses = operation.setdefault("responses", {})
    wanted = [422] + ([401, 403] if secured else []) + ([404] if "{" in path else [])
    for status in wanted:
        responses.setdefault(str(status), {"description": PROBLEMS[status]})
    body = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for status, response in responses.items():
        if status.startswith(("4", "5")):
            response["content"] = body
            if status == "422":
                response["description"] = PROBLEMS[422]


def install_docs(app: FastAPI) -> None:
    """Mount the bundled Swagger UI at /docs and add the bearer scheme to the OpenAPI."""
    app.mount(SWAGGER, StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="khenthuong – API",
            swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER}/swagger-ui.css",
            swagger_favicon_url=FAVICON,
        )

    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        schema.setdefault("components", {})["securitySchemes"] = {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "Mã truy cập: `khenthuong users token TÊN` (Authorization: Bearer …)",
            },
            "sessionCookie": {"type": "apiKey", "in": "cookie", "name": COOKIE_NAME},
        }
        schema["components"].setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        for path, operations in schema.get("paths", {}).items():
            if not path.startswith("/api/"):
                continue
            for operation in operations.values():
                declare_problems(operation, path, secured=path not in PUBLIC)
                if path not in PUBLIC:
                    operation.setdefault("security", [{"bearerAuth": []}, {"sessionCookie": []}])
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
