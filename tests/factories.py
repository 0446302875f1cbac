"""Small builders of catalog records for store and index tests."""

from __future__ import annotations

from datetime import UTC, datetime

from catalog.classify import classify_record
from catalog.ids import record_id
from catalog.record import (
    CatalogRecord,
    Column,
    ContactPoint,
    Distribution,
    Freshness,
    Organization,
    PdiExtension,
    SourceRef,
)
from catalog.vocabulary import PortalPlatform


def make_record(
    remote_id: str,
    title: str,
    *,
    description: str = "Published by the police department.",
    jurisdiction: str = "seattle-wa",
    source: str = "socrata:data.seattle.gov",
    keywords: list[str] | None = None,
    columns: list[str] | None = None,
    modified: datetime | None = None,
    formats: list[str] | None = None,
    platform: PortalPlatform = PortalPlatform.SOCRATA,
) -> CatalogRecord:
    record = CatalogRecord(
        title=title,
        description=description,
        keyword=keywords or ["police"],
        publisher=Organization(name="City"),
        contactPoint=ContactPoint(fn="City Open Data"),
        identifier=f"https://example.invalid/{remote_id}",
        distribution=[
            Distribution(downloadURL=f"https://example.invalid/{remote_id}.{f.lower()}", mediaType="text/csv", format=f)
            for f in (formats or ["CSV"])
        ],
        pdi=PdiExtension(
            id=record_id(source, remote_id),
            jurisdiction=jurisdiction,
            jurisdictions=[jurisdiction],
            source=SourceRef(
                platform=source.split(":")[0],
                portal_platform=platform,
                source_id=source,
                source_url=f"https://example.invalid/{remote_id}",
                remote_id=remote_id,
            ),
            freshness=Freshness(last_data_update=modified or datetime(2026, 1, 1, tzinfo=UTC)),
            columns=[Column(name=c) for c in (columns or [])],
        ),
    )
    return classify_record(record)
