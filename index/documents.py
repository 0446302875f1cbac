"""From a store record to an index document: the one place that decides what is searchable,
what is a facet and what a search result shows."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from catalog.record import CatalogRecord, Distribution, SourceRef
from catalog.vocabulary import FreshnessStatus
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
    committed: tuple[str, ...] = ()  # the PDI categories its seed commits it to (for coverage)


def plain_text(text: str) -> str:
    """Descriptions may arrive as HTML; index and show them as plain text (escaped again on output)."""
    return _SPACE.sub(" ", _TAGS.sub(" ", text)).strip()


def format_label(dist: Distribution) -> str:
    """A distribution's format as the ``format`` facet has it: its format, else its media type's
    subtype, in upper case ("" when it has neither)."""
    label = (dist.format or "").strip()
    if not label and dist.mediaType:
        label = dist.mediaType.split("/")[-1]
    return label.upper()


def _formats(record: CatalogRecord) -> list[str]:
    out: list[str] = []
    for dist in record.distribution:
        label = format_label(dist)
        if label and label not in out:
            out.append(label)
    return out


def keywords(record: CatalogRecord) -> list[str]:
    """The record's keywords as facet values (and CKAN tags): trimmed, blanks dropped, each once."""
    out = [_SPACE.sub(" ", k).strip() for k in record.keyword]
    return list(dict.fromkeys(k for k in out if k))


def modified(record: CatalogRecord) -> datetime | None:
    """The date a record sorts and filters by: last data update, else last metadata update, else
    the DCAT ``modified``; always timezone-aware. None when the portal gave no date."""
    value = _modified(record)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


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


def document_fingerprint(record_hash: str, freshness: FreshnessStatus) -> str:
    """What a document is checked against the store by: the record's content hash and the
    freshness status it was indexed with. The status changes with time while the record does not,
    so a status that moved makes the document stale too (see :mod:`index.sync`)."""
    return f"{record_hash}:{freshness.value}"


def _platform(source: SourceRef) -> str:
    return (source.portal_platform.value if source.portal_platform else None) or source.platform


def to_document(
    record: CatalogRecord,
    jurisdictions: Mapping[str, JurisdictionInfo],
    freshness: FreshnessStatus | None = None,
) -> IndexDocument:
    """The index document of a dataset. ``freshness``: its status now (computed from the store's
    freshness facts); without it, the status the record itself holds (``unknown`` as harvested),
    which the end-of-harvest index sync then corrects. A dataset seen through several sources
    (``pdi.sources``, set by the store) is one document: its platform facet holds every source's
    platform, its summary lists every source."""
    pdi = record.pdi
    status = freshness or pdi.freshness.status
    infos = [jurisdictions[j] for j in pdi.jurisdictions if j in jurisdictions]
    states = sorted({i.state for i in infos})
    platform = _platform(pdi.source)
    sources = pdi.sources or [pdi.source]
    platforms = list(dict.fromkeys([platform, *(_platform(s) for s in sources)]))
    when = modified(record)
    description = plain_text(record.description)
    formats = _formats(record)
    summary = {
        "id": record.id,
        "title": record.title,
        "description": description[:SUMMARY_DESCRIPTION_CHARS],
        "jurisdiction": pdi.jurisdiction,
        "jurisdictions": [{"id": i.id, "name": i.name, "state": i.state} for i in infos],
        "categories": pdi.category_ids,
        "modified": when.isoformat() if when else None,
        "platform": platform,
        "formats": formats,
        "publisher": record.publisher.name,
        "landing_page": record.landingPage,
        "status": pdi.status.value,
        "freshness": status.value,
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
        modified=when,
        facets={
            "jurisdiction": list(pdi.jurisdictions),
            "state": states,
            "category": pdi.category_ids,
            "platform": platforms,
            "format": formats,
            "status": [pdi.status.value],
            "freshness": [status.value],
            "keyword": keywords(record),
        },
        summary=summary,
        content_hash=document_fingerprint(record.content_hash(), status),
    )
