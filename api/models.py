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
    freshness: str
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


class JurisdictionDetail(JurisdictionOut):
    categories: list[FacetCount] = Field(description="published datasets per category")
    recent: list[SearchResult] = Field(description="most recently updated datasets")


class ComponentHealth(BaseModel):
    ok: bool
    detail: dict[str, Any] = Field(default_factory=dict)


class HealthResponse(BaseModel):
    status: str = Field(description="ok, or degraded when a component is down")
    version: str
    store: ComponentHealth
    index: ComponentHealth
