"""Operator routes: harvest runs, Prometheus metrics, and the admin trigger (key required)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from api.deps import AppState, get_state, get_store
from catalog_seed import Seed
from scheduler.service import next_runs
from store import Store
from store.coverage import source_harvest_health

router = APIRouter()


class SourceRunOut(BaseModel):
    source_id: str
    platform: str
    url: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    pages: int
    records_new: int
    records_changed: int
    records_unchanged: int
    records_withdrawn: int
    records_failed: int
    error: str | None


class HarvestErrorOut(BaseModel):
    source_id: str
    stage: str
    remote_id: str | None
    url: str | None = Field(description="the document that caused the error")
    message: str
    at: datetime


class RunOut(BaseModel):
    id: int
    status: str
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    duration_s: float | None
    sources_total: int
    sources_ok: int
    sources_failed: int
    records_new: int
    records_changed: int
    records_unchanged: int
    records_withdrawn: int
    records_failed: int
    sources: list[SourceRunOut]
    errors: list[HarvestErrorOut]


class SourceStateOut(BaseModel):
    source_id: str
    platform: str
    url: str
    jurisdictions: list[str]
    last_status: str | None
    last_run_at: datetime | None
    last_success_at: datetime | None
    runs: int
    failed_runs: int
    errors: int
    success_rate: float | None = Field(
        description="succeeded / finished runs (succeeded, failed or interrupted); null before any"
    )
    next_run_at: datetime | None = Field(description="next scheduled harvest, when a scheduler is running")


class HarvestsResponse(BaseModel):
    runs: list[RunOut]
    sources: list[SourceStateOut]


class TriggerResponse(BaseModel):
    accepted: bool
    sources: list[str]
    mode: str = Field(description="'scheduler' (moved to now in the running scheduler) or 'background'")


def _seed(state: Annotated[AppState, Depends(get_state)]) -> Seed:
    return state.seed


@router.get("/api/harvests", response_model=HarvestsResponse, tags=["harvests"], summary="Harvest runs and sources")
def harvests(
    store: Annotated[Store, Depends(get_store)],
    seed: Annotated[Seed, Depends(_seed)],
    limit: Annotated[int, Query(ge=1, le=100, description="most recent runs to show")] = 10,
) -> HarvestsResponse:
    runs = []
    for row in store.runs(limit=limit):
        run = row
        runs.append(
            RunOut(
                **{k: v for k, v in run.items() if k in RunOut.model_fields},
                sources=[
                    SourceRunOut(**{k: v for k, v in s.items() if k in SourceRunOut.model_fields})
                    for s in store.source_runs(run["id"])
                ],
                errors=[
                    HarvestErrorOut(**{k: v for k, v in e.items() if k in HarvestErrorOut.model_fields})
                    for e in store.errors(run["id"], limit=50)
                ],
            )
        )
    last = store.last_source_runs()
    health = store.source_health()
    rates = source_harvest_health(store)
    upcoming = next_runs(store)
    sources = []
    for plan in seed.sources():
        latest = last.get(plan.source_id)
        h = health.get(plan.source_id, {})
        sources.append(
            SourceStateOut(
                source_id=plan.source_id,
                platform=plan.platform,
                url=plan.url,
                jurisdictions=list(plan.jurisdictions),
                last_status=latest["status"] if latest else None,
                last_run_at=(latest["finished_at"] or latest["started_at"]) if latest else None,
                last_success_at=h.get("last_ok"),
                runs=h.get("runs", 0),
                failed_runs=h.get("failed", 0),
                errors=h.get("errors", 0),
                success_rate=rates[plan.source_id].success_rate if plan.source_id in rates else None,
                next_run_at=upcoming.get(plan.source_id),
            )
        )
    return HarvestsResponse(runs=runs, sources=sources)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


@router.get("/metrics", response_class=PlainTextResponse, tags=["service"], summary="Prometheus metrics")
def metrics(
    store: Annotated[Store, Depends(get_store)],
    seed: Annotated[Seed, Depends(_seed)],
) -> str:
    now = datetime.now(UTC)
    lines: list[str] = []

    def family(name: str, kind: str, help_text: str, samples: list[tuple[dict[str, str], float]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            label_text = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
            lines.append(f"{name}{{{label_text}}} {value:g}" if label_text else f"{name} {value:g}")

    family(
        "pdi_harvest_runs_total",
        "counter",
        "Harvest runs by final status.",
        [({"status": s}, n) for s, n in sorted(store.run_counts().items())],
    )
    family(
        "pdi_records",
        "gauge",
        "Catalog records by status (one per source and dataset).",
        [({"status": s}, n) for s, n in sorted(store.record_counts().items())],
    )
    datasets = store.dataset_counts()
    family(
        "pdi_datasets",
        "gauge",
        "Datasets by status: records of one dataset seen through several sources count once.",
        [({"status": s}, datasets[f"datasets_{s}"]) for s in ("active", "withdrawn")],
    )
    family(
        "pdi_datasets_merged",
        "gauge",
        "Active datasets listed by two or more sources.",
        [({}, datasets["datasets_merged"])],
    )
    family(
        "pdi_records_merged",
        "gauge",
        "Active records folded into another source's record of the same dataset.",
        [({}, datasets["records_merged"])],
    )
    health = store.source_health()
    last = store.last_source_runs()
    sources = [p.source_id for p in seed.sources()]
    family(
        "pdi_source_runs_total",
        "counter",
        "Harvest runs per source.",
        [({"source": s}, health.get(s, {}).get("runs", 0)) for s in sources],
    )
    family(
        "pdi_source_failed_runs_total",
        "counter",
        "Failed harvest runs per source.",
        [({"source": s}, health.get(s, {}).get("failed", 0)) for s in sources],
    )
    family(
        "pdi_source_errors_total",
        "counter",
        "Harvest errors recorded per source.",
        [({"source": s}, health.get(s, {}).get("errors", 0)) for s in sources],
    )
    samples = []
    for s in sources:
        ok = health.get(s, {}).get("last_ok")
        if ok is not None:
            samples.append(({"source": s}, (now - ok).total_seconds()))
    family("pdi_source_seconds_since_last_success", "gauge", "Seconds since the source's last good harvest.", samples)
    samples = []
    for s in sources:
        run = last.get(s)
        if run and run.get("finished_at") and run.get("started_at"):
            samples.append(({"source": s}, (run["finished_at"] - run["started_at"]).total_seconds()))
    family("pdi_source_last_run_duration_seconds", "gauge", "Duration of the source's latest run.", samples)
    samples = []
    for s in sources:
        run = last.get(s)
        if run:
            for kind in ("new", "changed", "unchanged", "withdrawn", "failed"):
                samples.append(({"source": s, "kind": kind}, run.get(f"records_{kind}", 0) or 0))
    family("pdi_source_last_run_records", "gauge", "Records by outcome in the source's latest run.", samples)
    hosts = store.host_totals()
    family(
        "pdi_host_requests_total",
        "counter",
        "Requests sent to each portal host.",
        [({"host": h}, v["requests"]) for h, v in sorted(hosts.items())],
    )
    family(
        "pdi_host_retries_total",
        "counter",
        "Retries (timeouts, 429, 5xx) per portal host.",
        [({"host": h}, v["retries"]) for h, v in sorted(hosts.items())],
    )
    family(
        "pdi_host_bytes_total",
        "counter",
        "Response bytes read per portal host.",
        [({"host": h}, v["bytes"]) for h, v in sorted(hosts.items())],
    )
    return "\n".join(lines) + "\n"


def require_admin(
    state: Annotated[AppState, Depends(get_state)],
    x_pdi_admin_key: Annotated[str | None, Header(description="the admin key (PDI_ADMIN_KEY)")] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    expected = state.settings.admin_key.get_secret_value()
    if not expected:
        raise HTTPException(403, "admin actions are disabled: set PDI_ADMIN_KEY")
    given = x_pdi_admin_key
    if given is None and authorization and authorization.lower().startswith("bearer "):
        given = authorization[7:].strip()
    if not given:
        raise HTTPException(401, "admin key required (X-PDI-Admin-Key header)", headers={"WWW-Authenticate": "Bearer"})
    if not secrets.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(401, "wrong admin key", headers={"WWW-Authenticate": "Bearer"})


@router.post(
    "/api/admin/harvest",
    response_model=TriggerResponse,
    status_code=202,
    tags=["harvests"],
    summary="Harvest now (admin key required)",
    responses={401: {"description": "no or wrong admin key"}, 403: {"description": "admin actions disabled"}},
    dependencies=[Depends(require_admin)],
)
def trigger_harvest(
    state: Annotated[AppState, Depends(get_state)],
    jurisdiction: Annotated[list[str] | None, Query(description="only these jurisdictions' sources")] = None,
) -> Any:
    plans = state.seed.sources(only=jurisdiction) if jurisdiction else state.seed.sources()
    if jurisdiction:
        unknown = [j for j in jurisdiction if state.seed.get(j) is None]
        if unknown:
            raise HTTPException(400, f"jurisdiction: unknown id(s) {', '.join(unknown)}")
    if state.trigger is None:
        raise HTTPException(503, "this API process cannot harvest; run `pdi scheduler` or `pdi harvest`")
    result = state.trigger([p.source_id for p in plans])
    return TriggerResponse(accepted=True, sources=result["sources"], mode=result["mode"])
