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
        for path, operations in schema.get("paths", {}).items():
            if not path.startswith("/api/") or path in PUBLIC:
                continue
            for operation in operations.values():
                operation.setdefault("security", [{"bearerAuth": []}, {"sessionCookie": []}])
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
