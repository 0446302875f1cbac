"""Socrata: the Discovery (Cetera) catalog API for the listing, ``/api/views/<id>.json`` for details.

Gather pages through ``{source.url}/api/catalog/v1`` restricted to the source's own domain, in
dataset-id order. A listing entry has no column types, row count or custom metadata; ``enrich``
adds the dataset's views document (read with sodapy) for the records the classifier kept. A raw
record's content is ``{"catalog": <Cetera result>}`` and, once enriched, also ``"view"``.
"""

from __future__ import annotations

import logging
import re
import threading
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

from sodapy import Socrata

from catalog.record import CatalogRecord
from harvesters import convert as c
from harvesters._paging import PageGuard, announced_total, fetch_page
from harvesters.base import GatherStats, Harvester, Probe, RawRecord, SourceContext, fingerprint
from harvesters.http import FetchError, HttpClient
from harvesters.registry import register

PAGE_SIZE = 100
PROBE_SIZE = 100  # the most recently updated datasets a probe fingerprints
FOUR_BY_FOUR = re.compile(r"^[a-z0-9]{4}-[a-z0-9]{4}$")


class _NoAppTokenNotice(logging.Filter):
    """sodapy logs on the root logger, at every client construction, that requests without an app
    token are throttled. We only read public metadata, politely; the notice would flood harvest
    output once per thread and portal, so it is dropped here and documented in the README."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without an app_token" not in record.getMessage()


logging.getLogger().addFilter(_NoAppTokenNotice())


# --------------------------------------------------------------------------------------------------
# Socrata-specific converters
# --------------------------------------------------------------------------------------------------


def view_columns(columns: Any) -> list[dict[str, Any]] | None:
    """Columns of a views document (``name``, ``fieldName``, ``dataTypeName``, ``description``),
    leaving out Socrata's own (field names starting with ``:`` such as ``:@computed_region_…``),
    which the portal adds and the publisher did not."""
    if not isinstance(columns, list):
        return None
    out = []
    for col in columns:
        if not isinstance(col, dict) or str(col.get("fieldName", "")).startswith(":"):
            continue
        entry = c.column(col.get("name"), col.get("fieldName"), col.get("dataTypeName"), col.get("description"))
        if entry is not None:
            out.append(entry)
    return out or None


def catalog_columns(resource: Any) -> list[dict[str, Any]] | None:
    """Columns of a Cetera entry, zipped from its parallel ``columns_name``, ``columns_field_name``,
    ``columns_datatype`` and ``columns_description`` arrays."""
    if not isinstance(resource, dict):
        return None

    def array(key: str) -> list[Any]:
        value = resource.get(key)
        return value if isinstance(value, list) else []

    names, fields = array("columns_name"), array("columns_field_name")
    types, descriptions = array("columns_datatype"), array("columns_description")
    out = []
    for i in range(max(len(names), len(fields))):
        field_name = fields[i] if i < len(fields) else None
        if isinstance(field_name, str) and field_name.startswith(":"):
            continue
        entry = c.column(
            names[i] if i < len(names) else None,
            field_name,
            types[i] if i < len(types) else None,
            descriptions[i] if i < len(descriptions) else None,
        )
        if entry is not None:
            out.append(entry)
    return out or None


def row_count(columns: Any) -> int | None:
    """Rows in the dataset from the views document's column statistics (``cachedContents``):
    the largest ``non_null + null`` of any column."""
    if not isinstance(columns, list):
        return None
    counts = []
    for col in columns:
        cached = col.get("cachedContents") if isinstance(col, dict) else None
        if isinstance(cached, dict):
            non_null, null = c.count(cached.get("non_null")), c.count(cached.get("null"))
            if non_null is not None:
                counts.append(non_null + (null or 0))
    return max(counts) if counts else None


def row_downloads(
    domain: Any, base_url: Any, dataset_id: Any, view_type: Any, resource_type: Any
) -> list[dict[str, Any]] | None:
    """CSV and JSON exports (``/api/views/<id>/rows.csv|json?accessType=DOWNLOAD`` on the entry's
    domain, else the source's host), the ones Socrata's own data.json lists; only for tabular
    datasets (views ``viewType`` ``tabular``, or Cetera type ``dataset`` without a views document)."""
    tabular = view_type == "tabular" if view_type is not None else resource_type == "dataset"
    host = c.text(domain)
    base = f"https://{host}" if host else c.text(base_url)
    ident = c.text(dataset_id)
    if not tabular or base is None or ident is None or not FOUR_BY_FOUR.match(ident):
        return None
    return c.unique_distributions(
        c.distribution(
            download_url=f"{base.rstrip('/')}/api/views/{ident}/rows.{ext}?accessType=DOWNLOAD",
            kind=kind,
            format_name=ext.upper(),
            title=f"{ext.upper()} export",
        )
        for ext, kind in (("csv", "text/csv"), ("json", "application/json"))
    )


def _custom(section: str, name: str) -> str:
    return f"view.metadata.custom_fields.{section}.{name}"


def _domain_meta(section: str, name: str) -> str:
    return f"catalog.classification.domain_metadata[key={section.replace(' ', '-')}_{name}].value"


# Custom metadata names differ by domain (Seattle: "Refresh Frequency/Frequency"; NYC: "Update/
# Update Frequency"; others "Dataset Information/Update Frequency"); the listing flattens them to
# "<Section>_<Field>" with dashes for spaces.
_FREQUENCY = (
    _custom("Refresh Frequency", "Frequency"),
    _custom("Update", "Update Frequency"),
    _custom("Dataset Information", "Update Frequency"),
    _domain_meta("Refresh Frequency", "Frequency"),
    _domain_meta("Update", "Update-Frequency"),
    _domain_meta("Dataset Information", "Update-Frequency"),
)
_OWNER = (_custom("Data Owner", "Owner"), _domain_meta("Data Owner", "Owner"))

MAPPING = c.MappingTable(
    platform="socrata",
    content='`{"catalog": <Cetera result>, "view": <views document>}`; either key may be absent (a '
    "listing entry before enrichment, or a recorded views document alone). Views fields come first.",
    rules=(
        c.rule("title", "view.name", c.text),
        c.rule("title", "catalog.resource.name", c.text),
        c.rule("description", "view.description", c.plain_text),
        c.rule("description", "catalog.resource.description", c.plain_text),
        c.rule("keyword", "view.tags", c.keywords),
        c.rule("keyword", "catalog.classification.domain_tags", c.keywords, "the domain's own tags"),
        c.rule("keyword", "catalog.classification.tags", c.keywords, "Socrata's tags"),
        c.rule("theme", "view.category", c.keywords, "the portal category"),
        c.rule("theme", "catalog.classification.domain_category", c.keywords, "the portal category"),
        c.rule("modified", "view.rowsUpdatedAt", c.iso_datetime, "epoch seconds"),
        c.rule("modified", "view.viewLastModified", c.iso_datetime, "epoch seconds"),
        c.rule("modified", "catalog.resource.data_updated_at", c.iso_datetime),
        c.rule("modified", "catalog.resource.updatedAt", c.iso_datetime),
        c.rule("issued", "view.createdAt", c.iso_datetime, "epoch seconds"),
        c.rule("issued", "catalog.resource.createdAt", c.iso_datetime),
        c.rule("publisher.name", "view.attribution", c.text),
        c.rule("publisher.name", "catalog.resource.attribution", c.text),
        *(c.rule("publisher.name", path, c.text, "custom metadata") for path in _OWNER),
        c.rule("contactPoint.fn", "view.owner.displayName", c.text, "the dataset's owner account"),
        c.rule("contactPoint.fn", "catalog.owner.display_name", c.text, "the dataset's owner account"),
        *(c.rule("contactPoint.fn", path, c.text, "custom metadata") for path in _OWNER),
        c.rule("contactPoint.hasEmail", "view.contactEmail", c.email),
        c.rule("identifier", "context.remote_id", c.text, "the 4x4 id"),
        c.rule("license", "view.license.termsLink", c.http_url),
        c.rule("landingPage", "catalog.permalink", c.http_url),
        c.rule("landingPage", "catalog.link", c.http_url),
        *(c.rule("accrualPeriodicity", path, c.periodicity, "custom metadata") for path in _FREQUENCY),
        c.rule(
            "distribution",
            (
                "catalog.metadata.domain",
                "context.base_url",
                "context.remote_id",
                "view.viewType",
                "catalog.resource.type",
            ),
            row_downloads,
            "derived export links",
        ),
        c.rule("pdi.columns", "view.columns", view_columns),
        c.rule("pdi.columns", "catalog.resource", catalog_columns),
        c.rule("pdi.record_count", "view.columns", row_count),
        *(c.rule("pdi.freshness.accrual_periodicity", path, c.periodicity) for path in _FREQUENCY),
        *(c.rule("pdi.freshness.declared_frequency", path, c.text) for path in _FREQUENCY),
        c.rule("pdi.freshness.last_data_update", "view.rowsUpdatedAt", c.parse_datetime),
        c.rule("pdi.freshness.last_data_update", "catalog.resource.data_updated_at", c.parse_datetime),
        c.rule("pdi.freshness.last_metadata_update", "view.viewLastModified", c.parse_datetime),
        c.rule("pdi.freshness.last_metadata_update", "catalog.resource.metadata_updated_at", c.parse_datetime),
        c.rule("pdi.freshness.last_metadata_update", "catalog.resource.updatedAt", c.parse_datetime),
    ),
    notes=(
        "`issued` is the creation time, as the listing gives it; the views `publicationDate` moves "
        "each time the dataset is republished.",
        "The listing's old `updatedAt` does not say whether data or metadata changed, so it feeds "
        "`modified` and `last_metadata_update` but never `last_data_update`.",
        "Duplicate listing entries (the same id more than once, as in the recorded Cetera sample) "
        "are read once: the first wins.",
    ),
)


# --------------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------------


def _is_views_document(document: Any) -> bool:
    return (
        isinstance(document, dict)
        and isinstance(document.get("id"), str)
        and bool(FOUR_BY_FOUR.match(document["id"]))
        and isinstance(document.get("columns"), list)
    )


def _is_catalog_response(document: Any) -> bool:
    if not isinstance(document, dict) or not isinstance(document.get("results"), list):
        return False
    results = document["results"]
    if not results:
        return "resultSetSize" in document
    return all(isinstance(r, dict) and isinstance(r.get("resource"), dict) for r in results)


def _result_id(result: Any) -> str | None:
    resource = result.get("resource") if isinstance(result, dict) else None
    ident = resource.get("id") if isinstance(resource, dict) else None
    return ident.strip() if isinstance(ident, str) and ident.strip() else None


def _catalog(source: SourceContext) -> tuple[str, dict[str, Any]]:
    """The Discovery API endpoint of a source and the parameters that scope it to its domain."""
    host = urlsplit(source.url).netloc
    return f"{source.url.rstrip('/')}/api/catalog/v1", {"domains": host, "search_context": host, "only": "dataset"}


@register
class SocrataHarvester(Harvester):
    """Socrata portals: Discovery API listing, views metadata for the datasets we keep."""

    platform: ClassVar[str] = "socrata"
    title: ClassVar[str] = "Socrata (Discovery API catalog, views metadata for columns)"
    mapping: ClassVar[c.MappingTable] = MAPPING

    def __init__(self) -> None:
        # One sodapy client per (thread, HTTP client, host): sodapy warns on every construction
        # without an app token, and a fresh session per dataset would lose connection reuse.
        self._local = threading.local()

    def gather(self, source: SourceContext, http: HttpClient, stats: GatherStats) -> Iterator[RawRecord]:
        """Page through ``{source.url}/api/catalog/v1`` for this domain's datasets.

        Pages of 100 in ``dataset_id`` order (stable while paging), until the offset reaches the
        page's ``resultSetSize`` or a page is empty. A body without a ``results`` list, a page
        that repeats the previous one, an empty page short of the announced total and a page
        whose entries all lack an id raise :class:`GatherError`; so does a failed fetch.
        Duplicate ids are yielded once. Entries without an id are skipped and noted in
        ``stats.errors``.
        """
        endpoint, scope = _catalog(source)
        guard = PageGuard()
        offset = stats.resume_offset  # 0, or where an unfinished gather stopped
        while True:
            stats.page_offset = offset  # the page being read (the run checkpoints at page starts)
            params = {**scope, "limit": PAGE_SIZE, "offset": offset, "order": "dataset_id"}
            body, results, page_url = fetch_page(http, endpoint, params, stats, list_key="results", api="Discovery API")
            total = announced_total(body.get("resultSetSize"))
            stats.total = total
            if not results:
                guard.check_end(offset, total, page_url)
                break
            fetched_at = datetime.now(UTC)
            ids = [_result_id(r) for r in results]
            guard.check_page(ids, page_url)
            for ident, result in zip(ids, results, strict=True):
                if ident is None:
                    stats.errors.append(f"catalog entry without a resource id skipped ({page_url})")
                elif guard.first_time(ident):
                    yield RawRecord(ident, page_url, fetched_at, {"catalog": result})
            offset += len(results)
            if total is not None and offset >= total:
                break
        stats.complete = True

    def probe(self, source: SourceContext, http: HttpClient) -> Probe | None:
        """The catalog's size and its most recently updated page of datasets (``order=updatedAt
        DESC``, ids and update times): an added or removed dataset moves the size, an updated one
        enters that page. A page rather than one result, so an update stamped with the same second
        as others still shows."""
        endpoint, scope = _catalog(source)
        params = {**scope, "limit": PROBE_SIZE, "offset": 0, "order": "updatedAt DESC"}
        body, results, _ = fetch_page(http, endpoint, params, GatherStats(), list_key="results", api="Discovery API")
        total = announced_total(body.get("resultSetSize"))
        if total is None:
            return None
        latest = []
        for result in results:
            resource = result.get("resource") if isinstance(result, dict) else None
            resource = resource if isinstance(resource, dict) else {}
            stamps = {k: v for k, v in resource.items() if k.lower().endswith("at")}  # updatedAt, data_updated_at…
            latest.append((_result_id(result), stamps))
        return Probe(fingerprint(total, sorted(latest, key=str)), tracks_changes=True)

    def enrich(self, raw: RawRecord, source: SourceContext, http: HttpClient) -> RawRecord:
        """Add the dataset's views document (``/api/views/<id>.json``: columns, row statistics,
        custom metadata, update times), fetched with sodapy through ``http``'s session.

        Raises :class:`FetchError` when it cannot be read or is not that dataset's views document.
        """
        parts = urlsplit(source.url)
        url = f"{parts.scheme}://{parts.netloc}/api/views/{raw.remote_id}.json"
        client = self._client(http, parts.scheme, parts.netloc)
        try:
            view = client.get_metadata(raw.remote_id)
        except FetchError:
            raise
        # sodapy raises requests' HTTPError for a 4xx/5xx, a bare Exception for an unexpected
        # content type and AttributeError when there is none: each means "no usable document".
        except Exception as exc:  # noqa: BLE001
            status = getattr(getattr(exc, "response", None), "status_code", None)
            raise FetchError(f"views metadata could not be read: {exc}", url, status) from exc
        if not _is_views_document(view) or view.get("id") != raw.remote_id:
            raise FetchError(f"response is not the views document of {raw.remote_id}", url)
        content = {key: value for key, value in raw.content.items() if key == "catalog"}
        content["view"] = view
        return RawRecord(raw.remote_id, url, datetime.now(UTC), content)

    # Listing fields that move whenever the views document could have changed.
    _STAMPS = (
        "updatedAt",
        "createdAt",
        "data_updated_at",
        "metadata_updated_at",
        "columns_field_name",
        "columns_datatype",
    )

    def reuse(self, raw: RawRecord, stored: dict[str, Any], stored_url: str) -> RawRecord | None:
        """Reuse the stored views document when the catalog entry's update times and columns are
        the ones it was fetched with (page views and download counts may differ; they are noise)."""
        new_resource = raw.content.get("catalog", {}).get("resource", {})
        old_resource = (stored.get("catalog") or {}).get("resource", {})
        if "view" not in stored or not any(k in new_resource for k in self._STAMPS):
            return None
        if any(new_resource.get(k) != old_resource.get(k) for k in self._STAMPS):
            return None
        return RawRecord(
            raw.remote_id, stored_url, raw.fetched_at, {"catalog": raw.content["catalog"], "view": stored["view"]}
        )

    def _client(self, http: HttpClient, scheme: str, host: str) -> Socrata:
        per_http = getattr(self._local, "clients", None)
        if per_http is None:
            per_http = self._local.clients = weakref.WeakKeyDictionary()
        clients: dict[tuple[str, str], Socrata] = per_http.setdefault(http, {})
        client = clients.get((scheme, host))
        if client is None:
            client = Socrata(host, None, timeout=http.settings.timeout_s)
            client.session = http.new_session()
            # sodapy always writes https://; keep the source's scheme (a loopback simulator is http)
            client.uri_prefix = f"{scheme}://"
            clients[(scheme, host)] = client
        return client

    @staticmethod
    def map_record(raw: RawRecord, source: SourceContext) -> CatalogRecord:
        """Map a Cetera entry and/or views document through :data:`MAPPING` (pure)."""
        return c.map_with(MAPPING, raw, source)

    @staticmethod
    def recognizes(document: Any) -> bool:
        """A Discovery API response (``results`` of entries with a ``resource``) or a views
        document (a 4x4 ``id`` and a ``columns`` list)."""
        return _is_catalog_response(document) or _is_views_document(document)

    @staticmethod
    def split_document(document: Any, source_url: str, fetched_at: datetime) -> Iterator[RawRecord]:
        """One raw record per distinct dataset id of a Discovery response, or the one dataset of a
        views document."""
        if _is_views_document(document):
            yield RawRecord(document["id"], source_url, fetched_at, {"view": document})
            return
        if not _is_catalog_response(document):
            raise ValueError("not a Socrata Discovery API response or views document")
        seen: set[str] = set()
        for result in document["results"]:
            ident = _result_id(result)
            if ident is not None and ident not in seen:
                seen.add(ident)
                yield RawRecord(ident, source_url, fetched_at, {"catalog": result})
