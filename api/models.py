"""Public response models. They are the API contract (the OpenAPI document is generated from them)
and are kept apart from stored rows so the store can change without changing the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from catalog.record import CatalogRecord


class ErrorResponse(BaseModel):
    error: str = Field(description="what was wrong, in one sentence")
    detail: list[dict[str, Any]] | None = None


class JurisdictionRef(BaseModel):
    id: str
    name: str
    state: str


class SourceSummary(BaseModel):
    """One source a dataset is listed by."""

    source_id: str = Field(description="our id of the harvested endpoint, e.g. `socrata:data.seattle.gov`")
    platform: str = Field(
        description="the harvester that read it: socrata, ckan, dcat_us (a data.json feed), arcgis_server, "
        "opendatasoft or html"
    )
    portal_platform: str | None = Field(None, description="the software of the portal the source belongs to")
    portal_url: str | None = None
    remote_id: str = Field(description="the portal's own id of the dataset")


class SearchResult(BaseModel):
    id: str = Field(description="the dataset's id; `/api/datasets/{id}` has the whole record")
    title: str
    description: str = Field(description="plain text, first 400 characters")
    jurisdiction: str | None = Field(description="primary jurisdiction id")
    jurisdictions: list[JurisdictionRef]
    categories: list[str] = Field(description="PDI category ids, best first")
    modified: datetime | None = Field(description="last data (or metadata) update the portal reported")
    platform: str | None
    formats: list[str]
    publisher: str | None = None
    landing_page: str | None = None
    status: str
    freshness: str = Field(description="fresh, due, overdue, delinquent or unknown, as of this request")
    sources: list[SourceSummary] = Field(
        default_factory=list,
        description="every source the dataset is listed by now, the primary first: one dataset seen through "
        "several sources (a Socrata catalog and its data.json, a city and a county portal) is one result",
    )
    score: float | None = Field(None, description="relevance score when sorted by relevance")


class FacetCount(BaseModel):
    value: str
    count: int
    label: str | None = None


class SearchResponse(BaseModel):
    total: int
    results: list[SearchResult]
    facets: dict[str, list[FacetCount]]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")


class ColumnRename(BaseModel):
    from_: str = Field(alias="from")
    to: str


class ColumnRetype(BaseModel):
    name: str
    from_: str | None = Field(alias="from")
    to: str | None


class ColumnChanges(BaseModel):
    """A schema change: what users relying on a column need to know."""

    added: list[str]
    removed: list[str]
    renamed: list[ColumnRename]
    retyped: list[ColumnRetype]


class HistoryEntry(BaseModel):
    at: datetime
    change: str
    fields: list[str]
    run_id: int | None
    columns: ColumnChanges | None = Field(None, description="set when the dataset's columns changed")
    record_id: str | None = Field(None, description="the record (one source's) this change is about")
    source_id: str | None = Field(None, description="the source of that record")


class DatasetSource(SourceSummary):
    """One source's record of a dataset."""

    record_id: str = Field(
        description="our id of this source's record; any but the primary one's is an alias: "
        "`/api/datasets/{record_id}` answers with this dataset"
    )
    source_url: str = Field(description="the document the record was read from")
    status: str = Field(description="active, or withdrawn once this source stopped listing the dataset")
    first_seen: datetime
    last_seen: datetime


class DatasetFreshness(BaseModel):
    """A dataset's freshness as of the request (HDX rules; see /api/freshness)."""

    status: str = Field(description="fresh, due, overdue, delinquent or unknown")
    periodicity: str | None = Field(description="the update period judged by: ISO 8601, `irregular` or `never`")
    periodicity_source: str = Field(description="declared, inferred (from update history), series or none")
    declared_frequency: str | None = Field(description="the period as the portal declares it")
    last_data_update: datetime | None
    expected_next_update: datetime | None
    days_overdue: int = Field(description="whole days past the expected next update")


class SeriesMember(BaseModel):
    id: str
    title: str
    label: str | None = Field(description="the period the release covers, e.g. 2019")
    latest: bool
    status: str = Field(description="its freshness status (older releases are final: fresh)")


class SeriesOut(BaseModel):
    """Periodic releases of the same data ("Use of Force 2019", "… 2020"), oldest first."""

    id: str
    name: str
    members: list[SeriesMember]


class HarvestHealthOut(BaseModel):
    runs: int = Field(description="finished harvest runs of its sources")
    succeeded: int
    success_rate: float | None = Field(description="succeeded / runs, null before any run")
    last_success_at: datetime | None = Field(
        description="every source of it was harvested successfully at least this recently"
    )
    last_status: str | None
    last_run_at: datetime | None


class DatasetResponse(BaseModel):
    id: str = Field(
        description="the dataset's id (its primary record's). Asked by an alias — another source's record of "
        "the same dataset — this is the id the alias resolves to"
    )
    status: str = Field(description="active while any source lists the dataset; withdrawn when none does")
    first_seen: datetime
    last_seen: datetime
    last_changed: datetime
    jurisdictions: list[JurisdictionRef]
    record: CatalogRecord = Field(
        description="the DCAT-US 1.1 dataset with the `pdi` extension: the primary source's record, with "
        "`pdi.sources` listing every source that lists it now and `pdi.jurisdictions` those of all of them"
    )
    aliases: list[str] = Field(description="ids of the other sources' records of this dataset")
    sources: list[DatasetSource] = Field(
        description="every source's record of this dataset, the primary first, including sources that stopped "
        "listing it (status withdrawn)"
    )
    history: list[HistoryEntry] = Field(description="changes of every source's record, newest first")
    schema_changed_at: datetime | None = Field(description="when the columns last changed, if they ever did")
    freshness: DatasetFreshness
    series: SeriesOut | None = Field(None, description="the series this dataset is a release of")


class SourceOut(BaseModel):
    source_id: str
    platform: str
    url: str
    last_run_status: str | None = None
    last_run_at: datetime | None = None


class PortalOut(BaseModel):
    platform: str
    url: str
    scope: str
    confidence: str
    harvested: bool
    not_harvested: str | None = None
    sources: list[SourceOut]


class JurisdictionOut(BaseModel):
    id: str
    name: str
    state: str
    agency: str
    in_original_21: bool
    committed_categories: list[str]
    portals: list[PortalOut]
    no_portal_known: str | None = None
    datasets: int = Field(description="active police datasets in the catalog")
    harvest: HarvestHealthOut = Field(description="how reliably its sources harvest")


class JurisdictionDetail(JurisdictionOut):
    categories: list[FacetCount] = Field(description="published datasets per category")
    recent: list[SearchResult] = Field(description="most recently updated datasets")
    freshness: dict[str, int] = Field(description="its datasets per freshness status, as of this request")


class ComponentHealth(BaseModel):
    ok: bool
    detail: dict[str, Any] = Field(default_factory=dict)


class HealthResponse(BaseModel):
    status: str = Field(description="ok, or degraded when a component is down")
    version: str
    store: ComponentHealth
    index: ComponentHealth


class ChangeEntry(BaseModel):
    id: str
    status: str = Field(description="active, or withdrawn when the dataset is gone from its portal")
    changed_at: datetime = Field(description="when the catalog's record of it last changed")
    first_seen: datetime
    withdrawn_at: datetime | None = None
    record: CatalogRecord = Field(description="the DCAT-US 1.1 dataset with the `pdi` extension")


class ChangesResponse(BaseModel):
    changes: list[ChangeEntry]
    has_more: bool = Field(description="more changes follow: ask again with next_cursor")
    next_cursor: str | None = Field(
        description="where to go on from, now or at the next sync; null when nothing changed since `since`"
    )
