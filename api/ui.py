"""The web UI: server-rendered pages for people, over the same functions as the JSON API.

Each page declares the JSON endpoint's own function as a dependency (``Depends(routes.search)``
and so on), so its query parameters are parsed and checked exactly as the API does and no query
logic is repeated here; this module only arranges the answer for reading. Nothing is built at
run time: Jinja2 templates in ``api/templates/`` and one stylesheet and one small script in
``api/static/``, served by the app itself (no CDN: many users are offline).

Portal text is untrusted. Templates autoescape everything and mark nothing ``safe``; links taken
from portals are kept only when they are http(s) (:func:`catalog.jsonld.http_url`); the JSON-LD
block is written by :func:`catalog.jsonld.script_json`; and every page carries a
Content-Security-Policy that allows scripts from this site only, so injected markup could not run
even if it got through.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from api import coverage, operations, routes
from api.coverage import CoverageHistoryResponse, CoverageResponse, CoverageSnapshot
from api.deps import get_clock, get_index, get_seed, get_store
from api.models import DatasetResponse, JurisdictionDetail, JurisdictionOut, SearchResponse
from api.operations import HarvestsResponse
from api.search_params import search_query, split_values
from catalog.jsonld import http_url, script_json, to_schema_org
from catalog.vocabulary import Category
from catalog_seed import Seed
from index.base import FACET_FIELDS, SearchIndex, SearchQuery, SortOrder
from store import Store

router = APIRouter(include_in_schema=False)

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",  # the JSON-LD block is data (application/ld+json), which CSP does not run
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}

FACET_TITLES = {
    "jurisdiction": "Jurisdiction",
    "state": "State",
    "category": "Category",
    "platform": "Platform",
    "format": "Format",
    "freshness": "Freshness",
}
PLATFORM_LABELS = {
    "socrata": "Socrata",
    "ckan": "CKAN",
    "arcgis_hub": "ArcGIS Hub",
    "arcgis_server": "ArcGIS Server",
    "opendatasoft": "OpenDataSoft",
    "dkan": "DKAN",
    "junar": "Junar",
    "html": "Department web page",
    "dcat_us": "DCAT-US data.json",
    "other": "Other",
}
FACETS_SHOWN = 8  # values listed before a facet's "more" disclosure
RECENCY = (("past 30 days", 30), ("past year", 365), ("past 3 years", 3 * 365))
# The search filters the API takes: every facet field that /api/search accepts as a parameter.
FILTERS = tuple(name for name in FACET_FIELDS if name in inspect.signature(search_query).parameters)


def category_label(value: str) -> str:
    return value.replace("_", " ").capitalize()


def platform_label(value: str) -> str:
    return PLATFORM_LABELS.get(value, value)


def freshness_label(value: str) -> str:
    return value.capitalize()


def when(value: datetime | str | None, with_time: bool = True) -> str:
    """A date or date-time as people read it, in UTC; text that is not one is shown as it is."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M UTC") if with_time else value.strftime("%Y-%m-%d")


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("api", "templates"),
        autoescape=True,  # every template, whatever its name
        undefined=StrictUndefined,
    )
    env.filters.update(
        http_url=http_url,
        when=when,
        day=lambda v: when(v, with_time=False),
        category_label=category_label,
        platform_label=platform_label,
        freshness_label=freshness_label,
    )
    env.globals.update(category_label=category_label)
    return env


TEMPLATES = Jinja2Templates(env=_environment())


def page(request: Request, name: str, context: Mapping[str, Any], status_code: int = 200) -> HTMLResponse:
    """One rendered page, with the security headers every UI page carries."""
    return TEMPLATES.TemplateResponse(request, name, dict(context), status_code=status_code, headers=PAGE_HEADERS)


# --- errors ------------------------------------------------------------------------------------


def is_page_request(request: Request) -> bool:
    """Whether an error should be answered as a page: the request was for a UI page, or it matched
    no route and a browser asked for HTML. API clients keep their JSON errors."""
    endpoint = request.scope.get("endpoint")
    if endpoint is not None:
        return getattr(endpoint, "__module__", None) == __name__
    return "text/html" in request.headers.get("accept", "")


def error_page(request: Request, status_code: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    response = page(request, "error.html", {"status_code": status_code, "message": message}, status_code)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


# --- search ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchLinks:
    """The current search as URL parameters, and the links that change one thing about it."""

    path: str
    q: str
    sort: str
    modified_after: str
    filters: dict[str, list[str]]
    size: str = ""

    @classmethod
    def from_request(cls, request: Request, path: str) -> SearchLinks:
        params = request.query_params
        return cls(
            path=path,
            q=(params.get("q") or "").strip(),
            sort=params.get("sort") or "",
            modified_after=params.get("modified_after") or "",
            size=params.get("size") or "",
            filters={
                name: split_values(params.getlist(name)) for name in FILTERS if split_values(params.getlist(name))
            },
        )

    @property
    def filter_pairs(self) -> list[tuple[str, str]]:
        return [(name, v) for name, values in self.filters.items() for v in values]

    def url(self, filters: dict[str, list[str]] | None = None, **extra: str) -> str:
        base = {"q": self.q, "sort": self.sort, "modified_after": self.modified_after, "size": self.size}
        pairs = [(k, v) for k, v in {**base, **extra}.items() if v]
        pairs += [(n, v) for n, vs in (self.filters if filters is None else filters).items() for v in vs]
        return self.path + ("?" + urlencode(pairs) if pairs else "")

    def active(self, name: str, value: str) -> bool:
        return value.lower() in {v.lower() for v in self.filters.get(name, [])}

    def toggle(self, name: str, value: str) -> str:
        """This search with ``value`` added to (or, when already there, removed from) filter ``name``."""
        current = self.filters.get(name, [])
        if self.active(name, value):
            values = [v for v in current if v.lower() != value.lower()]
        else:
            values = [*current, value]
        return self.url({**{k: v for k, v in self.filters.items() if k != name}, **({name: values} if values else {})})

    def without_filters(self) -> str:
        return self.url({})


def _facet_label(name: str, value: str, given: str | None) -> str:
    if name == "category":
        return category_label(value)
    if name == "platform":
        return platform_label(value)
    if name == "freshness":
        return freshness_label(value)
    return given or value


def _facets(result: SearchResponse, links: SearchLinks) -> list[dict[str, Any]]:
    order = {name: i for i, name in enumerate(FACET_TITLES)}
    facets = []
    for name in sorted(result.facets, key=lambda n: (order.get(n, len(order)), n)):
        values = [
            {
                "value": f.value,
                "label": _facet_label(name, f.value, f.label),
                "count": f.count,
                "active": links.active(name, f.value),
                "url": links.toggle(name, f.value) if name in FILTERS else None,
            }
            for f in result.facets[name]
        ]
        if values:
            facets.append({"name": name, "title": FACET_TITLES.get(name, name.capitalize()), "values": values})
    return facets


def _recency_options(selected: str, today: date) -> list[dict[str, Any]]:
    options = [{"value": "", "label": "any time", "selected": not selected}]
    for label, days in RECENCY:
        value = (today - timedelta(days=days)).isoformat()
        options.append({"value": value, "label": label, "selected": value == selected})
    if selected and not any(o["selected"] for o in options):
        options.append({"value": selected, "label": f"since {selected}", "selected": True})
    return options


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 1_000_000 else 1


@router.get("/", response_class=HTMLResponse, name="ui_search")
def search_page(request: Request, result: Annotated[SearchResponse, Depends(routes.search)]) -> HTMLResponse:
    links = SearchLinks.from_request(request, request.url.path)
    number = _page_number(request)
    size = len(result.results)
    per_page = int(request.query_params.get("size") or 20)
    first = (number - 1) * per_page + 1
    next_url = links.url(cursor=result.next_cursor, page=str(number + 1)) if result.next_cursor else None
    chips = [
        {"label": f"{FACET_TITLES.get(n, n)}: {_facet_label(n, v, None)}", "url": links.toggle(n, v)}
        for n, v in links.filter_pairs
    ]
    return page(
        request,
        "search.html",
        {
            "result": result,
            "links": links,
            "facets": _facets(result, links),
            "chips": chips,
            "recency": _recency_options(links.modified_after, datetime.now(UTC).date()),
            "page_number": number,
            "first": first,
            "last": first + size - 1,
            "next_url": next_url,
            "first_url": links.url() if number > 1 else None,
            "api_url": "/api/search" + links.url()[len(links.path) :],
        },
    )


# --- one dataset -------------------------------------------------------------------------------


@router.get("/datasets/{dataset_id}", response_class=HTMLResponse, name="ui_dataset")
def dataset_page(request: Request, data: Annotated[DatasetResponse, Depends(routes.dataset)]) -> HTMLResponse:
    record = data.record
    url = str(request.url_for("ui_dataset", dataset_id=data.id))
    places = [f"{j.name}, {j.state}" for j in data.jurisdictions]
    # script_json writes <, > and & as JSON escapes, so its text is safe inside <script> as it is;
    # HTML-escaping it again would turn its quotes into &#34; and break the JSON.
    jsonld = Markup(script_json(to_schema_org(record, url=url, places=places)))  # noqa: S704
    return page(request, "dataset.html", {"data": data, "record": record, "pdi": record.pdi, "jsonld": jsonld})


# --- jurisdictions -----------------------------------------------------------------------------


@router.get("/jurisdictions", response_class=HTMLResponse, name="ui_jurisdictions")
def jurisdictions_page(
    request: Request, items: Annotated[list[JurisdictionOut], Depends(routes.jurisdictions)]
) -> HTMLResponse:
    return page(request, "jurisdictions.html", {"items": items})


DATASETS_PER_CATEGORY = 5


@router.get("/jurisdictions/{jurisdiction_id}", response_class=HTMLResponse, name="ui_jurisdiction")
def jurisdiction_page(
    request: Request,
    detail: Annotated[JurisdictionDetail, Depends(routes.jurisdiction_detail)],
    store: Annotated[Store, Depends(get_store)],
    index: Annotated[SearchIndex, Depends(get_index)],
    seed: Annotated[Seed, Depends(get_seed)],
    clock: Annotated[Any, Depends(get_clock)],
) -> HTMLResponse:
    harvests = operations.harvests(store=store, seed=seed, limit=1)  # each source's last success, next run
    # the jurisdiction's most recently updated datasets, grouped by category below
    query = SearchQuery(filters={"jurisdiction": [detail.id], "status": ["active"]}, sort=SortOrder.MODIFIED)
    recent = routes.search(index=index, seed=seed, store=store, clock=clock, query=query, size=100)
    published = {c.value: c.count for c in detail.categories}
    committed = set(detail.committed_categories)
    search = SearchLinks(path=str(request.url_for("ui_search").path), q="", sort="", modified_after="", filters={})
    categories = []
    for cat in Category:
        if cat.value not in published and cat.value not in committed:
            continue
        datasets = [r for r in recent.results if cat.value in r.categories][:DATASETS_PER_CATEGORY]
        categories.append(
            {
                "id": cat.value,
                "committed": cat.value in committed,
                "published": published.get(cat.value, 0),
                "datasets": datasets,
                "search_url": search.url({"jurisdiction": [detail.id], "category": [cat.value]}),
            }
        )
    sources = {s.source_id: s for s in harvests.sources}
    return page(
        request,
        "jurisdiction.html",
        {
            "j": detail,
            "categories": categories,
            "sources": sources,
            "search_url": search.url({"jurisdiction": [detail.id]}),
        },
    )


# --- harvests ----------------------------------------------------------------------------------


@router.get("/harvests", response_class=HTMLResponse, name="ui_harvests")
def harvests_page(request: Request, data: Annotated[HarvestsResponse, Depends(operations.harvests)]) -> HTMLResponse:
    failing = [s for s in data.sources if s.last_status == "failed"]
    return page(request, "harvests.html", {"data": data, "failing": failing})


# --- coverage dashboard ------------------------------------------------------------------------

HEAT_LEVELS = (1, 2, 4, 10)  # published counts at which a cell gets heat-1 … heat-4
TREND_WIDTH, TREND_HEIGHT, TREND_PAD = 720, 200, 36


def heat_level(published: int) -> int:
    return sum(1 for bound in HEAT_LEVELS if published >= bound)


def cell_state(committed: bool, published: int, fresh: int) -> str:
    """ok (committed, published, some fresh), stale (committed, published, none fresh),
    missing (committed, none published), extra (published without a commitment), or none."""
    if committed:
        if not published:
            return "missing"
        return "ok" if fresh else "stale"
    return "extra" if published else "none"


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def trend_chart(snapshots: list[CoverageSnapshot]) -> dict[str, Any]:
    """The coverage trend as SVG coordinates: commitments met and fresh records, in percent."""
    series = {
        "met": [_percent(s.overall.committed_published, s.overall.committed) for s in snapshots],
        "fresh": [_percent(s.overall.fresh, s.overall.published) for s in snapshots],
    }
    inner_w, inner_h = TREND_WIDTH - 2 * TREND_PAD, TREND_HEIGHT - 2 * TREND_PAD
    step = inner_w / (len(snapshots) - 1) if len(snapshots) > 1 else 0.0

    def point(i: int, value: float) -> tuple[float, float]:
        x = TREND_PAD + (i * step if len(snapshots) > 1 else inner_w / 2)
        return round(x, 1), round(TREND_PAD + inner_h * (1 - value / 100.0), 1)

    lines = {}
    for name, values in series.items():
        points = [point(i, v) for i, v in enumerate(values) if v is not None]
        lines[name] = {"points": " ".join(f"{x},{y}" for x, y in points), "dots": points}
    grid = [{"y": point(0, v)[1], "label": f"{v}%"} for v in (0, 50, 100)]
    return {"width": TREND_WIDTH, "height": TREND_HEIGHT, "pad": TREND_PAD, "lines": lines, "grid": grid}


def coverage_view(matrix: CoverageResponse, search_path: str) -> dict[str, Any]:
    """The matrix arranged as the heat map's rows and cells."""
    rows = []
    for j in matrix.jurisdictions:
        cells = []
        for cat in matrix.categories:
            cell = j.cells.get(cat.id)
            committed, published = (cell.committed, cell.published) if cell else (False, 0)
            fresh = cell.fresh if cell else 0
            stale = (cell.overdue + cell.delinquent) if cell else 0
            state = cell_state(committed, published, fresh)
            words = [f"{published} published", f"{fresh} fresh"]
            if stale:
                words.append(f"{stale} overdue or delinquent")
            words.append("committed" if committed else "not committed")
            cells.append(
                {
                    "category": cat.id,
                    "state": state,
                    "heat": heat_level(published),
                    "text": "✗" if state == "missing" else (str(published) if published else ""),
                    "description": ", ".join(words),
                    "url": f"{search_path}?{urlencode({'jurisdiction': j.id, 'category': cat.id})}"
                    if published
                    else None,
                }
            )
        rows.append({"j": j, "cells": cells, "met": j.committed - j.missing})
    overall = matrix.totals.overall
    return {
        "rows": rows,
        "met_percent": _percent(overall.committed_published, overall.committed),
        "fresh_percent": _percent(overall.fresh, overall.published),
    }


@router.get("/coverage", response_class=HTMLResponse, name="ui_coverage")
def coverage_page(
    request: Request,
    matrix: Annotated[Any, Depends(coverage.coverage)],
    history: Annotated[CoverageHistoryResponse, Depends(coverage.coverage_history)],
) -> Response:
    if not isinstance(matrix, CoverageResponse):
        return matrix  # ?format=csv: the API's own CSV download
    search_path = request.url_for("ui_search").path
    return page(
        request,
        "coverage.html",
        {
            "m": matrix,
            **coverage_view(matrix, search_path),
            "history": history.snapshots,
            "trend": trend_chart(history.snapshots),
            "search_path": search_path,
            "api_query": request.url.query,
        },
    )


def install(app: FastAPI) -> None:
    """Add the pages and their static files to ``app``."""
    app.include_router(router)
    app.mount("/static", StaticFiles(packages=[("api", "static")]), name="static")
