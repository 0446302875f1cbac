"""Program-office routes: the coverage matrix, its history, and the freshness list.

Freshness changes with the clock, so every answer is computed at request time from the store's
freshness facts (``store/coverage.py``) and the app's clock; the coverage history is the snapshots
taken after each harvest.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.deps import get_clock, get_seed, get_store
from catalog.coverage import CSV_COLUMNS, coverage_rows
from catalog.freshness import STALE_ORDER, Assessment
from catalog.vocabulary import Category, FreshnessStatus
from catalog_seed import Seed
from store import Store
from store.coverage import RecordFacts, commitments_of, current_coverage, load_facts, refresh_facts, snapshots

router = APIRouter()

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "bad parameter", "content": {"application/json": {"example": {"error": "..."}}}},
}

STATUS_TEXT = (
    "Statuses follow the HDX data-freshness rules against the update period (declared by the "
    "portal, else inferred from the updates our harvests saw, else a series' release cadence): "
    "`fresh` until one period has passed since the last update, then `due`, then `overdue` and "
    "`delinquent` after HDX's margins (weekly data: due at 7 days, overdue at 14, delinquent at 21); "
    "`irregular`/`never` data is fresh; `unknown` when no period or no update time is known."
)


# ---- response models ----------------------------------------------------------------------------


class CategoryRef(BaseModel):
    id: str
    label: str


class CoverageCell(BaseModel):
    committed: bool = Field(description="the jurisdiction committed to publish this category")
    published: int = Field(description="its active police records with this category")
    fresh: int = Field(description="of those, how many are fresh")
    overdue: int
    delinquent: int


class CoverageJurisdiction(BaseModel):
    id: str
    name: str
    state: str
    committed: int = Field(description="number of categories it committed to")
    published: int = Field(description="its active police records (each once)")
    fresh: int
    overdue: int
    delinquent: int
    missing: int = Field(description="committed categories with nothing published")
    cells: dict[str, CoverageCell] = Field(description="category id → cell")


class CategoryTotals(BaseModel):
    committed: int = Field(description="jurisdictions committing to the category")
    published: int = Field(description="records with the category")
    fresh: int
    overdue: int
    delinquent: int
    jurisdictions_published: int = Field(description="jurisdictions with at least one record")
    committed_published: int = Field(description="committing jurisdictions with at least one record")
    missing: int = Field(description="committing jurisdictions with none")


class OverallTotals(BaseModel):
    committed: int = Field(description="commitments (jurisdiction × category)")
    committed_published: int = Field(description="commitments with at least one record")
    missing: int = Field(description="commitments with none")
    published: int = Field(description="records (each once)")
    fresh: int
    overdue: int
    delinquent: int


class CoverageTotals(BaseModel):
    by_category: dict[str, CategoryTotals]
    overall: OverallTotals


class CoverageResponse(BaseModel):
    generated_at: datetime = Field(description="the moment freshness was judged at")
    categories: list[CategoryRef]
    jurisdictions: list[CoverageJurisdiction]
    totals: CoverageTotals


class CoverageSnapshot(BaseModel):
    run_id: int | None = Field(description="the harvest run after which it was taken")
    taken_at: datetime
    overall: OverallTotals
    by_category: dict[str, CategoryTotals]


class CoverageHistoryResponse(BaseModel):
    snapshots: list[CoverageSnapshot] = Field(description="oldest first")


class FreshnessItem(BaseModel):
    id: str
    title: str
    jurisdiction: str | None = Field(description="primary jurisdiction id")
    jurisdictions: list[str]
    categories: list[str]
    status: FreshnessStatus
    periodicity: str | None = Field(description="the update period judged by: ISO 8601, `irregular` or `never`")
    periodicity_source: str = Field(description="declared, inferred (from update history), series or none")
    declared_frequency: str | None = Field(description="the period as the portal declares it")
    last_data_update: datetime | None
    expected_next_update: datetime | None
    days_overdue: int = Field(description="whole days past the expected next update")
    series_id: str | None = None
    series_latest: bool = Field(False, description="the latest release of its series")
    series_label: str | None = Field(None, description="the period this release covers, e.g. 2019")


class FreshnessResponse(BaseModel):
    generated_at: datetime
    total: int = Field(description="records matching the filters")
    counts: dict[str, int] = Field(description="records per status, over the jurisdiction/category filters")
    results: list[FreshnessItem] = Field(description="stale first: delinquent, overdue, due, fresh, unknown")
    next_offset: int | None = Field(description="pass as `offset` for the next page; null on the last page")


def freshness_item(facts: RecordFacts, result: Assessment) -> FreshnessItem:
    return FreshnessItem(
        id=facts.id,
        title=facts.title,
        jurisdiction=facts.jurisdiction,
        jurisdictions=list(facts.jurisdictions),
        categories=list(facts.categories),
        status=result.status,
        periodicity=result.periodicity.value if result.periodicity else None,
        periodicity_source=result.source.value,
        declared_frequency=facts.declared,
        last_data_update=result.last_update,
        expected_next_update=result.expected_next_update,
        days_overdue=result.days_overdue,
        series_id=facts.series_id,
        series_latest=facts.series_latest,
        series_label=facts.series_label,
    )


# ---- parameters ---------------------------------------------------------------------------------


def split(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out += [p.strip() for p in v.split(",") if p.strip()]
    return out


def checked_jurisdictions(seed: Seed, values: list[str] | None) -> list[str]:
    ids = split(values)
    unknown = [j for j in ids if seed.get(j) is None]
    if unknown:
        raise HTTPException(400, f"jurisdiction: unknown id(s) {', '.join(unknown)}; see /api/jurisdictions")
    return ids


def checked_categories(values: list[str] | None) -> list[str]:
    ids = split(values)
    known = {c.value for c in Category}
    bad = [c for c in ids if c not in known]
    if bad:
        raise HTTPException(400, f"category: unknown id(s) {', '.join(bad)}; known: {', '.join(sorted(known))}")
    return ids


def checked_statuses(values: list[str] | None) -> list[FreshnessStatus]:
    ids = split(values)
    known = {s.value for s in FreshnessStatus}
    bad = [s for s in ids if s not in known]
    if bad:
        raise HTTPException(400, f"status: unknown {', '.join(bad)}; known: {', '.join(s.value for s in STALE_ORDER)}")
    return [FreshnessStatus(s) for s in ids]


def parse_since(value: str) -> datetime:
    try:
        if len(value) == 10:
            d = date.fromisoformat(value)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise HTTPException(400, f"since: {value!r} is not an ISO 8601 date or date-time (e.g. 2026-01-31)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# ---- routes -------------------------------------------------------------------------------------

JurisdictionParam = Annotated[
    list[str] | None, Query(description="jurisdiction id(s), e.g. seattle-wa (repeat or comma-separate)")
]
CategoryParam = Annotated[list[str] | None, Query(description="PDI category id(s), e.g. use_of_force")]


@router.get(
    "/api/coverage",
    response_model=CoverageResponse,
    tags=["coverage"],
    summary="Commitment coverage: jurisdictions × PDI categories — committed, published, fresh",
    description=(
        "One row per seeded jurisdiction, one cell per PDI category: whether the jurisdiction "
        "committed to publish it (from the seed), how many active police records it publishes in "
        "it, and how many of those are fresh, overdue and delinquent; with totals per jurisdiction, "
        "per category and overall (`missing`: commitments with nothing published). Every release "
        "of a series is a record, but only a series' latest release can be stale. "
        + STATUS_TEXT
        + " `?format=csv` gives one row per jurisdiction × category."
    ),
    responses={**ERRORS, 200: {"content": {"text/csv": {}}, "description": "the matrix (JSON, or CSV)"}},
)
def coverage(
    store: Annotated[Store, Depends(get_store)],
    seed: Annotated[Seed, Depends(get_seed)],
    clock: Annotated[Any, Depends(get_clock)],
    jurisdiction: JurisdictionParam = None,
    category: CategoryParam = None,
    format: Annotated[str, Query(description="json (default) or csv")] = "json",  # noqa: A002
) -> Any:
    if format not in ("json", "csv"):
        raise HTTPException(400, f"format: expected json or csv, got {format!r}")
    jurisdictions = checked_jurisdictions(seed, jurisdiction)
    categories = checked_categories(category)
    rows = commitments_of(seed)
    if jurisdictions:
        rows = [r for r in rows if r.id in set(jurisdictions)]
    now = clock()
    matrix = current_coverage(store, rows, now, categories or None)
    if format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(coverage_rows(matrix))
        return Response(
            buffer.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="pdi-coverage.csv"'},
        )
    return CoverageResponse(generated_at=now, **matrix)


@router.get(
    "/api/coverage/history",
    response_model=CoverageHistoryResponse,
    tags=["coverage"],
    summary="Coverage totals after each harvest, for the trend",
    description=(
        "A snapshot of the coverage totals (overall and per category) is kept at the end of every "
        "harvest run, with freshness as it was then. Oldest first; `limit` keeps the latest ones."
    ),
    responses=ERRORS,
)
def coverage_history(
    store: Annotated[Store, Depends(get_store)],
    limit: Annotated[int, Query(ge=1, le=1000, description="at most this many (the latest)")] = 100,
    since: Annotated[
        str | None, Query(description="only snapshots taken on or after this ISO date (or date-time)")
    ] = None,
) -> CoverageHistoryResponse:
    items = snapshots(store, limit=limit, since=parse_since(since) if since else None)
    return CoverageHistoryResponse(snapshots=[CoverageSnapshot.model_validate(s) for s in items])


@router.get(
    "/api/freshness",
    response_model=FreshnessResponse,
    tags=["coverage"],
    summary="Records by freshness, stale first",
    description=(
        "Every active police record with its update period (and where it came from), last data "
        "update, expected next update, status and days overdue; the most stale first (delinquent, "
        "overdue, due, fresh, unknown; then most days overdue). " + STATUS_TEXT
    ),
    responses=ERRORS,
)
def freshness(
    store: Annotated[Store, Depends(get_store)],
    seed: Annotated[Seed, Depends(get_seed)],
    clock: Annotated[Any, Depends(get_clock)],
    jurisdiction: JurisdictionParam = None,
    category: CategoryParam = None,
    status: Annotated[list[str] | None, Query(description="freshness status(es), e.g. overdue,delinquent")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="records per page")] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="records to skip")] = 0,
) -> FreshnessResponse:
    jurisdictions = set(checked_jurisdictions(seed, jurisdiction))
    categories = set(checked_categories(category))
    statuses = set(checked_statuses(status))
    now = clock()
    refresh_facts(store, now)
    judged = [
        (f, f.assess(now))
        for f in load_facts(store)
        if (not jurisdictions or jurisdictions & set(f.jurisdictions))
        and (not categories or categories & set(f.categories))
    ]
    counts = Counter(a.status.value for _, a in judged)
    chosen = [(f, a) for f, a in judged if not statuses or a.status in statuses]
    chosen.sort(key=lambda fa: (STALE_ORDER.index(fa[1].status), -fa[1].days_overdue, fa[0].id))
    page = chosen[offset : offset + limit]
    return FreshnessResponse(
        generated_at=now,
        total=len(chosen),
        counts={s.value: counts.get(s.value, 0) for s in STALE_ORDER},
        results=[freshness_item(f, a) for f, a in page],
        next_offset=offset + limit if offset + limit < len(chosen) else None,
    )
