"""The index contract shared by every backend.

A backend stores :class:`IndexDocument` s (derived from store records by :mod:`index.documents`)
and answers :class:`SearchQuery` s with a :class:`SearchPage`: the total, one page of hits in a
stable order, facet counts over the whole filtered result, and an opaque cursor for the next
page. The same contract test-suite runs against every backend.
"""

from __future__ import annotations

import base64
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

FACET_FIELDS = ("jurisdiction", "state", "category", "platform", "format", "status", "freshness", "keyword")


class SortOrder(StrEnum):
    RELEVANCE = "relevance"  # best match first; without a query, falls back to MODIFIED
    MODIFIED = "modified"  # most recently updated first
    ID = "id"  # document id ascending: a fixed order for clients that page through everything


class IndexUnavailable(RuntimeError):
    """The index cannot answer now (down, unreachable, not built); the API answers 503."""


class IndexOutdated(IndexUnavailable):
    """The index was built by an older version of its mapping; `pdi reindex` rebuilds it."""


class InvalidCursor(ValueError):
    """A cursor that this index did not issue for this sort order."""


@dataclass(frozen=True)
class IndexDocument:
    id: str
    title: str
    description: str
    keywords: list[str]
    columns: list[str]
    jurisdiction_text: str  # names of the jurisdictions and agency, for full-text matching
    modified: datetime | None
    facets: dict[str, list[str]]  # FACET_FIELDS -> values
    summary: dict[str, Any]  # what a search result shows; JSON-serialisable
    content_hash: str = ""  # the store's hash of the record, so the index can be checked against it


@dataclass(frozen=True)
class SearchQuery:
    q: str | None = None
    filters: dict[str, list[str]] = field(default_factory=dict)  # facet field -> any of values
    modified_after: datetime | None = None
    sort: SortOrder = SortOrder.RELEVANCE
    size: int = 20
    cursor: str | None = None
    facet_size: int = 60  # values per facet; 0 computes no facets (cheaper when paging through everything)
    # Hits to skip, for clients that page by position (CKAN's ``start``). Keyset ``cursor`` paging
    # is the stable way; an offset and a cursor are never combined.
    offset: int = 0

    def __post_init__(self) -> None:
        if self.size < 0 or self.offset < 0 or self.facet_size < 0:
            raise ValueError("size, offset and facet_size must not be negative")
        if self.offset and self.cursor:
            raise ValueError("a query pages by cursor or by offset, not both")


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int


@dataclass(frozen=True)
class SearchHit:
    id: str
    score: float | None
    summary: dict[str, Any]


@dataclass(frozen=True)
class SearchPage:
    total: int
    hits: list[SearchHit]
    facets: dict[str, list[FacetValue]]
    next_cursor: str | None


@dataclass
class IndexReport:
    indexed: int = 0
    deleted: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # doc id -> reason


def encode_cursor(sort: SortOrder, key: list[Any]) -> str:
    raw = json.dumps({"s": sort.value, "k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: SortOrder) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        key = data["k"]
        if data["s"] != sort.value or not isinstance(key, list) or len(key) != 2:
            raise ValueError
        if not isinstance(key[0], int | float) or isinstance(key[0], bool) or not isinstance(key[1], str):
            raise ValueError
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidCursor("cursor is not valid for this query (was it made with another sort?)") from exc
    return key


class SearchIndex(ABC):
    """What every index backend provides."""

    name: str

    @abstractmethod
    def upsert(self, documents: Iterable[IndexDocument]) -> IndexReport:
        """Add or replace documents by id. A document that cannot be indexed is reported in
        ``IndexReport.failed`` and never stops the batch."""

    @abstractmethod
    def delete(self, ids: Iterable[str]) -> IndexReport:
        """Remove documents by id; unknown ids are ignored."""

    @abstractmethod
    def search(self, query: SearchQuery) -> SearchPage:
        """Answer a query. Raises :class:`InvalidCursor` for a bad cursor and
        :class:`IndexUnavailable` when the backend cannot answer."""

    @abstractmethod
    def count(self) -> int:
        """Number of documents in the index."""

    @abstractmethod
    def clear(self) -> None:
        """Remove every document."""

    @abstractmethod
    def rebuild(self, documents: Iterable[IndexDocument]) -> IndexReport:
        """Replace the whole index with ``documents`` with no downtime: searches see the old
        index until the new one is complete, then the new one at once."""

    @abstractmethod
    def fingerprints(self) -> Iterator[tuple[str, str]]:
        """Every (document id, content hash) in the index, to check it against the store."""

    def health(self) -> dict[str, Any]:
        return {"backend": self.name, "documents": self.count()}

    def close(self) -> None:  # noqa: B027 - optional for backends
        """Release connections."""
