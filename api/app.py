"""The FastAPI application factory.

``create_app(settings, store, index, seed)`` builds an app over the given parts; routes declare
what they need as dependencies, so tests build it on a temporary store once per index backend.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import changes, coverage, exports, operations, routes, ui
from api.ckan import routes as ckan_routes
from api.deps import AppState
from api.oai import router as oai
from catalog_seed import Seed
from index.base import IndexUnavailable, InvalidCursor, SearchIndex
from pdi.settings import Settings
from store import Store

VERSION = "0.1.0"

DESCRIPTION = """
Federated search over the police datasets that the 53 Police Data Initiative jurisdictions publish
on their open-data portals, mapped onto one DCAT-US 1.1 catalog with a PDI extension
(jurisdiction, categories, source, freshness, columns).

Errors are JSON objects `{"error": "...", "detail": [...]}` with a 4xx status for bad input and
503 when the search index cannot answer — except at `/oai`, which answers with the OAI-PMH
protocol's own error codes in XML, as that protocol says, and under `/api/3/action/` (the
CKAN-compatible API), which answers in CKAN's envelope `{"help", "success", "result" | "error"}`.
"""


def create_app(
    settings: Settings,
    store: Store,
    index: SearchIndex,
    seed: Seed,
    trigger: Callable[[list[str] | None], dict[str, Any]] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    """``clock``: "now" for freshness statuses (default: the wall clock)."""
    app = FastAPI(
        title="PDI Catalog",
        version=VERSION,
        description=DESCRIPTION,
        openapi_tags=[
            {"name": "search", "description": "Federated search across every jurisdiction"},
            {"name": "datasets", "description": "One dataset's full record and history"},
            {"name": "jurisdictions", "description": "Participating jurisdictions and their portals"},
            {"name": "coverage", "description": "Commitment coverage and freshness, for a program office"},
            {"name": "harvests", "description": "Harvest runs, sources and the admin trigger"},
            {"name": "service", "description": "Health and metrics of the service"},
            {"name": "sync", "description": "For inventories that sync our metadata: OAI-PMH and the changes feed"},
            {"name": "exports", "description": "The catalog as DCAT-US data.json and searches as CSV"},
            {
                "name": "ckan",
                "description": "A CKAN-compatible action API subset (also at /api/action/...), so ckanapi "
                "and CKAN harvesters can sync from us; CKAN's envelope and errors",
            },
        ],
    )
    state = AppState(settings=settings, store=store, index=index, seed=seed, trigger=trigger)
    if clock is not None:
        state.clock = clock
    app.state.pdi = state

    # Errors are JSON for API clients and a page for the web UI (api/ui.py) and for browsers.
    def _error(
        request: Request, status: int, content: dict[str, Any], headers: Mapping[str, str] | None = None
    ) -> Response:
        if ui.is_page_request(request):
            return ui.error_page(request, status, content["error"], headers)
        return JSONResponse(status_code=status, content=content, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        details = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in exc.errors()]
        first = details[0] if details else {"loc": [], "msg": "invalid request"}
        where = ".".join(p for p in first["loc"] if p not in ("query", "path", "body")) or "request"
        return _error(request, 422, {"error": f"{where}: {first['msg']}", "detail": details})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return _error(request, exc.status_code, {"error": str(exc.detail)}, exc.headers)

    @app.exception_handler(InvalidCursor)
    async def _cursor(request: Request, exc: InvalidCursor) -> Response:
        return _error(request, 400, {"error": str(exc)})

    @app.exception_handler(IndexUnavailable)
    async def _index_down(request: Request, exc: IndexUnavailable) -> Response:
        return _error(request, 503, {"error": f"the search index is unavailable: {exc}"}, headers={"Retry-After": "30"})

    app.include_router(routes.router)
    app.include_router(coverage.router)
    app.include_router(operations.router)
    ui.install(app)
    app.include_router(changes.router)
    app.include_router(oai.router)
    app.include_router(exports.router)
    app.include_router(ckan_routes.router)  # answers its own errors in CKAN's envelope
    return app


def app_from_settings(settings: Settings) -> Any:
    from pdi.runtime import open_runtime

    rt = open_runtime(settings)
    return create_app(settings, rt.store, rt.index, rt.seed)
