"""The harvester contract.

A harvester module (``harvesters/<platform>.py``) defines one :class:`Harvester` subclass and
registers it with :func:`harvesters.registry.register`. Adding a platform edits no other module.

Two stages, kept apart so a mapping fix can re-run over stored raw records without re-harvesting:

* **gather** (I/O): read a source's whole catalog, page by page, and yield :class:`RawRecord` s —
  the portal's JSON untouched, with its remote id, source URL and fetch time.
* **map** (pure): turn one raw record into one :class:`catalog.record.CatalogRecord`, with no I/O,
  no settings and no globals.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from catalog.record import CatalogRecord
from catalog.vocabulary import PortalPlatform
from harvesters.http import HttpClient


@dataclass(frozen=True)
class SourceContext:
    """What a harvester knows about the source it reads; built from the seed."""

    source_id: str
    platform: str
    url: str
    portal_url: str | None = None
    portal_platform: PortalPlatform | None = None
    scope: str = "jurisdiction"
    jurisdictions: tuple[str, ...] = ()


@dataclass(frozen=True)
class RawRecord:
    """One dataset's metadata exactly as the portal gave it.

    ``content`` is the portal's JSON untouched. Where a platform needs two documents for one
    dataset (a Socrata catalog entry plus its ``/api/views`` metadata), ``content`` holds each under
    a key naming its document, still untouched.
    """

    remote_id: str
    source_url: str
    fetched_at: datetime
    content: dict[str, Any]


@dataclass
class GatherStats:
    """Counted by a gather as it goes; read by the harvest run."""

    pages: int = 0
    requests: int = 0
    complete: bool = False  # True only once the whole catalog was read without error
    total: int | None = None  # the catalog's size as the portal announces it, when it does
    errors: list[str] = field(default_factory=list)


class GatherError(Exception):
    """The gather could not finish: the source's catalog was not read whole.

    A run that ends in a GatherError withdraws nothing.
    """

    def __init__(self, message: str, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class MappingError(ValueError):
    """One raw record could not be mapped; recorded against that record, never fatal to the run."""


class Harvester(ABC):
    """One portal platform: how to gather its catalog and how to map one of its records."""

    #: the name seeds use in ``sources[].platform``; unique across the registry
    platform: ClassVar[str]
    #: a one-line description for docs and ``pdi platforms``
    title: ClassVar[str]

    @abstractmethod
    def gather(self, source: SourceContext, http: HttpClient, stats: GatherStats) -> Iterator[RawRecord]:
        """Yield every dataset of ``source`` as a :class:`RawRecord`, page by page.

        Must: page through the whole catalog with a stable order; stop when a page repeats the
        previous one (a paging loop) or comes back empty; fetch only through ``http`` (which owns
        timeouts, retries, politeness and the size cap — never sleep or retry here); count pages in
        ``stats`` and set ``stats.complete = True`` only after the last page was read.
        Must not: hold the whole catalog in memory; map or classify; write anywhere.
        Raises :class:`GatherError` when the catalog cannot be read whole (a failed page, a body that
        is not the expected shape); records already yielded stay valid.
        """

    def enrich(self, raw: RawRecord, source: SourceContext, http: HttpClient) -> RawRecord:
        """Fetch the per-dataset details a listing lacks (e.g. column types), for kept records only.

        Called only for records the classifier kept, so a large non-police catalog costs one
        listing, not one request per dataset. The default returns ``raw`` unchanged. May raise
        :class:`harvesters.http.FetchError`; the run then keeps the un-enriched record.
        """
        return raw

    def reuse(self, raw: RawRecord, stored: dict[str, Any], stored_url: str) -> RawRecord | None:
        """The enriched record rebuilt from what the store already holds, when the listing shows
        the dataset unchanged since — so an unchanged dataset costs no detail request.

        ``stored`` is the raw content stored for this record last time, ``stored_url`` its URL.
        Must return None unless the listing entry proves the details cannot have changed. Pure.
        """
        return None

    @staticmethod
    @abstractmethod
    def map_record(raw: RawRecord, source: SourceContext) -> CatalogRecord:
        """Map one raw record to a catalog record. Pure: no I/O, no settings, no globals.

        Must always return a record that is a valid DCAT-US 1.1 non-federal dataset, filling
        required fields the portal left out or malformed with honest defaults. Leaves
        ``pdi.categories`` empty (the classifier fills them). Raises :class:`MappingError` only when
        the raw record has no usable identity at all.
        """

    @staticmethod
    @abstractmethod
    def recognizes(document: Any) -> bool:
        """True when a whole recorded response ``document`` has this platform's shape."""

    @staticmethod
    @abstractmethod
    def split_document(document: Any, source_url: str, fetched_at: datetime) -> Iterator[RawRecord]:
        """The raw records inside one recorded response (a page, a data.json, one dataset).

        Used by ``pdi map`` and by tests over ``reference/portal-samples``; ``gather`` uses it too,
        so a recorded page and a live page are read the same way.
        """
