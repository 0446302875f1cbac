"""Search indexes over the store's records: one interface, an embedded SQLite FTS5 backend by default."""

from index.base import (
    FACET_FIELDS,
    FacetValue,
    IndexDocument,
    IndexReport,
    IndexUnavailable,
    SearchHit,
    SearchIndex,
    SearchPage,
    SearchQuery,
    SortOrder,
)

__all__ = [
    "FACET_FIELDS",
    "FacetValue",
    "IndexDocument",
    "IndexReport",
    "IndexUnavailable",
    "SearchHit",
    "SearchIndex",
    "SearchPage",
    "SearchQuery",
    "SortOrder",
]
