"""From a store record to an index document: the one place that decides what is searchable,
what is a facet and what a search result shows."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from catalog.record import CatalogRecord, SourceRef
from index.base import IndexDocument

SUMMARY_DESCRIPTION_CHARS = 400
_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class JurisdictionInfo:
    id: str
    name: str
    state: str
    agency: str


def plain_text(text: str) -> str:
    """Descriptions may arrive as HTML; index and show them as plain text (escaped again on output)."""
    return _SPACE.sub(" ", _TAGS.sub(" ", text)).strip()


def _formats(record: CatalogRecord) -> list[str]:
    out: list[str] = []
    for dist in record.distribution:
        label = (dist.format or "").strip()
        if not label and dist.mediaType:
            label = dist.mediaType.split("/")[-1]
        label = label.upper()
        if label and label not in out:
            out.append(label)
    return out


def _modified(record: CatalogRecord) -> datetime | None:
    fresh = record.pdi.freshness
    if fresh.last_data_update is not None:
        return fresh.last_data_update
    if fresh.last_metadata_update is not None:
        return fresh.last_metadata_update
    if record.modified:
        try:
            return datetime.fromisoformat(record.modified.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def _platform(source: SourceRef) -> str:
    return (source.portal_platform.value if source.portal_platform else None) or source.platform


def to_document(record: CatalogRecord, jurisdictions: Mapping[str, JurisdictionInfo]) -> IndexDocument:
    """The index document of a dataset. A dataset seen through several sources (``pdi.sources``,
    set by the store) is one document: its platform facet holds every source's platform, its
    summary lists every source."""
    pdi = record.pdi
    infos = [jurisdictions[j] for j in pdi.jurisdictions if j in jurisdictions]
    states = sorted({i.state for i in infos})
    platform = _platform(pdi.source)
    sources = pdi.sources or [pdi.source]
    platforms = list(dict.fromkeys([platform, *(_platform(s) for s in sources)]))
    modified = _modified(record)
    if modified is not None and modified.tzinfo is None:
        from datetime import UTC

        modified = modified.replace(tzinfo=UTC)
    description = plain_text(record.description)
    formats = _formats(record)
    summary = {
        "id": record.id,
        "title": record.title,
        "description": description[:SUMMARY_DESCRIPTION_CHARS],
        "jurisdiction": pdi.jurisdiction,
        "jurisdictions": [{"id": i.id, "name": i.name, "state": i.state} for i in infos],
        "categories": pdi.category_ids,
        "modified": modified.isoformat() if modified else None,
        "platform": platform,
        "formats": formats,
        "publisher": record.publisher.name,
        "landing_page": record.landingPage,
        "status": pdi.status.value,
        "freshness": pdi.freshness.status.value,
        "sources": [
            {
                "source_id": s.source_id,
                "platform": s.platform,
                "portal_platform": s.portal_platform.value if s.portal_platform else None,
                "portal_url": s.portal_url,
                "remote_id": s.remote_id,
            }
            for s in sources
        ],
    }
    return IndexDocument(
        id=record.id,
        title=record.title,
        description=description,
        keywords=[*record.keyword, *record.theme],
        columns=[c.name for c in pdi.columns] + [c.field_name for c in pdi.columns if c.field_name],
        jurisdiction_text=" ".join(f"{i.name} {i.state} {i.agency}" for i in infos),
        modified=modified,
        facets={
            "jurisdiction": list(pdi.jurisdictions),
            "state": states,
            "category": pdi.category_ids,
            "platform": platforms,
            "format": formats,
            "status": [pdi.status.value],
        },
        summary=summary,
        content_hash=record.content_hash(),
    )
