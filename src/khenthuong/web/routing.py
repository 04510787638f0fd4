"""Putting the routes of the application's routers into one flat list."""

from __future__ import annotations

from fastapi import APIRouter


def add_routes(target: APIRouter, *routers: APIRouter) -> None:
    """The routers' routes added to `target` as they are, in order (the first route that
    matches answers): each already carries its router's prefix, tags and `include_in_schema`
    (FastAPI applies them when a route is declared).

    Not `include_router`: since FastAPI 0.137 that keeps the router as one nested entry,
    and a request walks every nested route with its scope bookkeeping before the one it
    asks for (0.66 ms to reach `/queue` behind the API's routes on a 2-core VM, 0.30 ms
    flat; bench/http.py). The OpenAPI document is the same (tests/web/test_routing.py).
    What only inclusion adds is not used here: `include_router`'s own prefix, tags or
    dependencies arguments, and a router's lifespan or startup handlers.
    """
    for router in routers:
        if router.on_startup or router.on_shutdown:  # they would be dropped without a word
            raise ValueError("a router with startup or shutdown handlers needs include_router")
        target.routes.extend(router.routes)
