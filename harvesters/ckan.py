"""CKAN: ``package_search`` paged with ckanapi; a raw record is one package dict, untouched.

Portals that harvested a data.json (catalog.data.gov and its kind) keep the original DCAT-US
values in ``extras`` (``identifier``, ``modified``, ``publisher``, ``accessLevel``, …); those win
over CKAN's own bookkeeping fields when present.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

import requests
from ckanapi import RemoteCKAN
from ckanapi.errors import CKANAPIError, ServerIncompatibleError

from catalog.record import CatalogRecord
from harvesters import convert as c
from harvesters._paging import PageGuard
from harvesters.base import GatherError, GatherStats, Harvester, Probe, RawRecord, SourceContext, fingerprint
from harvesters.http import HttpClient
from harvesters.registry import register

PAGE_SIZE = 100
# Creation order never reshuffles pages while we read them (a dataset edited mid-gather would
# move under "metadata_modified"); the id breaks ties between datasets created in one batch.
SORT = "metadata_created asc, id asc"


# --------------------------------------------------------------------------------------------------
# CKAN-specific converters
# --------------------------------------------------------------------------------------------------


def resource_distributions(resources: Any) -> list[dict[str, Any]] | None:
    """One distribution per resource: ``url`` (a download when a media type is known from
    ``mimetype``, ``format`` or the file extension, else an access URL), ``name``, ``description``,
    ``format``."""
    if not isinstance(resources, list):
        return None
    return c.unique_distributions(
        c.distribution(
            url=res.get("url"),
            kind=res.get("mimetype"),
            format_name=res.get("format"),
            title=res.get("name"),
            description=res.get("description"),
        )
        for res in resources
        if isinstance(res, dict)
    )


def resource_columns(resources: Any) -> list[dict[str, Any]] | None:
    """Columns of the first resource that lists its fields: a Table Schema (``schema.fields``:
    name/type/title/description, possibly JSON-encoded) or a DataStore field list
    (``datastore_fields`` or ``fields``: id/type/info.label/info.notes)."""
    if not isinstance(resources, list):
        return None
    for res in resources:
        if not isinstance(res, dict):
            continue
        schema = res.get("schema")
        if isinstance(schema, str):
            try:
                schema = json.loads(schema)
            except ValueError:
                schema = None
        table_fields = schema.get("fields") if isinstance(schema, dict) else None
        if isinstance(table_fields, list):
            cols = [
                c.column(f.get("title") or f.get("name"), f.get("name"), f.get("type"), f.get("description"))
                for f in table_fields
                if isinstance(f, dict)
            ]
        else:
            store_fields = res.get("datastore_fields") or res.get("fields")
            if not isinstance(store_fields, list):
                continue
            cols = []
            for f in store_fields:
                if not isinstance(f, dict) or str(f.get("id", "")).startswith("_"):
                    continue  # the DataStore's own _id / _full_text
                info = f["info"] if isinstance(f.get("info"), dict) else {}
                cols.append(c.column(info.get("label") or f.get("id"), f.get("id"), f.get("type"), info.get("notes")))
        found = [col for col in cols if col is not None]
        if found:
            return found
    return None


def dataset_page(url: Any, name: Any) -> str | None:
    """The dataset's page on the portal, ``{source.url}/dataset/{name}``."""
    root, slug = c.text(url), c.text(name)
    if root is None or slug is None:
        return None
    return c.http_url(f"{root.rstrip('/')}/dataset/{quote(slug)}")


def _extra(key: str) -> str:
    return f"extras[key={key}].value"


_FREQUENCY = (_extra("accrualPeriodicity"), "frequency", _extra("frequency"), _extra("update_frequency"))

MAPPING = c.MappingTable(
    platform="ckan",
    content="a CKAN package dict (`package_show` result / one `package_search` result)",
    rules=(
        c.rule("title", "title", c.text),
        c.rule("title", "name", c.text),
        c.rule("description", "notes", c.plain_text, "Markdown kept as text"),
        c.rule("keyword", "tags[].name", c.keywords),
        c.rule("theme", "groups[].title", c.keywords, "the portal's groups"),
        c.rule("theme", _extra("theme"), c.keywords),
        c.rule("modified", _extra("modified"), c.dcat_modified, "from a harvested data.json"),
        c.rule("modified", "metadata_modified", c.iso_datetime),
        c.rule("issued", _extra("issued"), c.dcat_issued),
        c.rule("issued", "metadata_created", c.iso_datetime),
        c.rule("publisher.name", _extra("publisher"), c.text),
        c.rule("publisher.name", "organization.title", c.text),
        c.rule("contactPoint.fn", _extra("contact_name"), c.text),
        c.rule("contactPoint.fn", "maintainer", c.text),
        c.rule("contactPoint.fn", "author", c.text),
        c.rule("contactPoint.hasEmail", _extra("contact_email"), c.email),
        c.rule("contactPoint.hasEmail", "maintainer_email", c.email),
        c.rule("contactPoint.hasEmail", "author_email", c.email),
        c.rule("identifier", _extra("identifier"), c.text, "the data.json identifier"),
        c.rule("identifier", "id", c.text),
        c.rule("accessLevel", _extra("accessLevel"), c.access_level),
        c.rule("accessLevel", _extra("public_access_level"), c.access_level),
        c.rule("license", "license_url", c.http_url),
        c.rule("license", _extra("license"), c.http_url),
        c.rule("rights", _extra("rights"), c.rights_text),
        c.rule("spatial", _extra("spatial"), c.spatial),
        c.rule("temporal", _extra("temporal"), c.dcat_temporal),
        *(c.rule("accrualPeriodicity", path, c.periodicity) for path in _FREQUENCY),
        c.rule("landingPage", _extra("landingPage"), c.http_url),
        c.rule("landingPage", "url", c.http_url, "the package's source link"),
        c.rule("landingPage", ("context.url", "name"), dataset_page),
        c.rule("describedBy", _extra("describedBy"), c.http_url),
        c.rule("language", _extra("language"), c.languages),
        c.rule("distribution", "resources", resource_distributions),
        c.rule("pdi.columns", "resources", resource_columns),
        *(c.rule("pdi.freshness.accrual_periodicity", path, c.periodicity) for path in _FREQUENCY),
        *(c.rule("pdi.freshness.declared_frequency", path, c.text) for path in _FREQUENCY),
        c.rule("pdi.freshness.last_data_update", "resources[].last_modified", c.latest_datetime),
        c.rule("pdi.freshness.last_data_update", _extra("modified"), c.date_only_datetime),
        c.rule("pdi.freshness.last_data_update", "metadata_modified", c.parse_datetime),
        c.rule("pdi.freshness.last_metadata_update", "metadata_modified", c.parse_datetime),
    ),
    notes=(
        "No record count: CKAN gives one only through a DataStore query, which mapping cannot make.",
        "A missing `last_modified` on every resource falls back to the data.json `modified`, "
        "then to `metadata_modified` (which also moves on metadata-only edits).",
    ),
)


# --------------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------------


def _is_package(document: Any) -> bool:
    return (
        isinstance(document, dict)
        and isinstance(document.get("id"), str)
        and isinstance(document.get("name"), str)
        and isinstance(document.get("resources"), list)
    )


def _is_search_result(result: Any) -> bool:
    return (
        isinstance(result, dict)
        and isinstance(result.get("results"), list)
        and "count" in result
        and all(_is_package(p) for p in result["results"])
    )


def _packages(document: Any) -> list[Any] | None:
    """The package dicts of a recorded response, or None when it is no CKAN shape we know."""
    if isinstance(document, list):
        return document if document and all(_is_package(p) for p in document) else None
    if not isinstance(document, dict):
        return None
    if _is_package(document):
        return [document]
    result = document.get("result")
    if "success" not in document or not isinstance(result, dict):
        return None
    if _is_search_result(result):
        return list(result["results"])
    if _is_package(result):
        return [result]
    return None


def _short(exc: BaseException, limit: int = 300) -> str:
    # ckanapi puts the whole response body into its messages
    message = str(exc)
    return message if len(message) <= limit else message[:limit] + "…"


@register
class CkanHarvester(Harvester):
    """CKAN portals through the action API (``package_search``)."""

    platform: ClassVar[str] = "ckan"
    title: ClassVar[str] = "CKAN (action API package_search, read with ckanapi)"
    mapping: ClassVar[c.MappingTable] = MAPPING

    def probe(self, source: SourceContext, http: HttpClient) -> Probe | None:
        """``count`` and the most recently modified page of packages (``sort=metadata_modified
        desc``, ids and times). A new resource or a changed one moves the package's
        ``metadata_modified``; a page rather than one row, so a change stamped like others shows."""
        ckan = RemoteCKAN(source.url, user_agent=http.settings.user_agent, get_only=True, session=http.session)
        params: dict[str, Any] = {"rows": PAGE_SIZE, "start": 0, "sort": "metadata_modified desc"}
        url = f"{source.url.rstrip('/')}/api/action/package_search?{urlencode(params)}"
        try:
            result = ckan.action.package_search(**params)
        except (CKANAPIError, ServerIncompatibleError, requests.RequestException, ValueError) as exc:
            raise GatherError(f"package_search probe failed: {_short(exc)}", url) from exc
        if not isinstance(result, dict) or not isinstance(result.get("results"), list):
            return None
        count = result.get("count")
        if not isinstance(count, int) or isinstance(count, bool):
            return None
        latest = sorted(
            (str(p.get("id")), str(p.get("metadata_modified"))) for p in result["results"] if isinstance(p, dict)
        )
        return Probe(fingerprint(count, latest), tracks_changes=True)

    def gather(self, source: SourceContext, http: HttpClient, stats: GatherStats) -> Iterator[RawRecord]:
        """Page through ``package_search`` (100 rows, sorted by creation then id) until ``start``
        reaches the page's ``count`` or a page is empty.

        Requests go through ckanapi with ``http``'s session. A failed call, a result without a
        ``results`` list, a repeated page and an empty page short of ``count`` raise
        :class:`GatherError` naming the URL. Packages without an id are skipped and noted.
        """
        ckan = RemoteCKAN(source.url, user_agent=http.settings.user_agent, get_only=True, session=http.session)
        endpoint = f"{source.url.rstrip('/')}/api/action/package_search"
        guard = PageGuard()
        start = stats.resume_offset  # 0, or where an unfinished gather stopped
        while True:
            stats.page_offset = start  # the page being read (the run checkpoints at page starts)
            params: dict[str, Any] = {"rows": PAGE_SIZE, "start": start, "sort": SORT}
            page_url = f"{endpoint}?{urlencode(params)}"
            try:
                result = ckan.action.package_search(**params)
            except (CKANAPIError, ServerIncompatibleError, requests.RequestException, ValueError) as exc:
                raise GatherError(f"package_search at start {start} failed: {_short(exc)}", page_url) from exc
            finally:
                stats.requests += 1
            if not isinstance(result, dict) or not isinstance(result.get("results"), list):
                raise GatherError("package_search result has no 'results' list; the API changed shape", page_url)
            stats.pages += 1
            packages = result["results"]
            total = result.get("count")
            total = total if isinstance(total, int) and not isinstance(total, bool) else None
            stats.total = total
            if not packages:
                guard.check_end(start, total, page_url)
                break
            fetched_at = datetime.now(UTC)
            ids = [p.get("id") if isinstance(p, dict) and isinstance(p.get("id"), str) else None for p in packages]
            guard.check_page(ids, page_url)
            for ident, package in zip(ids, packages, strict=True):
                if ident is None:
                    stats.errors.append(f"package without an id skipped ({page_url})")
                elif guard.first_time(ident):
                    yield RawRecord(ident, page_url, fetched_at, package)
            start += len(packages)
            if total is not None and start >= total:
                break
        stats.complete = True

    @staticmethod
    def map_record(raw: RawRecord, source: SourceContext) -> CatalogRecord:
        """Map one package dict through :data:`MAPPING` (pure)."""
        return c.map_with(MAPPING, raw, source)

    @staticmethod
    def recognizes(document: Any) -> bool:
        """A ``package_search`` or ``package_show`` envelope, a bare package dict, or a JSON array
        of package dicts (as catalog.data.gov's are recorded)."""
        return _packages(document) is not None

    @staticmethod
    def split_document(document: Any, source_url: str, fetched_at: datetime) -> Iterator[RawRecord]:
        """One raw record per distinct package id in the document."""
        packages = _packages(document)
        if packages is None:
            raise ValueError("not a CKAN package_search/package_show response or package dict(s)")
        seen: set[str] = set()
        for package in packages:
            ident = package["id"]
            if ident not in seen:
                seen.add(ident)
                yield RawRecord(ident, source_url, fetched_at, package)
