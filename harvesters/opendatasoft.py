"""OpenDataSoft: the Explore API v2.1 catalog; a raw record is one ``results[]`` dataset, untouched.

Gather pages through ``{portal}/api/explore/v2.1/catalog/datasets`` in ``dataset_id`` order until
the offset reaches ``total_count``. Recorded responses may also be Explore API v2.0
(``/api/v2/catalog/datasets``: ``datasets[]`` of ``{"links": [...], "dataset": {...}}``, or one
such object); ``split_document`` reads both, and the mapping reads a v2.0 ``dataset`` with its
``links`` the way it reads a v2.1 entry.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

from catalog.record import CatalogRecord
from harvesters import convert as c
from harvesters._paging import PageGuard, announced_total, fetch_page
from harvesters.base import GatherError, GatherStats, Harvester, Probe, RawRecord, SourceContext, fingerprint
from harvesters.http import HttpClient
from harvesters.registry import register

PAGE_SIZE = 100  # the v2.1 maximum
#: v2.1 refuses ``offset + limit`` past this; a larger catalog cannot be paged whole
MAX_PAGED = 10_000
CATALOG_PATH = "/api/explore/v2.1/catalog/datasets"
#: export formats linked as distributions: (path segment, media type, format label)
EXPORTS = (
    ("csv", "text/csv", "CSV"),
    ("json", "application/json", "JSON"),
    ("geojson", "application/geo+json", "GeoJSON"),
)


# --------------------------------------------------------------------------------------------------
# OpenDataSoft-specific converters
# --------------------------------------------------------------------------------------------------


def ods_columns(fields: Any) -> list[dict[str, Any]] | None:
    """Columns from ``fields`` (``label``, ``name``, ``type`` such as ``text``, ``int``,
    ``double``, ``date``, ``datetime``, ``geo_point_2d``, and ``description``)."""
    if not isinstance(fields, list):
        return None
    out = [
        c.column(f.get("label"), f.get("name"), f.get("type"), f.get("description"))
        for f in fields
        if isinstance(f, dict)
    ]
    return [col for col in out if col is not None] or None


def _link(links: Any, rel: str) -> str | None:
    if not isinstance(links, list):
        return None
    for link in links:
        if isinstance(link, dict) and link.get("rel") == rel:
            return c.http_url(link.get("href"))
    return None


def _site(base_url: Any, links: Any) -> str | None:
    """The portal's scheme and host: from a v2.0 ``self`` link, else the source's."""
    href = _link(links, "self")
    parts = urlsplit(href or c.text(base_url) or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def explore_page(base_url: Any, links: Any, dataset_id: Any) -> str | None:
    """The dataset's page on the portal, ``{portal}/explore/dataset/{dataset_id}/``."""
    site, ident = _site(base_url, links), c.text(dataset_id)
    if site is None or ident is None:
        return None
    return c.http_url(f"{site}/explore/dataset/{quote(ident)}/")


def ods_distributions(
    base_url: Any, links: Any, dataset_id: Any, has_records: Any, features: Any, attachments: Any, alternatives: Any
) -> list[dict[str, Any]] | None:
    """The CSV and JSON exports (and GeoJSON for datasets with the ``geo`` feature) of a dataset
    that has records — v2.1 ``…/catalog/datasets/{id}/exports/{format}``, or under a v2.0
    ``exports`` link — then its ``attachments`` and ``alternative_exports`` files."""
    items: list[dict[str, Any] | None] = []
    ident = c.text(dataset_id)
    exports = _link(links, "exports")
    site = _site(base_url, links)
    if exports is None and site is not None and ident is not None:
        exports = f"{site}{CATALOG_PATH}/{quote(ident)}/exports"
    if exports is not None and has_records is not False:
        geo = isinstance(features, list) and "geo" in features
        for segment, kind, label in EXPORTS:
            if segment != "geojson" or geo:
                items.append(
                    c.distribution(
                        download_url=f"{exports.rstrip('/')}/{segment}",
                        kind=kind,
                        format_name=label,
                        title=f"{label} export",
                    )
                )
    for extra in (attachments, alternatives):
        for entry in extra if isinstance(extra, list) else []:
            if isinstance(entry, dict):
                items.append(
                    c.distribution(
                        url=entry.get("url") or entry.get("href"), kind=entry.get("mimetype"), title=entry.get("title")
                    )
                )
    return c.unique_distributions(items)


def temporal_range(start: Any, end: Any) -> str | None:
    """``temporal_coverage_start``/``_end`` as an ISO 8601 interval, when the schema accepts it."""
    begin, finish = c.text(start), c.text(end)
    if begin is None or finish is None:
        return None
    return c.dcat_temporal(f"{begin}/{finish}")


def place_names(value: Any) -> str | None:
    """``territory`` place names (``["Ingleburn", "Campbelltown (NSW)"]``) as one string."""
    names = c.keywords(value) if isinstance(value, list) else None
    return "; ".join(names) if names else None


def _default(name: str) -> str:
    return f"metas.default.{name}"


def _dcat(name: str) -> str:
    return f"metas.dcat.{name}"


MAPPING = c.MappingTable(
    platform="opendatasoft",
    content="one Explore API v2.1 `results[]` dataset, untouched (a v2.0 `datasets[].dataset` is read "
    "the same way, with its `links` beside it)",
    rules=(
        c.rule("title", _default("title"), c.text),
        c.rule("title", "dataset_id", c.text),
        c.rule("description", _default("description"), c.plain_text, "HTML"),
        c.rule("keyword", _default("keyword"), c.keywords),
        c.rule("theme", _default("theme"), c.keywords),
        c.rule("modified", _default("modified"), c.dcat_modified),
        c.rule("modified", _default("data_processed"), c.iso_datetime),
        c.rule("issued", _dcat("issued"), c.dcat_issued),
        c.rule("issued", _dcat("created"), c.dcat_issued),
        c.rule("publisher.name", _default("publisher"), c.text),
        c.rule("publisher.name", _dcat("creator"), c.text),
        c.rule("contactPoint.fn", _dcat("contact_name"), c.text),
        c.rule("contactPoint.hasEmail", _dcat("contact_email"), c.email),
        c.rule("identifier", "context.remote_id", c.text, "the dataset_id"),
        c.rule("license", _default("license_url"), c.http_url, "`license` (a name) is not a URL"),
        c.rule("spatial", _dcat("spatial"), c.spatial),
        c.rule("spatial", _default("bbox"), c.spatial, "GeoJSON"),
        c.rule("spatial", _default("territory"), place_names),
        c.rule("temporal", _dcat("temporal"), c.dcat_temporal),
        c.rule("temporal", (_dcat("temporal_coverage_start"), _dcat("temporal_coverage_end")), temporal_range),
        c.rule("accrualPeriodicity", _dcat("accrualperiodicity"), c.periodicity),
        c.rule("landingPage", ("context.base_url", "links", "dataset_id"), explore_page),
        c.rule("language", _default("language"), c.languages),
        c.rule(
            "distribution",
            (
                "context.base_url",
                "links",
                "dataset_id",
                "has_records",
                "features",
                "attachments",
                "alternative_exports",
            ),
            ods_distributions,
            "derived export links, then files",
        ),
        c.rule("pdi.columns", "fields", ods_columns),
        c.rule("pdi.record_count", _default("records_count"), c.count),
        c.rule("pdi.freshness.accrual_periodicity", _dcat("accrualperiodicity"), c.periodicity),
        c.rule("pdi.freshness.declared_frequency", _dcat("accrualperiodicity"), c.text),
        c.rule("pdi.freshness.last_data_update", _default("data_processed"), c.parse_datetime),
        c.rule("pdi.freshness.last_data_update", _default("modified"), c.date_only_datetime),
        c.rule("pdi.freshness.last_metadata_update", _default("metadata_processed"), c.parse_datetime),
    ),
    notes=(
        "`data_processed` is when the platform last processed the data, the closest it comes to a data "
        "update time; `modified` is the publisher's date, which moves with the data or the metadata only "
        "when the portal is set to (`modified_updates_on_*_change`).",
        "The v2.1 catalog refuses `offset + limit` past 10 000: a larger catalog fails its gather "
        "rather than being read in part.",
        "`license` names such as `CC BY` are not kept: DCAT-US `license` is a URL.",
    ),
)


# --------------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------------


def _is_dataset(entry: Any) -> bool:
    """A v2.1 dataset (or a v2.0 ``dataset`` object): a ``dataset_id`` and a ``metas`` object."""
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("dataset_id"), str)
        and bool(entry["dataset_id"].strip())
        and isinstance(entry.get("metas"), dict)
    )


def _is_v20_item(entry: Any) -> bool:
    return isinstance(entry, dict) and _is_dataset(entry.get("dataset"))


def _entries(document: Any) -> list[dict[str, Any]] | None:
    """The dataset entries of a recorded response (v2.1 page or dataset, v2.0 page or dataset)."""
    if not isinstance(document, dict):
        return None
    results = document.get("results")
    if isinstance(results, list) and "total_count" in document:
        return results if all(_is_dataset(r) for r in results) else None
    datasets = document.get("datasets")
    if isinstance(datasets, list) and "total_count" in document:
        return datasets if all(_is_v20_item(d) for d in datasets) else None
    if _is_v20_item(document) or _is_dataset(document):
        return [document]
    return None


def _entry_id(entry: dict[str, Any]) -> str:
    dataset = entry["dataset"] if _is_v20_item(entry) else entry
    return str(dataset["dataset_id"]).strip()


def as_v21(content: Any) -> dict[str, Any]:
    """A v2.0 ``{"links", "dataset"}`` item as a v2.1 dataset with its ``links`` beside it; a v2.1
    dataset as it is. Pure: only what the mapping reads."""
    if isinstance(content, dict) and isinstance(content.get("dataset"), dict):
        return {**content["dataset"], "links": content.get("links")}
    return content if isinstance(content, dict) else {}


def _result_id(result: Any) -> str | None:
    ident = result.get("dataset_id") if isinstance(result, dict) else None
    return ident.strip() if isinstance(ident, str) and ident.strip() else None


@register
class OpenDataSoftHarvester(Harvester):
    """OpenDataSoft portals through the Explore API v2.1 catalog."""

    platform: ClassVar[str] = "opendatasoft"
    title: ClassVar[str] = "OpenDataSoft (Explore API v2.1 catalog; v2.0 recorded responses)"
    mapping: ClassVar[c.MappingTable] = MAPPING

    def gather(self, source: SourceContext, http: HttpClient, stats: GatherStats) -> Iterator[RawRecord]:
        """Page through ``{portal}/api/explore/v2.1/catalog/datasets`` (100 a page, ``order_by=
        dataset_id``) until the offset reaches ``total_count`` or a page is empty.

        A failed page, a body without a ``results`` list, a repeated page, an empty page short of
        ``total_count``, a page whose entries all lack a ``dataset_id`` and a catalog larger than
        v2.1 paging reaches (:data:`MAX_PAGED`) raise :class:`GatherError`. Duplicate ids are
        yielded once; entries without an id are skipped and noted in ``stats.errors``.
        """
        parts = urlsplit(source.url)
        endpoint = f"{parts.scheme}://{parts.netloc}{CATALOG_PATH}"
        guard = PageGuard()
        offset = stats.resume_offset  # 0, or where an unfinished gather stopped
        while True:
            stats.page_offset = offset  # the page being read (the run checkpoints at page starts)
            params = {"limit": PAGE_SIZE, "offset": offset, "order_by": "dataset_id"}
            body, results, page_url = fetch_page(http, endpoint, params, stats, list_key="results", api="Explore API")
            total = announced_total(body.get("total_count"))
            if total is not None:
                stats.total = total
            if total is not None and total > MAX_PAGED:
                raise GatherError(
                    f"the catalog holds {total} datasets; v2.1 paging reads at most {MAX_PAGED}", page_url
                )
            if not results:
                guard.check_end(offset, total, page_url)
                break
            fetched_at = datetime.now(UTC)
            ids = [_result_id(r) for r in results]
            guard.check_page(ids, page_url)
            for ident, result in zip(ids, results, strict=True):
                if ident is None:
                    stats.errors.append(f"catalog entry without a dataset_id skipped ({page_url})")
                elif guard.first_time(ident):
                    yield RawRecord(ident, page_url, fetched_at, result)
            offset += len(results)
            if total is not None and offset >= total:
                break
        stats.complete = True

    def probe(self, source: SourceContext, http: HttpClient) -> Probe | None:
        """``total_count`` and the most recently modified page of datasets (``order_by=modified
        desc``, ids and times), a page so that a change stamped like others still shows."""
        parts = urlsplit(source.url)
        endpoint = f"{parts.scheme}://{parts.netloc}{CATALOG_PATH}"
        params = {"limit": PAGE_SIZE, "offset": 0, "order_by": "modified desc"}
        body, results, _ = fetch_page(http, endpoint, params, GatherStats(), list_key="results", api="Explore API")
        total = announced_total(body.get("total_count"))
        if total is None:
            return None
        latest = []
        for result in results:
            metas = result.get("metas") if isinstance(result, dict) else None
            default = metas.get("default") if isinstance(metas, dict) else None
            default = default if isinstance(default, dict) else {}
            stamps = {k: default.get(k) for k in ("modified", "data_processed", "metadata_processed")}
            latest.append((_result_id(result), stamps))
        return Probe(fingerprint(total, sorted(latest, key=str)), tracks_changes=True)

    @staticmethod
    def map_record(raw: RawRecord, source: SourceContext) -> CatalogRecord:
        """Map one dataset (v2.1, or v2.0 read as v2.1) through :data:`MAPPING` (pure)."""
        view = RawRecord(raw.remote_id, raw.source_url, raw.fetched_at, as_v21(raw.content))
        return c.map_with(MAPPING, view, source)

    @staticmethod
    def recognizes(document: Any) -> bool:
        """A v2.1 catalog page (``total_count`` and ``results`` of datasets) or dataset, or a v2.0
        catalog page (``datasets[].dataset``) or dataset (``{"links", "dataset"}``)."""
        return _entries(document) is not None

    @staticmethod
    def split_document(document: Any, source_url: str, fetched_at: datetime) -> Iterator[RawRecord]:
        """One raw record per distinct ``dataset_id``; a v2.0 entry keeps its ``links``."""
        entries = _entries(document)
        if entries is None:
            raise ValueError("not an OpenDataSoft Explore API v2.0/v2.1 catalog response or dataset")
        seen: set[str] = set()
        for entry in entries:
            ident = _entry_id(entry)
            if ident not in seen:
                seen.add(ident)
                yield RawRecord(ident, source_url, fetched_at, entry)
