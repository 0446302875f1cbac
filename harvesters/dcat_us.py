"""DCAT-US ``data.json``: one document holds the whole catalog; a raw record is one dataset object.

Reads v1.1 ``dcat:Catalog`` objects (agency data.json files, ArcGIS Hub's
``/api/feed/dcat-us/1.1.json``, Socrata's and CKAN's exports) and the older Project Open Data
v1.0 form: a bare JSON array whose entries use ``keyword`` comma strings, ``publisher`` and
``contactPoint`` strings, ``mbox``, ``releaseDate`` and ``distribution[].formats[]``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

from catalog.record import CatalogRecord
from harvesters import convert as c
from harvesters.base import GatherError, GatherStats, Harvester, Probe, RawRecord, SourceContext
from harvesters.http import FetchError, HttpClient
from harvesters.registry import register

# --------------------------------------------------------------------------------------------------
# DCAT-specific converters
# --------------------------------------------------------------------------------------------------


def _pod_format(entry: dict[str, Any]) -> tuple[Any, Any]:
    """(media type, format label) of a v1.0 distribution: ``formats[0]`` or ``format``."""
    formats = entry.get("formats")
    if isinstance(formats, list) and formats and isinstance(formats[0], dict):
        return formats[0].get("value"), formats[0].get("label")
    return entry.get("format"), None


def distributions(distribution: Any, access_url: Any, format_: Any, web_service: Any) -> list[dict[str, Any]] | None:
    """Distributions, cleaned: v1.1 entries keep their fields when valid (a ``downloadURL`` with no
    known media type becomes an ``accessURL``); a v1.0 entry's ``accessURL`` is its file, so it
    becomes a ``downloadURL`` with the media type of ``formats[0]``; a v1.0 dataset without a
    distribution list uses its own ``accessURL``/``format``, and its ``webService`` becomes an
    API access URL."""
    items: list[dict[str, Any] | None] = []
    entries = distribution if isinstance(distribution, list) else []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        if "formats" in entry:
            kind, label = _pod_format(entry)
            items.append(c.distribution(url=entry.get("accessURL"), kind=kind, format_name=label))
        else:
            items.append(
                c.distribution(
                    download_url=entry.get("downloadURL"),
                    access_url=entry.get("accessURL"),
                    kind=entry.get("mediaType"),
                    format_name=entry.get("format"),
                    title=entry.get("title"),
                    description=entry.get("description"),
                    described_by=entry.get("describedBy"),
                )
            )
    if not entries:
        items.append(c.distribution(url=access_url, kind=format_))
    if c.http_url(web_service):
        items.append(c.distribution(access_url=web_service, format_name="API", title="API"))
    return c.unique_distributions(items)


MAPPING = c.MappingTable(
    platform="dcat_us",
    content="one DCAT-US dataset object (v1.1, or a v1.0 entry), untouched",
    rules=(
        c.rule("title", "title", c.text),
        c.rule("description", "description", c.plain_text, "Hub writes HTML"),
        c.rule("keyword", "keyword", c.keywords, "v1.0: a comma string"),
        c.rule("theme", "theme", c.keywords, 'Hub writes `""` for none'),
        c.rule("modified", "modified", c.dcat_modified),
        c.rule("issued", "issued", c.dcat_issued),
        c.rule("issued", "releaseDate", c.dcat_issued, "v1.0"),
        c.rule("publisher.name", "publisher.name", c.text),
        c.rule("publisher.name", "publisher", c.text, "v1.0: a string"),
        c.rule("contactPoint.fn", "contactPoint.fn", c.text),
        c.rule("contactPoint.fn", "contactPoint", c.text, "v1.0: a string"),
        c.rule("contactPoint.hasEmail", "contactPoint.hasEmail", c.email),
        c.rule("contactPoint.hasEmail", "mbox", c.email, "v1.0"),
        c.rule("identifier", "identifier", c.text),
        c.rule("identifier", "context.remote_id", c.text),
        c.rule("accessLevel", "accessLevel", c.access_level, 'v1.0 writes "Public"'),
        c.rule("license", "license", c.http_url, "prose licences are dropped"),
        c.rule("rights", "rights", c.rights_text),
        c.rule("spatial", "spatial", c.spatial, 'Hub writes `""` for none'),
        c.rule("temporal", "temporal", c.dcat_temporal),
        c.rule("accrualPeriodicity", "accrualPeriodicity", c.periodicity),
        c.rule("accrualPeriodicity", "frequency", c.periodicity, "Socrata's v1.0 export"),
        c.rule("landingPage", "landingPage", c.http_url),
        c.rule("describedBy", "describedBy", c.http_url),
        c.rule("language", "language", c.languages),
        c.rule("distribution", ("distribution", "accessURL", "format", "webService"), distributions),
        c.rule("pdi.freshness.accrual_periodicity", "accrualPeriodicity", c.periodicity),
        c.rule("pdi.freshness.accrual_periodicity", "frequency", c.periodicity),
        c.rule(
            "pdi.freshness.accrual_periodicity",
            "modified",
            c.repeating_duration,
            "`modified: R/P1W` states how often it changes",
        ),
        c.rule("pdi.freshness.declared_frequency", "accrualPeriodicity", c.text),
        c.rule("pdi.freshness.declared_frequency", "frequency", c.text),
        c.rule("pdi.freshness.last_data_update", "modified", c.date_only_datetime, "only when a date"),
    ),
    notes=(
        "`bureauCode`, `programCode` and `publisher.subOrganizationOf` are federal fields the "
        "common record does not carry.",
        "A data.json has no separate metadata date, so `last_metadata_update` stays empty.",
    ),
)


# --------------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------------


def _looks_like_ckan_package(entry: dict[str, Any]) -> bool:
    return isinstance(entry.get("resources"), list) and "id" in entry


def _is_pod_array(document: Any) -> bool:
    return (
        isinstance(document, list)
        and bool(document)
        and all(isinstance(d, dict) for d in document)
        and any("identifier" in d for d in document)
        and not any(_looks_like_ckan_package(d) for d in document)
    )


def _is_catalog(document: Any) -> bool:
    return (
        isinstance(document, dict)
        and isinstance(document.get("dataset"), list)
        and all(isinstance(d, dict) for d in document["dataset"])
    )


def _describes_data_json(entry: dict[str, Any]) -> bool:
    # Socrata's v1.0 export lists the data.json itself as its first "dataset"
    for key in ("identifier", "webService", "accessURL"):
        value = entry.get(key)
        if isinstance(value, str) and urlsplit(value.strip()).path.endswith("/data.json"):
            return True
    return False


def _datasets(document: Any) -> list[dict[str, Any]] | None:
    if _is_catalog(document):
        return list(document["dataset"])
    if _is_pod_array(document):
        return [d for d in document if not _describes_data_json(d)]
    return None


def _remote_id(dataset: dict[str, Any]) -> str | None:
    """The dataset's ``identifier``; its ``landingPage`` when a publisher left the identifier out."""
    return c.text(dataset.get("identifier")) or c.http_url(dataset.get("landingPage"))


@register
class DcatUsHarvester(Harvester):
    """Any portal that publishes a DCAT-US ``data.json`` (v1.1 catalog or v1.0 array)."""

    platform: ClassVar[str] = "dcat_us"
    title: ClassVar[str] = "DCAT-US data.json (v1.1 catalogs incl. ArcGIS Hub feeds; POD v1.0 arrays)"
    mapping: ClassVar[c.MappingTable] = MAPPING

    def probe(self, source: SourceContext, http: HttpClient) -> Probe | None:
        """The hash of the whole ``data.json``: the document is the catalog. The request is
        conditional, so an unchanged document is answered 304 and not sent again."""
        try:
            response = http.get(source.url)
        except FetchError as exc:
            raise GatherError(f"data.json could not be read: {exc}", source.url) from exc
        if response.status_code != 200:
            return None
        return Probe(hashlib.sha256(response.content).hexdigest()[:32], tracks_changes=True)

    def gather(self, source: SourceContext, http: HttpClient, stats: GatherStats) -> Iterator[RawRecord]:
        """Read the whole ``data.json`` at ``source.url`` (one page) and yield each dataset.

        A failed fetch or a body that is neither a catalog with a ``dataset`` list nor a v1.0 array
        raises :class:`GatherError`. Datasets without an identifier (or landing page) and repeated
        identifiers are skipped and noted in ``stats.errors``.
        """
        try:
            document = http.get_json(source.url)
        except FetchError as exc:
            raise GatherError(f"data.json could not be read: {exc}", source.url) from exc
        finally:
            stats.requests += 1
        datasets = _datasets(document)
        if datasets is None:
            raise GatherError("not a DCAT-US catalog (no 'dataset' list) nor a v1.0 dataset array", source.url)
        stats.pages += 1
        stats.total = len(datasets)
        fetched_at = datetime.now(UTC)
        seen: set[str] = set()
        for position, dataset in enumerate(datasets):
            ident = _remote_id(dataset)
            if ident is None:
                stats.errors.append(f"dataset #{position} has no identifier; skipped ({source.url})")
            elif ident in seen:
                stats.errors.append(f"identifier {ident!r} appears more than once; the first kept ({source.url})")
            else:
                seen.add(ident)
                yield RawRecord(ident, source.url, fetched_at, dataset)
        stats.complete = True

    @staticmethod
    def map_record(raw: RawRecord, source: SourceContext) -> CatalogRecord:
        """Map one dataset object through :data:`MAPPING` (pure)."""
        return c.map_with(MAPPING, raw, source)

    @staticmethod
    def recognizes(document: Any) -> bool:
        """A catalog object with a ``dataset`` list, or a v1.0 array of dataset objects."""
        return _datasets(document) is not None

    @staticmethod
    def split_document(document: Any, source_url: str, fetched_at: datetime) -> Iterator[RawRecord]:
        """One raw record per dataset with a distinct identifier (v1.0: not the data.json entry)."""
        datasets = _datasets(document)
        if datasets is None:
            raise ValueError("not a DCAT-US catalog or v1.0 dataset array")
        seen: set[str] = set()
        for dataset in datasets:
            ident = _remote_id(dataset)
            if ident is not None and ident not in seen:
                seen.add(ident)
                yield RawRecord(ident, source_url, fetched_at, dataset)
