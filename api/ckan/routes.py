"""HTTP face of the CKAN action API: ``/api/3/action/<name>`` (and ``/api/action/<name>``, which
``ckanapi`` uses), by GET with query parameters or POST with a JSON object, as CKAN takes them.

Answers are CKAN's envelope, ``{"help", "success": true, "result"}``; errors are
``{"help", "success": false, "error": {"__type", "message", <field>: [...]}}`` with CKAN's status
(404 Not Found Error, 409 Validation Error, 400 for a bad request) and 503 Search Error when the
index cannot answer. Errors are handled here rather than by the app's handlers, which answer
``{"error": ...}`` for the rest of the API.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.ckan.actions import ACTIONS, CkanError, Context, ValidationError
from api.ckan.query import ParameterError
from api.deps import get_state
from index.base import IndexUnavailable

router = APIRouter()
PREFIXES = ("/api/3/action", "/api/action")
MAX_BODY = 1_000_000

_PARAMETERS: dict[str, list[dict[str, Any]]] = {
    "package_search": [
        {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "words to find; *:* for all"},
        {
            "name": "fq",
            "in": "query",
            "schema": {"type": "string"},
            "description": "filters, e.g. `organization:seattle-wa groups:use_of_force "
            "metadata_modified:[2024-01-01T00:00:00Z TO *]`",
        },
        {"name": "rows", "in": "query", "schema": {"type": "integer", "default": 10, "maximum": 1000}},
        {"name": "start", "in": "query", "schema": {"type": "integer", "default": 0}},
        {
            "name": "sort",
            "in": "query",
            "schema": {"type": "string", "default": "score desc, metadata_modified desc"},
            "description": "score desc, metadata_modified desc, name asc or id asc",
        },
        {
            "name": "facet.field",
            "in": "query",
            "schema": {"type": "string"},
            "description": 'JSON list, e.g. ["organization","groups","tags","res_format"]',
        },
        {"name": "facet.limit", "in": "query", "schema": {"type": "integer", "default": 50}},
        {"name": "facet.mincount", "in": "query", "schema": {"type": "integer", "default": 1}},
    ],
    "package_show": [{"name": "id", "in": "query", "required": True, "schema": {"type": "string"}}],
    "package_list": [
        {"name": "limit", "in": "query", "schema": {"type": "integer"}},
        {"name": "offset", "in": "query", "schema": {"type": "integer"}},
    ],
    "organization_show": [{"name": "id", "in": "query", "required": True, "schema": {"type": "string"}}],
    "group_show": [{"name": "id", "in": "query", "required": True, "schema": {"type": "string"}}],
    "help_show": [{"name": "name", "in": "query", "required": True, "schema": {"type": "string"}}],
}


def _help(request: Request, name: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/api/3/action/help_show?name={name}"


def _error(request: Request, name: str, status: int, error: dict[str, Any], **headers: str) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content={"help": _help(request, name), "success": False, "error": error},
        headers=headers or None,
    )


async def _data(request: Request) -> dict[str, Any]:
    """The data dict: query parameters (repeated ones as lists), and on POST the JSON object body."""
    data: dict[str, Any] = {}
    for key in request.query_params:
        values = request.query_params.getlist(key)
        data[key] = values if len(values) > 1 else values[0]
    if request.method == "POST":
        body = await request.body()
        if len(body) > MAX_BODY:
            raise CkanError(f"Bad request - body larger than {MAX_BODY} bytes")
        if body.strip():
            try:
                parsed = json.loads(body)
            except ValueError as exc:
                raise CkanError(f"Bad request - JSON Error: {exc}") from None
            if not isinstance(parsed, dict):
                raise CkanError("Bad request - JSON Error: the body must be a JSON object")
            data.update(parsed)
    return data


async def call_action(request: Request, name: str) -> JSONResponse:
    fn = ACTIONS.get(name)
    if fn is None:
        message = f"Bad request - Action name not known: {name}"
        return _error(request, name, 400, {"__type": "Bad Request", "message": message})
    state = get_state(request)
    ctx = Context(store=state.store, index=state.index, seed=state.seed, api_url=str(request.base_url).rstrip("/"))
    try:
        data = await _data(request)
        result = await run_in_threadpool(fn, ctx, data)
    except ParameterError as exc:
        err = ValidationError.of(exc)
        return _error(request, name, err.status, err.body())
    except CkanError as exc:
        return _error(request, name, exc.status, exc.body())
    except IndexUnavailable as exc:
        message = f"Search Error: the search index is unavailable: {exc}"
        return _error(request, name, 503, {"__type": "Search Error", "message": message}, **{"Retry-After": "30"})
    return JSONResponse({"help": _help(request, name), "success": True, "result": result})


def _endpoint(name: str) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def endpoint(request: Request) -> JSONResponse:
        return await call_action(request, name)

    endpoint.__name__ = f"ckan_{name}"
    return endpoint


def _add_routes() -> None:
    for name, fn in sorted(ACTIONS.items()):
        doc = (fn.__doc__ or "").strip()
        summary = doc.splitlines()[0] if doc else name
        for prefix in PREFIXES:
            for method in ("GET", "POST"):
                router.add_api_route(
                    f"{prefix}/{name}",
                    _endpoint(name),
                    methods=[method],
                    tags=["ckan"],
                    summary=f"CKAN {name}: {summary}",
                    description=doc + "\n\nGET takes query parameters; POST a JSON object.",
                    name=f"ckan_{name}_{method.lower()}" + ("" if prefix == PREFIXES[0] else "_unversioned"),
                    include_in_schema=prefix == PREFIXES[0],
                    openapi_extra={"parameters": _PARAMETERS.get(name, [])} if method == "GET" else None,
                    response_class=JSONResponse,
                )

    async def unknown(request: Request) -> JSONResponse:
        return await call_action(request, request.path_params["name"])

    for prefix in PREFIXES:
        router.add_api_route(f"{prefix}/{{name}}", unknown, methods=["GET", "POST"], include_in_schema=False)


_add_routes()
