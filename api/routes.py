"""HTTP routes of the API."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response

from api.deps import get_index, get_seed, get_store
from api.models import (
    ComponentHealth,
    DatasetResponse,
    DatasetSource,
    FacetCount,
    HealthResponse,
    HistoryEntry,
    JurisdictionDetail,
    JurisdictionOut,
    JurisdictionRef,
    PortalOut,
    SearchResponse,
    SearchResult,
    SourceOut,
)
from catalog.ids import source_id
from catalog.vocabulary import Category, PortalPlatform, category_vocabulary
from catalog_seed import Jurisdiction, Seed
from index.base import FACET_FIELDS, IndexUnavailable, SearchIndex, SearchPage, SearchQuery, SortOrder
from store import Store

router = APIRouter()

MAX_Q = 500
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "bad parameter", "content": {"application/json": {"example": {"error": "..."}}}},
    503: {"description": "search index unavailable"},
}


def _split(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out += [p.strip() for p in v.split(",") if p.strip()]
    return out


def _parse_when(value: str) -> datetime:
    try:
        if len(value) == 10:
            d = date.fromisoformat(value)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise HTTPException(
            400, f"modified_after: {value!r} is not an ISO 8601 date or date-time (e.g. 2024-01-31)"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _labels(seed: Seed) -> dict[str, dict[str, str]]:
    return {
        "jurisdiction": {j.id: f"{j.name}, {j.state}" for j in seed},
        "category": {c.value: c.value.replace("_", " ") for c in Category},
    }


def _result(hit_summary: dict[str, Any], score: float | None) -> SearchResult:
    return SearchResult(**{k: v for k, v in hit_summary.items() if k in SearchResult.model_fields}, score=score)


def _response(page: SearchPage, seed: Seed) -> SearchResponse:
    labels = _labels(seed)
    return SearchResponse(
        total=page.total,
        results=[_result(h.summary, h.score) for h in page.hits],
        facets={
            name: [FacetCount(value=f.value, count=f.count, label=labels.get(name, {}).get(f.value)) for f in values]
            for name, values in page.facets.items()
            if name != "status"
        },
        next_cursor=page.next_cursor,
    )


@router.get(
    "/api/search",
    response_model=SearchResponse,
    tags=["search"],
    summary="Search police datasets across every jurisdiction",
    description="A dataset seen through several sources (a Socrata catalog and the same portal's data.json, a "
    "city and a county portal listing one item) is one result listing every source; totals and facet counts "
    "count it once. See docs/duplicates.md for how datasets are recognised as the same.",
    responses=ERRORS,
)
def search(
    index: Annotated[SearchIndex, Depends(get_index)],
    seed: Annotated[Seed, Depends(get_seed)],
    q: Annotated[str | None, Query(max_length=MAX_Q, description="words to find (all must match)")] = None,
    jurisdiction: Annotated[list[str] | None, Query(description="jurisdiction id(s), e.g. seattle-wa")] = None,
    state: Annotated[list[str] | None, Query(description="two-letter state code(s)")] = None,
    category: Annotated[list[str] | None, Query(description="PDI category id(s), e.g. use_of_force")] = None,
    platform: Annotated[list[str] | None, Query(description="portal platform(s), e.g. socrata")] = None,
    format: Annotated[list[str] | None, Query(description="distribution format(s), e.g. CSV")] = None,  # noqa: A002
    modified_after: Annotated[
        str | None, Query(description="only datasets updated on or after this ISO date or date-time")
    ] = None,
    sort: Annotated[SortOrder, Query(description="relevance (default with q) or modified (newest first)")] = (
        SortOrder.RELEVANCE
    ),
    size: Annotated[int, Query(ge=1, le=100, description="results per page")] = 20,
    cursor: Annotated[str | None, Query(max_length=2000, description="next_cursor of the previous page")] = None,
) -> SearchResponse:
    filters: dict[str, list[str]] = {}
    jurisdictions = _split(jurisdiction)
    unknown = [j for j in jurisdictions if seed.get(j) is None]
    if unknown:
        raise HTTPException(400, f"jurisdiction: unknown id(s) {', '.join(unknown)}; see /api/jurisdictions")
    categories = _split(category)
    bad = [c for c in categories if c not in Category.__members__.values()]
    if bad:
        raise HTTPException(
            400, f"category: unknown id(s) {', '.join(bad)}; known: {', '.join(c.value for c in Category)}"
        )
    states = [s.upper() for s in _split(state)]
    bad = [s for s in states if len(s) != 2 or not s.isalpha()]
    if bad:
        raise HTTPException(400, f"state: expected two-letter codes, got {', '.join(bad)}")
    platforms = [p.lower() for p in _split(platform)]
    known_platforms = {p.value for p in PortalPlatform} | {"dcat_us"}
    bad = [p for p in platforms if p not in known_platforms]
    if bad:
        raise HTTPException(400, f"platform: unknown {', '.join(bad)}; known: {', '.join(sorted(known_platforms))}")
    formats = [f.upper() for f in _split(format)]
    for name, values in (
        ("jurisdiction", jurisdictions),
        ("state", states),
        ("category", categories),
        ("platform", platforms),
        ("format", formats),
    ):
        if values:
            filters[name] = values
    filters["status"] = ["active"]
    query = SearchQuery(
        q=q.strip() if q and q.strip() else None,
        filters=filters,
        modified_after=_parse_when(modified_after) if modified_after else None,
        sort=sort,
        size=size,
        cursor=cursor,
    )
    return _response(index.search(query), seed)


def _refs(seed: Seed, ids: list[str]) -> list[JurisdictionRef]:
    out = []
    for jid in ids:
        j = seed.get(jid)
        if j is not None:
            out.append(JurisdictionRef(id=j.id, name=j.name, state=j.state))
    return out


@router.get(
    "/api/datasets/{dataset_id}",
    response_model=DatasetResponse,
    tags=["datasets"],
    summary="One dataset: its DCAT-US record, PDI extension, sources and change history",
    description="`dataset_id` may be the dataset's id or an alias: the id of another source's record of the "
    "same dataset. An alias answers with the dataset (its own `id`, and a `Content-Location` header naming "
    "its URL).",
    responses={404: {"description": "no such dataset"}},
)
def dataset(
    dataset_id: str,
    response: Response,
    store: Annotated[Store, Depends(get_store)],
    seed: Annotated[Seed, Depends(get_seed)],
) -> DatasetResponse:
    if len(dataset_id) > 200:
        raise HTTPException(400, "dataset id too long")
    stored = store.get(dataset_id)
    if stored is None:
        raise HTTPException(404, f"no dataset with id {dataset_id!r}")
    if stored.record.id != dataset_id:
        response.headers["Content-Location"] = f"/api/datasets/{stored.record.id}"
    history = [HistoryEntry.model_validate(h) for h in store.dataset_history(stored)]
    sources = [
        DatasetSource(
            record_id=m.id,
            source_id=m.record.pdi.source.source_id,
            platform=m.record.pdi.source.platform,
            portal_platform=m.record.pdi.source.portal_platform.value if m.record.pdi.source.portal_platform else None,
            portal_url=m.record.pdi.source.portal_url,
            remote_id=m.record.pdi.source.remote_id,
            source_url=m.record.pdi.source.source_url,
            status=m.status.value,
            first_seen=m.first_seen,
            last_seen=m.last_seen,
        )
        for m in stored.members
    ]
    return DatasetResponse(
        id=stored.record.id,
        aliases=stored.aliases,
        sources=sources,
        status=stored.status.value,
        first_seen=stored.first_seen,
        last_seen=stored.last_seen,
        last_changed=stored.last_changed,
        jurisdictions=_refs(seed, stored.record.pdi.jurisdictions),
        record=stored.record,
        history=history,
        schema_changed_at=next((h.at for h in history if h.columns is not None), None),
    )


def _portals(j: Jurisdiction, last_runs: dict[str, dict[str, Any]]) -> list[PortalOut]:
    portals = []
    for p in j.portals:
        sources = []
        for s in p.sources:
            sid = source_id(s.platform, s.url)
            run = last_runs.get(sid)
            sources.append(
                SourceOut(
                    source_id=sid,
                    platform=s.platform,
                    url=s.url,
                    last_run_status=run["status"] if run else None,
                    last_run_at=(run["finished_at"] or run["started_at"]) if run else None,
                )
            )
        portals.append(
            PortalOut(
                platform=p.platform.value,
                url=p.url,
                scope=p.scope,
                confidence=p.confidence,
                harvested=bool(p.sources),
                not_harvested=p.not_harvested,
                sources=sources,
            )
        )
    return portals


def _dataset_counts(index: SearchIndex) -> dict[str, int]:
    try:
        page = index.search(SearchQuery(filters={"status": ["active"]}, size=1, facet_size=10_000))
    except IndexUnavailable:
        return {}
    return {f.value: f.count for f in page.facets.get("jurisdiction", [])}


def _jurisdiction_out(j: Jurisdiction, last_runs: dict[str, dict[str, Any]], count: int) -> dict[str, Any]:
    return {
        "id": j.id,
        "name": j.name,
        "state": j.state,
        "agency": j.agency,
        "in_original_21": j.in_original_21,
        "committed_categories": [c.value for c in j.committed_categories],
        "portals": _portals(j, last_runs),
        "no_portal_known": j.no_portal_known,
        "datasets": count,
    }


@router.get(
    "/api/jurisdictions",
    response_model=list[JurisdictionOut],
    tags=["jurisdictions"],
    summary="Every participating jurisdiction with its portals and dataset count",
)
def jurisdictions(
    store: Annotated[Store, Depends(get_store)],
    index: Annotated[SearchIndex, Depends(get_index)],
    seed: Annotated[Seed, Depends(get_seed)],
) -> list[JurisdictionOut]:
    last_runs = store.last_source_runs()
    counts = _dataset_counts(index)
    return [JurisdictionOut(**_jurisdiction_out(j, last_runs, counts.get(j.id, 0))) for j in seed]


@router.get(
    "/api/jurisdictions/{jurisdiction_id}",
    response_model=JurisdictionDetail,
    tags=["jurisdictions"],
    summary="One jurisdiction: portals, harvest state, datasets per category, recent datasets",
    responses={404: {"description": "no such jurisdiction"}},
)
def jurisdiction_detail(
    jurisdiction_id: str,
    store: Annotated[Store, Depends(get_store)],
    index: Annotated[SearchIndex, Depends(get_index)],
    seed: Annotated[Seed, Depends(get_seed)],
) -> JurisdictionDetail:
    j = seed.get(jurisdiction_id)
    if j is None:
        raise HTTPException(404, f"no jurisdiction with id {jurisdiction_id!r}; see /api/jurisdictions")
    page = index.search(
        SearchQuery(
            filters={"jurisdiction": [j.id], "status": ["active"]},
            sort=SortOrder.MODIFIED,
            size=10,
            facet_size=100,
        )
    )
    cats = [
        FacetCount(value=f.value, count=f.count, label=f.value.replace("_", " "))
        for f in page.facets.get("category", [])
    ]
    base = _jurisdiction_out(j, store.last_source_runs(), page.total)
    return JurisdictionDetail(**base, categories=cats, recent=[_result(h.summary, None) for h in page.hits])


@router.get("/api/categories", tags=["search"], summary="The PDI category vocabulary")
def categories() -> list[dict[str, str]]:
    return [{"id": c.value, "definition": t.definition} for c, t in category_vocabulary().items()]


@router.get("/health", response_model=HealthResponse, tags=["service"], summary="Is the service up")
def health(
    store: Annotated[Store, Depends(get_store)],
    index: Annotated[SearchIndex, Depends(get_index)],
) -> HealthResponse:
    from api.app import VERSION

    try:
        store_h = ComponentHealth(ok=True, detail={"records": store.count()})
    except Exception as exc:  # noqa: BLE001 - health reports, never raises
        store_h = ComponentHealth(ok=False, detail={"error": str(exc)})
    try:
        index_h = ComponentHealth(ok=True, detail=index.health())
    except Exception as exc:  # noqa: BLE001
        index_h = ComponentHealth(ok=False, detail={"error": str(exc)})
    status = "ok" if store_h.ok and index_h.ok else "degraded"
    return HealthResponse(status=status, version=VERSION, store=store_h, index=index_h)


__all__ = ["router", "FACET_FIELDS"]
