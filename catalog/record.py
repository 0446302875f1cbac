"""The common catalog record: a DCAT-US 1.1 dataset plus the PDI extension.

Field names of :class:`CatalogRecord` are the DCAT-US (Project Open Data 1.1) names, so that
``record.to_dcat()`` is a valid non-federal DCAT-US dataset with one extra key, ``pdi``, that
holds what DCAT-US has no place for: jurisdiction, categories, source, freshness, columns,
record count. Mappers guarantee the DCAT-required fields (title, description, publisher,
contactPoint, identifier, accessLevel) even where a portal left them out.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from catalog.vocabulary import Category, FreshnessStatus, PortalPlatform, RecordStatus


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Organization(_Model):
    type: str = Field(default="org:Organization", alias="@type")
    name: str


class ContactPoint(_Model):
    type: str = Field(default="vcard:Contact", alias="@type")
    fn: str
    hasEmail: str | None = None


class Distribution(_Model):
    type: str = Field(default="dcat:Distribution", alias="@type")
    title: str | None = None
    description: str | None = None
    downloadURL: str | None = None
    accessURL: str | None = None
    mediaType: str | None = None
    format: str | None = None
    describedBy: str | None = None


class Column(_Model):
    """One column of the data as the portal describes it."""

    name: str
    field_name: str | None = None
    type: str | None = None
    description: str | None = None


class CategoryAssignment(_Model):
    """One category the classifier gave a record, with how sure it is and why."""

    category: Category
    confidence: float = Field(ge=0.0, le=1.0)
    evidence: list[str] = Field(default_factory=list)


class SourceRef(_Model):
    """Where a record came from. ``harvested``/``first_seen``/``last_seen`` are set by the store."""

    platform: str  # the harvester platform that read it (socrata, ckan, dcat_us, ...)
    portal_platform: PortalPlatform | None = None
    portal_url: str | None = None
    source_id: str  # our id of the harvestable endpoint
    source_url: str  # the document the raw record was read from
    remote_id: str  # the portal's own id of the dataset
    scope: str = "jurisdiction"  # or "state": a statewide portal shared by several jurisdictions
    harvested: datetime | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None


class Freshness(_Model):
    accrual_periodicity: str | None = None  # ISO 8601 repeating duration or "irregular"
    declared_frequency: str | None = None  # the portal's own words, e.g. "Monthly"
    last_data_update: datetime | None = None
    last_metadata_update: datetime | None = None
    status: FreshnessStatus = FreshnessStatus.UNKNOWN


class PdiExtension(_Model):
    id: str
    jurisdiction: str | None = None  # primary jurisdiction id (seed), set by the harvest run
    jurisdictions: list[str] = Field(default_factory=list)
    categories: list[CategoryAssignment] = Field(default_factory=list)
    police_related: bool = False
    source: SourceRef  # the primary source (of the canonical record when several sources list it)
    # every source the dataset is listed by now, primary first; set by the store on the records it
    # serves (empty on a freshly mapped record). See store/merge.py.
    sources: list[SourceRef] = Field(default_factory=list)
    freshness: Freshness = Field(default_factory=Freshness)
    columns: list[Column] = Field(default_factory=list)
    record_count: int | None = None
    status: RecordStatus = RecordStatus.ACTIVE

    @property
    def category_ids(self) -> list[str]:
        return [c.category.value for c in self.categories]


class CatalogRecord(_Model):
    """One dataset in the common catalog (DCAT-US 1.1 dataset + ``pdi`` extension)."""

    type: str = Field(default="dcat:Dataset", alias="@type")
    title: str
    description: str
    keyword: list[str] = Field(default_factory=list)
    modified: str | None = None
    issued: str | None = None
    publisher: Organization
    contactPoint: ContactPoint
    identifier: str
    accessLevel: str = "public"
    license: str | None = None
    rights: str | None = None
    spatial: str | None = None
    temporal: str | None = None
    accrualPeriodicity: str | None = None
    landingPage: str | None = None
    theme: list[str] = Field(default_factory=list)
    distribution: list[Distribution] = Field(default_factory=list)
    describedBy: str | None = None
    language: list[str] = Field(default_factory=list)
    pdi: PdiExtension

    @property
    def id(self) -> str:
        return self.pdi.id

    def to_dcat(self) -> dict[str, Any]:
        """This record as a DCAT-US 1.1 dataset object (with the ``pdi`` extension key).

        Empty optional fields are left out rather than written as ``null`` or ``[]``: the schema
        forbids empty ``keyword``/``theme`` arrays, and absent reads better to inventories.
        """
        data = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        for key in ("keyword", "theme", "distribution", "language"):
            if not data.get(key):
                data.pop(key, None)
        if not data["pdi"].get("sources"):
            data["pdi"].pop("sources", None)
        return data

    @classmethod
    def from_dcat(cls, data: dict[str, Any]) -> CatalogRecord:
        return cls.model_validate(data)

    def content_hash(self) -> str:
        """Hash of what the portal said, ignoring our own bookkeeping (harvest times, status).

        Two harvests of an unchanged dataset give the same hash, so they cost no write.
        """
        data = self.model_dump(mode="json", by_alias=True)
        for src in [data["pdi"]["source"], *data["pdi"].get("sources", [])]:
            for key in ("harvested", "first_seen", "last_seen"):
                src.pop(key, None)
        if not data["pdi"].get("sources"):
            data["pdi"].pop("sources")  # so a record mapped before ``sources`` existed keeps its hash
        data["pdi"].pop("status", None)
        blob = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()
