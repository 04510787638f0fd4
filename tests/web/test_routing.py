"""The application's routes are one flat list (web/routing.py): the same routes, the same
OpenAPI document and the same answers as `include_router` gives, without its nested walk."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Depends, FastAPI, Header
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute

from khenthuong.web import api_nominations, ui, ui_queue
from khenthuong.web.routing import add_routes


def _paths(routes: list[BaseRoute]) -> set[tuple[str, frozenset[str]]]:
    return {(getattr(r, "path", ""), frozenset(getattr(r, "methods", None) or ())) for r in routes}


def test_the_application_routes_are_flat(client: TestClient) -> None:
    routes = client.app.routes  # type: ignore[attr-defined]
    nested = [r for r in routes if not hasattr(r, "path")]
    assert not nested, f"{len(nested)} routers kept nested"
    flat = _paths(routes)
    assert _paths(api_nominations.router.routes) <= flat
    assert _paths(ui_queue.router.routes) <= flat  # through ui.router
    assert ("/queue", frozenset({"GET"})) in _paths(ui.router.routes)
    assert client.get("/api/queue").status_code == 401  # routed, then refused unsigned
    assert client.get("/queue", follow_redirects=False).status_code == 303


def _demo_routers() -> list[APIRouter]:
    def caller(x_caller: str = Header("anon")) -> str:
        return x_caller

    api = APIRouter(prefix="/api", tags=["demo"], dependencies=[Depends(caller)])

    @api.get("/items/{item_id}", summary="One item", responses={404: {"description": "No"}})
    def item(item_id: int, who: str = Depends(caller)) -> dict[str, object]:
        return {"id": item_id, "who": who}

    @api.post("/items", status_code=201)
    def add(name: str) -> dict[str, str]:
        return {"name": name}

    pages = APIRouter(include_in_schema=False)

    @pages.get("/items/{code}")
    def page(code: str) -> dict[str, str]:
        return {"page": code}

    return [api, pages]


def _app(join: str) -> FastAPI:
    app = FastAPI(title="demo")
    for router in _demo_routers():
        if join == "include":
            app.include_router(router)
        else:
            add_routes(app.router, router)
    return app


def test_add_routes_gives_what_include_router_gives() -> None:
    included, added = _app("include"), _app("add")
    assert added.openapi() == included.openapi()
    assert "/items/{code}" not in added.openapi()["paths"]  # include_in_schema kept
    assert added.openapi()["paths"]["/api/items/{item_id}"]["get"]["tags"] == ["demo"]
    requests = [
        ("GET", "/api/items/7", {"X-Caller": "cb.qd"}),
        ("GET", "/api/items/x", {}),  # 422: the path's type
        ("DELETE", "/api/items/7", {}),  # 405
        ("POST", "/api/items?name=a", {}),
        ("GET", "/items/abc", {}),
        ("GET", "/nothing", {}),  # 404
    ]
    with TestClient(included) as a, TestClient(added) as b:
        for method, url, headers in requests:
            ra, rb = (
                a.request(method, url, headers=headers),
                b.request(method, url, headers=headers),
            )
            assert (rb.status_code, rb.json(), rb.headers.get("allow")) == (
                ra.status_code,
                ra.json(),
                ra.headers.get("allow"),
            ), (method, url)


def test_a_router_with_startup_handlers_is_refused() -> None:
    """Its handlers would be dropped: `add_routes` says so instead of losing them."""
    router = APIRouter(on_startup=[lambda: None])
    with pytest.raises(ValueError, match="startup"):
        add_routes(FastAPI().router, router)
