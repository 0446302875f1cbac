"""HTTP routes of the API."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel, Field

from api.deps import get_clock, get_index, get_seed, get_store
from api.models import (
    ComponentHealth,
    DatasetFreshness,
    DatasetResponse,
    DatasetSource,
    FacetCount,
    HarvestHealthOut,
    HealthResponse,
    HistoryEntry,
    JurisdictionDetail,
    JurisdictionOut,
    JurisdictionRef,
    PortalOut,
    SearchResponse,
    SearchResult,
    SeriesMember,
    SeriesOut,
    SourceOut,
)
from api.search_params import search_query
from catalog.freshness import assess_record
from catalog.ids import source_id
from catalog.series import parse_release
from catalog.vocabulary import Category, FreshnessStatus, category_vocabulary
from catalog_seed import Jurisdiction, Seed
from index.base import FACET_FIELDS, IndexUnavailable, SearchIndex, SearchPage, SearchQuery, SortOrder
from store import Store, StoreError
from store.coverage import (
    HarvestHealth,
    RecordFacts,
    combined_health,
    load_facts,
    series_members,
    source_harvest_health,
)

router = APIRouter()

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "bad parameter", "content": {"application/json": {"example": {"error": "..."}}}},
    503: {"description": "search index unavailable"},
}
# facets of the index that a search response does not show
HIDDEN_FACETS = ("status", "keyword")


def _labels(seed: Seed) -> dict[str, dict[str, str]]:
    return {
        "jurisdiction": {j.id: f"{j.name}, {j.state}" for j in seed},
        "category": {c.value: c.value.replace("_", " ") for c in Category},
        "freshness": {s.value: s.value for s in FreshnessStatus},
    }


def _result(hit_summary: dict[str, Any], score: float | None) -> SearchResult:
    return SearchResult(**{k: v for k, v in hit_summary.items() if k in SearchResult.model_fields}, score=score)


def _live_freshness(store: Store, summaries: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Search hits with their freshness as of now (the index holds it as of its last sync)."""
    try:
        facts = {f.id: f for f in load_facts(store, [s["id"] for s in summaries])}
    except StoreError:
        return summaries
    return [{**s, "freshness": facts[s["id"]].assess(now).status.value} if s["id"] in facts else s for s in summaries]


def _response(page: SearchPage, seed: Seed, store: Store, now: datetime) -> SearchResponse:
    labels = _labels(seed)
    summaries = _live_freshness(store, [h.summary for h in page.hits], now)
    return SearchResponse(
        total=page.total,
        results=[_result(s, h.score) for s, h in zip(summaries, page.hits, strict=True)],
        facets={
            name: [FacetCount(value=f.value, count=f.count, label=labels.get(name, {}).get(f.value)) for f in values]
            for name, values in page.facets.items()
            if name not in HIDDEN_FACETS
        },
        next_cursor=page.next_cursor,
    )


@router.get(
    "/api/search",
    response_model=SearchResponse,
    tags=["search"],
    summary="Search police datasets across every jurisdiction",
    description=(
        "Full-text search with filters and facet counts. The `freshness` facet and filter use each "
        "dataset's status as of the last harvest (the index is brought up to date at the end of "
        "every harvest); each result shows its status as of this request. A dataset seen through several "
        "sources (a Socrata catalog and the same portal's data.json, a city and a county portal listing one "
        "item) is one result listing every source; totals and facet counts count it once. See "
        "docs/duplicates.md for how datasets are recognised as the same."
    ),
    responses=ERRORS,
)
def search(
    index: Annotated[SearchIndex, Depends(get_index)],
    seed: Annotated[Seed, Depends(get_seed)],
    store: Annotated[Store, Depends(get_store)],
    clock: Annotated[Any, Depends(get_clock)],
    query: Annotated[SearchQuery, Depends(search_query)],
    size: Annotated[int, Query(ge=1, le=100, description="results per page")] = 20,
    cursor: Annotated[str | None, Query(max_length=2000, description="next_cursor of the previous page")] = None,
) -> SearchResponse:
    return _response(index.search(replace(query, size=size, cursor=cursor)), seed, store, clock())


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
    clock: Annotated[Any, Depends(get_clock)],
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
    now = clock()
    facts = next(iter(load_facts(store, [stored.record.id])), None)
    judged = facts.assess(now) if facts is not None else assess_record(stored.record, now)
    record = stored.record
    pdi = record.pdi
    record = record.model_copy(
        update={"pdi": pdi.model_copy(update={"freshness": pdi.freshness.model_copy(update={"status": judged.status})})}
    )
    return DatasetResponse(
        id=record.id,
        aliases=stored.aliases,
        sources=sources,
        status=stored.status.value,
        first_seen=stored.first_seen,
        last_seen=stored.last_seen,
        last_changed=stored.last_changed,
        jurisdictions=_refs(seed, pdi.jurisdictions),
        record=record,
        history=history,
        schema_changed_at=next((h.at for h in history if h.columns is not None), None),
        freshness=DatasetFreshness(
            status=judged.status.value,
            periodicity=judged.periodicity.value if judged.periodicity else None,
            periodicity_source=judged.source.value,
            declared_frequency=pdi.freshness.declared_frequency or pdi.freshness.accrual_periodicity,
            last_data_update=judged.last_update,
            expected_next_update=judged.expected_next_update,
            days_overdue=judged.days_overdue,
        ),
        series=_series(store, facts, now) if facts is not None and facts.series_id else None,
    )


def _series(store: Store, facts: RecordFacts, now: datetime) -> SeriesOut | None:
    members = series_members(store, facts.series_id or "")
    if not members:
        return None
    latest = members[-1]
    release = parse_release(latest.title)
    return SeriesOut(
        id=facts.series_id or "",
        name=release.name if release else latest.title,
        members=[
            SeriesMember(
                id=m.id, title=m.title, label=m.series_label, latest=m.series_latest, status=m.assess(now).status.value
            )
            for m in members
        ],
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


def _harvest_health(j: Jurisdiction, health: dict[str, HarvestHealth]) -> HarvestHealthOut:
    sources = [source_id(s.platform, s.url) for p in j.portals for s in p.sources]
    combined = combined_health(health.get(s) for s in sources)
    return HarvestHealthOut(
        runs=combined.runs,
        succeeded=combined.succeeded,
        success_rate=combined.success_rate,
        last_success_at=combined.last_success_at,
        last_status=combined.last_status,
        last_run_at=combined.last_run_at,
    )


def _jurisdiction_out(
    j: Jurisdiction, last_runs: dict[str, dict[str, Any]], count: int, health: dict[str, HarvestHealth]
) -> dict[str, Any]:
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
        "harvest": _harvest_health(j, health),
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
    health = source_harvest_health(store)
    return [JurisdictionOut(**_jurisdiction_out(j, last_runs, counts.get(j.id, 0), health)) for j in seed]


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
    clock: Annotated[Any, Depends(get_clock)],
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
    base = _jurisdiction_out(j, store.last_source_runs(), page.total, source_harvest_health(store))
    now = clock()
    statuses = Counter(f.assess(now).status.value for f in load_facts(store) if j.id in f.jurisdictions)
    recent = _live_freshness(store, [h.summary for h in page.hits], now)
    return JurisdictionDetail(
        **base,
        categories=cats,
        recent=[_result(s, None) for s in recent],
        freshness={s.value: statuses.get(s.value, 0) for s in FreshnessStatus},
    )


class CategoryOut(BaseModel):
    """One PDI category of the controlled vocabulary (``catalog/data/categories.yaml``)."""

    id: str = Field(description="the category id: public interface, never renamed")
    label: str
    definition: str
    synonyms: list[str] = Field(description="other names of the category that only police data has")
    title_terms: list[str] = Field(description="words typical of its dataset titles")
    terms: list[str] = Field(description="words that point to it in descriptions, keywords and portal categories")
    columns: list[str] = Field(description="column names typical of it (normalised)")
    police_by_itself: bool = Field(description="whether its title words alone say the data is police data")
    broader: list[str] = Field(description="categories this one is a kind of")


@router.get(
    "/api/categories",
    response_model=list[CategoryOut],
    tags=["search"],
    summary="The PDI category vocabulary",
    description="Every category id with its definition, synonyms, typical title words, description words "
    "and column names: what the classifier matches (`pdi classify`) and the `category` filter accepts.",
)
def categories() -> list[CategoryOut]:
    return [
        CategoryOut(
            id=c.value,
            label=c.value.replace("_", " "),
            definition=t.definition,
            synonyms=list(t.synonyms),
            title_terms=list(t.title_terms),
            terms=list(t.terms),
            columns=list(t.columns),
            police_by_itself=t.police_by_itself,
            broader=[b.value for b in t.broader],
        )
        for c, t in category_vocabulary().items()
    ]


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
