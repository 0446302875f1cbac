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


def make_dated_record(
    remote_id: str,
    title: str,
    *,
    last: datetime,
    period: str | None = None,
    words: str | None = None,
    categories: tuple[str, ...] = ("use_of_force",),
    jurisdictions: tuple[str, ...] = ("seattle-wa",),
    source: str = "socrata:data.seattle.gov",
) -> CatalogRecord:
    """A police record with the given categories, jurisdictions and freshness fields: its last data
    update, and its declared period as mapped (``period``, ISO) or as the portal's words."""
    from catalog.record import CategoryAssignment
    from catalog.vocabulary import Category

    base = make_record(remote_id, title, jurisdiction=jurisdictions[0], source=source)
    pdi = base.pdi.model_copy(
        update={
            "jurisdictions": list(jurisdictions),
            "categories": [CategoryAssignment(category=Category(c), confidence=0.9) for c in categories],
            "police_related": True,
            "freshness": base.pdi.freshness.model_copy(
                update={"accrual_periodicity": period, "declared_frequency": words, "last_data_update": last}
            ),
        }
    )
    return base.model_copy(update={"pdi": pdi})
