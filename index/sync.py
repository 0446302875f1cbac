"""Keeping the index in step with the store, the registry of record.

The index is derived: a harvest writes the store first and the index after, so when the index was
down or rejected a document, the store is right and the index behind. :func:`sync_index`
compares the two by content hash and repairs the difference — missing or stale documents are
(re)indexed, documents of records no longer active are removed. It runs at the end of every
harvest run, so the index catches up by itself once it is back.

A document also holds the record's freshness status (a search facet), which changes with the clock
while the record does not: the comparison includes the status at ``now`` (see
:func:`index.documents.document_fingerprint`), so each sync re-indexes the documents whose status
moved. Between syncs the facet can lag by up to one harvest interval; search hits show the status
computed at request time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from catalog.vocabulary import FreshnessStatus
from index.base import IndexDocument, SearchIndex
from index.documents import JurisdictionInfo, document_fingerprint, to_document
from store import Store
from store.coverage import freshness_statuses
from store.store import utcnow

BATCH = 500


@dataclass
class SyncReport:
    indexed: int = 0
    deleted: int = 0
    failed: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.indexed or self.deleted)


def sync_index(
    store: Store,
    index: SearchIndex,
    jurisdictions: Mapping[str, JurisdictionInfo],
    now: datetime | None = None,
) -> SyncReport:
    """Bring ``index`` in line with ``store`` (freshness as of ``now``, default the clock);
    raises IndexUnavailable if the index is down."""
    statuses = freshness_statuses(store, now or utcnow())
    in_index = dict(index.fingerprints())
    report = SyncReport()
    stale: list[str] = []
    for record_id, digest in store.fingerprints():
        expected = document_fingerprint(digest, statuses.get(record_id, FreshnessStatus.UNKNOWN))
        if in_index.pop(record_id, None) != expected:
            stale.append(record_id)
    if in_index:
        report.deleted = index.delete(list(in_index)).deleted
    for start in range(0, len(stale), BATCH):
        docs = list(_documents(store, stale[start : start + BATCH], jurisdictions, statuses))
        result = index.upsert(docs)
        report.indexed += result.indexed
        report.failed += len(result.failed)
    return report


def _documents(
    store: Store,
    ids: list[str],
    jurisdictions: Mapping[str, JurisdictionInfo],
    statuses: Mapping[str, FreshnessStatus],
) -> Iterator[IndexDocument]:
    # the datasets of these (canonical, active) ids, duplicates merged, read a batch at a time
    datasets, _gone = store.index_view(ids)
    for record in datasets:
        yield to_document(record, jurisdictions, statuses.get(record.id, FreshnessStatus.UNKNOWN))
