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

import hashlib
import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
    # Offset-paged catalogs only: the offset to start at (a resumed gather), and the offset of the
    # page whose records are being yielded now (the run checkpoints at page boundaries).
    resume_offset: int = 0
    page_offset: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, requests: int = 0, pages: int = 0) -> None:
        """Add to the counters; safe from the threads of :func:`harvesters.fanout.ordered_map`."""
        with self._lock:
            self.requests += requests
            self.pages += pages


@dataclass(frozen=True)
class Probe:
    """A cheap fingerprint of a source's catalog, read before (instead of) gathering it whole.

    ``tracks_changes`` says what a steady fingerprint proves. True: it moves whenever a dataset is
    added, removed or modified (the catalog's size and latest modification time, or the hash of a
    one-document catalog), so an equal fingerprint means nothing changed. False: it follows only
    the catalog's structure (the folders and services of a directory, a page's links), so an equal
    fingerprint says no dataset came or went, not that none changed inside; the run trusts it for
    a shorter time (see :class:`ProbePolicy`).
    """

    fingerprint: str
    tracks_changes: bool


@dataclass(frozen=True)
class ProbePolicy:
    """When a steady probe (:class:`Probe`) lets a run settle a source unread.

    A change-tracking probe is trusted until the catalog's last whole read is ``full_read_every``
    old; a structural one (a directory's services, a page's hash) for ``structure_trusted_for``,
    shorter than a daily schedule by default, so scheduled runs read such sources whole and only
    re-runs the same day are spared. ``enabled=False`` (``pdi harvest --full``) always reads whole.
    """

    enabled: bool = True
    full_read_every: timedelta = timedelta(days=7)
    structure_trusted_for: timedelta = timedelta(hours=20)

    def steady(self, probe: Probe, kept: Mapping[str, Any], now: datetime) -> bool:
        """Whether ``probe`` equals the ``kept`` one and that is recent enough to be trusted."""
        if probe.fingerprint != kept["fingerprint"] or probe.tracks_changes != bool(kept["tracks_changes"]):
            return False
        trusted = self.full_read_every if probe.tracks_changes else self.structure_trusted_for
        return bool(now - kept["full_read_at"] < trusted)


def fingerprint(*parts: Any) -> str:
    """A short stable hash of JSON-serialisable parts, for :class:`Probe`."""
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


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

    def probe(self, source: SourceContext, http: HttpClient) -> Probe | None:
        """A fingerprint of the catalog from one or a few cheap requests, or None (the default)
        when the platform offers no such signal. When it equals the fingerprint taken before the
        last complete harvest, the run may settle the source as unchanged without gathering it.

        May raise :class:`GatherError` or :class:`harvesters.http.FetchError`; the run then
        gathers as usual. Must read only through ``http`` and write nothing.
        """
        return None

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
