"""Socrata: the Discovery (Cetera) catalog API, views metadata and a little SODA.

Shapes follow ``reference/portal-samples/socrata/``: the Cetera search response (with the
fields current Cetera adds: data/metadata update times, column types, page views, owner) and the
``/api/views/<4x4>.json`` metadata document with epoch-second times and ``custom_fields``.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Callable
from typing import Any

from simulator.dataset import FREQUENCIES, SimDataset
from simulator.dates import epoch, iso_z
from simulator.platforms import Shapes, register, route
from simulator.render import LICENSES, fourby, sample_rows, socrata_words, stable_int, stable_uuid
from simulator.wire import Reply, SimRequest, error
from simulator.world import PortalView

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_CETERA_TYPES = {
    "text": "Text",
    "number": "Number",
    "calendar_date": "Calendar date",
    "checkbox": "Checkbox",
    "point": "Point",
    "location": "Location",
    "url": "URL",
}
_ONLY = {"datasets": "dataset", "charts": "chart", "maps": "map", "filters": "filter", "files": "file"}
_ONLY.update({"hrefs": "href", "links": "href", "stories": "story"})
_DISPLAY = {"dataset": "table", "filter": "table", "chart": "chart", "map": "map", "href": "href", "file": "blob"}
_VIEW_TYPE = {"href": "href", "file": "blobby"}
_SortKey = Callable[[SimDataset], Any]
_ORDERS: dict[str, tuple[_SortKey, bool]] = {  # key, descending by default
    "relevance": (lambda d: d.page_views, True),
    "name": (lambda d: d.title.lower(), False),
    "createdat": (lambda d: d.created_at, False),
    "updatedat": (lambda d: d.updated_at, True),
    "dataset_id": (lambda d: d.remote_id, False),
    "page_views_total": (lambda d: d.page_views, True),
    "page_views_last_week": (lambda d: d.views_per_day, True),
    "page_views_last_month": (lambda d: d.views_per_day, True),
}


def _owner(ds: SimDataset) -> dict[str, Any]:
    return {"id": fourby(ds.host, ds.publisher), "user_type": "interactive", "display_name": ds.publisher}


def _frequency_metadata(view: PortalView, ds: SimDataset) -> list[dict[str, str]]:
    fieldset, field = view.habits.freq_field
    out = []
    if ds.frequency:
        key = f"{fieldset.replace(' ', '-')}_{field.replace(' ', '-')}"
        out.append({"value": FREQUENCIES[ds.frequency].label, "key": key})
    out.append({"value": ds.publisher, "key": "Data-Owner_Owner"})
    return out


def _page_views(ds: SimDataset) -> dict[str, float]:
    week, month = int(ds.views_per_day * 7), int(ds.views_per_day * 30)
    return {
        "page_views_last_week": week,
        "page_views_last_month": month,
        "page_views_total": ds.page_views,
        "page_views_last_week_log": round(math.log2(week + 1), 6),
        "page_views_last_month_log": round(math.log2(month + 1), 6),
        "page_views_total_log": round(math.log2(ds.page_views + 1), 6),
    }


def cetera_result(req: SimRequest, view: PortalView, ds: SimDataset) -> dict[str, Any]:
    """One ``results[]`` entry of the Discovery API."""
    tabular = ds.asset_type in ("dataset", "filter", "chart", "map")
    cols = ds.columns if tabular else []
    license_label = LICENSES[ds.license][0] if ds.license else None
    resource: dict[str, Any] = {
        "name": ds.title,
        "id": ds.remote_id,
        "parent_fxf": [],
        "description": ds.description,
        "attribution": ds.publisher,
        "attribution_link": None,
        "contact_email": None,
        "type": ds.asset_type,
        "updatedAt": iso_z(ds.updated_at),
        "createdAt": iso_z(ds.created_at),
        "metadata_updated_at": iso_z(ds.metadata_updated_at),
        "data_updated_at": iso_z(ds.data_updated_at),
        "publication_date": iso_z(ds.created_at),
        "page_views": _page_views(ds),
        "columns_name": [c.name for c in cols],
        "columns_field_name": [c.field_name for c in cols],
        "columns_datatype": [_CETERA_TYPES.get(c.datatype, "Text") for c in cols],
        "columns_description": [c.description for c in cols],
        "columns_format": [{} for _ in cols],
        "download_count": ds.download_count,
        "provenance": "official",
        "lens_view_type": _VIEW_TYPE.get(ds.asset_type, "tabular"),
        "lens_display_type": _DISPLAY.get(ds.asset_type, "table"),
        "blob_mime_type": "application/pdf" if ds.asset_type == "file" else None,
        "hide_from_data_json": ds.hide_from_data_json,
        "obe_fxf": ds.remote_id,
        "nbe_fxf": fourby(ds.remote_id, "nbe") if tabular else None,
    }
    metadata: dict[str, Any] = {"domain": ds.host}
    if license_label:
        metadata["license"] = license_label
    return {
        "resource": resource,
        "classification": {
            "categories": ["public safety"] if ds.domain_category == "Public Safety" else [],
            "tags": [],
            "domain_category": [ds.domain_category],
            "domain_tags": list(ds.tags),
            "domain_metadata": _frequency_metadata(view, ds),
        },
        "metadata": metadata,
        "permalink": req.link(f"/d/{ds.remote_id}"),
        "link": req.link(f"/{socrata_words(ds.domain_category)}/{socrata_words(ds.title)}/{ds.remote_id}"),
        "owner": _owner(ds),
        "creator": _owner(ds),
    }


def _cetera_error(message: str) -> Reply:
    return error(400, {"error": message}, "socrata.error")


def _search(req: SimRequest, datasets: tuple[SimDataset, ...]) -> list[tuple[int, SimDataset]]:
    """(score, dataset) of every dataset the filters keep."""
    words = re.findall(r"\w+", (req.arg("q") or "").lower())
    ids = set(req.args("ids"))
    only = {_ONLY.get(t.lower(), t.lower()) for t in req.args("only")}
    categories = {c.lower() for c in req.args("categories")}
    tags = {t.lower() for t in req.args("tags")}
    attribution = (req.arg("attribution") or "").lower()
    out = []
    for ds in datasets:
        if ids and ds.remote_id not in ids:
            continue
        if only and ds.asset_type not in only:
            continue
        if categories and ds.domain_category.lower() not in categories:
            continue
        if tags and not tags & {t.lower() for t in ds.tags}:
            continue
        if attribution and attribution != ds.publisher.lower():
            continue
        score = 0
        if words:
            title = ds.title.lower()
            text = " ".join([ds.description, *ds.tags, *(c.name for c in ds.columns)]).lower()
            if not all(w in title or w in text for w in words):
                continue
            score = sum(3 * title.count(w) + text.count(w) for w in words)
        out.append((score, ds))
    return out


@route(r"/api/catalog/v1/?")
def catalog(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply:
    """``GET /api/catalog/v1`` — the Discovery API, paged by offset/limit or scroll_id."""
    try:
        offset = int(req.arg("offset") or 0)
        limit = int(req.arg("limit") or DEFAULT_LIMIT)
    except ValueError:
        return _cetera_error("offset and limit must be non-negative integers")
    if offset < 0 or limit < 0:
        return _cetera_error("offset and limit must be non-negative integers")
    limit = min(limit, MAX_LIMIT)
    domains = {d.lower() for d in req.args("domains") + req.args("search_context")}
    found = [] if domains and view.spec.host not in domains else _search(req, view.datasets)
    scroll = req.arg("scroll_id")
    order = (req.arg("order") or "relevance").strip()
    if scroll is not None:
        found = sorted((s for s in found if s[1].remote_id > scroll), key=lambda s: s[1].remote_id)
        offset = 0
    else:
        name, _, direction = order.replace("+", " ").partition(" ")
        if name.lower() not in _ORDERS:
            return _cetera_error(f"Invalid order '{order}'; expected one of {', '.join(_ORDERS)}")
        key, descending = _ORDERS[name.lower()]
        if direction.strip():
            descending = direction.strip().upper() == "DESC"
        found.sort(key=lambda s: s[1].remote_id)  # ties resolve by id, always
        if name.lower() == "relevance" and req.arg("q"):
            found.sort(key=lambda s: (s[0], s[1].page_views), reverse=True)
        else:
            found.sort(key=lambda s: key(s[1]), reverse=descending)
    page = found[offset : offset + limit]
    crc = zlib.crc32(f"{view.spec.host}:{len(found)}".encode())  # made-up timings, the same for every page
    return Reply(
        payload={
            "results": [cetera_result(req, view, ds) for _, ds in page],
            "resultSetSize": len(found),
            "timings": {"serviceMillis": 4 + crc % 40, "searchMillis": 1 + crc % 9},
        },
        document="socrata.catalog",
    )


def _not_found(view_id: str) -> Reply:
    return error(
        404,
        {"code": "not_found", "error": True, "message": f"Cannot find view with id {view_id}"},
        "socrata.error",
    )


def views_document(req: SimRequest, view: PortalView, ds: SimDataset) -> dict[str, Any]:
    """The ``/api/views/<4x4>.json`` metadata document."""
    fieldset, field = view.habits.freq_field
    custom: dict[str, dict[str, str]] = {}
    if ds.frequency:
        custom[fieldset] = {field: FREQUENCIES[ds.frequency].label}
    custom.setdefault("Data Owner", {})["Owner"] = ds.publisher
    base_id = stable_int(ds.remote_id) % 400_000_000
    columns = []
    tabular = ds.asset_type in ("dataset", "filter", "chart", "map")
    for i, col in enumerate(ds.columns if tabular else []):
        nulls = 0 if i == 0 else ds.row_count * (stable_int(ds.remote_id, col.field_name) % 20) // 100
        columns.append(
            {
                "id": base_id + i,
                "name": col.name,
                "dataTypeName": col.datatype,
                "description": col.description,
                "fieldName": col.field_name,
                "position": i + 1,
                "renderTypeName": col.datatype,
                "tableColumnId": base_id // 100 + i,
                "width": 100 + 20 * (len(col.name) // 8),
                "cachedContents": {"non_null": ds.row_count - nulls, "null": nulls, "top": []},
                "format": {},
            }
        )
    owner: dict[str, Any] = {
        "id": fourby(ds.host, ds.publisher),
        "displayName": ds.publisher,
        "screenName": ds.publisher,
        "roleName": "publisher",
        "rights": [],
    }
    for size in ("Large", "Medium", "Small"):
        owner[f"profileImageUrl{size}"] = f"/api/users/{owner['id']}/profile_images/{size.upper()}"
    doc: dict[str, Any] = {
        "id": ds.remote_id,
        "name": ds.title,
        "attribution": ds.publisher,
        "averageRating": 0,
        "category": ds.domain_category,
        "createdAt": epoch(ds.created_at),
        "description": ds.description,
        "displayType": _DISPLAY.get(ds.asset_type, "table"),
        "downloadCount": ds.download_count,
        "hideFromCatalog": False,
        "hideFromDataJson": ds.hide_from_data_json,
        "indexUpdatedAt": epoch(ds.updated_at),
        "licenseId": (LICENSES[ds.license][2] if ds.license else "").upper().replace("-", "_") or None,
        "newBackend": False,
        "numberOfComments": 0,
        "oid": base_id // 10,
        "provenance": "official",
        "publicationAppendEnabled": False,
        "publicationDate": epoch(ds.created_at),
        "publicationGroup": base_id // 1000,
        "publicationStage": "published",
        "rowsUpdatedAt": epoch(ds.data_updated_at),
        "rowsUpdatedBy": owner["id"],
        "state": "normal",
        "tableId": base_id // 100,
        "totalTimesRated": 0,
        "viewCount": ds.page_views,
        "viewLastModified": epoch(ds.metadata_updated_at),
        "viewType": _VIEW_TYPE.get(ds.asset_type, "tabular"),
        "columns": columns,
        "grants": [{"inherited": False, "type": "viewer", "flags": ["public"]}],
        "metadata": {
            "custom_fields": custom,
            "renderTypeConfig": {"visible": {"table": True}},
            "availableDisplayTypes": ["table", "fatrow", "page"],
            "rdfSubject": "0",
        },
        "owner": owner,
        "query": {},
        "rights": ["read"],
        "tableAuthor": owner,
        "sortBys": [],
        "tags": list(ds.tags),
        "flags": ["default"],
    }
    if ds.license:
        label, url, _ = LICENSES[ds.license]
        doc["license"] = {"name": label, "termsLink": url}
    if columns:
        doc["rowIdentifierColumnId"] = columns[0]["id"]
        doc["metadata"]["rowIdentifier"] = columns[0]["id"]
    if ds.police and stable_int(ds.remote_id, "attachments") % 3 == 0:
        name = f"{ds.slug[:40]}-data-dictionary.pdf"
        blob = stable_uuid(ds.remote_id, "attachment").upper()
        doc["metadata"]["attachments"] = [{"assetId": "", "blobId": blob, "name": name, "filename": name}]
    return doc


@route(r"/api/views/(?P<id>[a-z0-9]{4}-[a-z0-9]{4})(?:\.json)?/?")
def views(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply:
    """``GET /api/views/<4x4>.json``."""
    ds = view.find(match["id"])
    if ds is None:
        return _not_found(match["id"])
    return Reply(payload=views_document(req, view, ds), document="socrata.views")


@route(r"/resource/(?P<id>[a-z0-9]{4}-[a-z0-9]{4})\.json")
def soda(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply:
    """``GET /resource/<4x4>.json`` — a few rows, or ``$select=count(*)`` for the record count."""
    ds = view.find(match["id"])
    if ds is None or ds.asset_type in ("href", "file"):
        return _not_found(match["id"])
    select = (req.arg("$select") or "").replace(" ", "").lower()
    if select.startswith("count(*)"):
        alias = select.partition("as")[2] or "count"
        return Reply(payload=[{alias: str(ds.row_count)}], document="socrata.soda")
    try:
        limit = min(int(req.arg("$limit") or 3), 50)
    except ValueError:
        return error(400, {"code": "query.soql.invalid", "error": True, "message": "Invalid $limit"})
    return Reply(payload=sample_rows(ds, limit), document="socrata.soda")


def drift(reply: Reply) -> Reply:
    """Renamed and missing fields, as when a platform upgrade changes its API under us."""
    body = reply.payload
    if reply.document == "socrata.catalog" and isinstance(body, dict):
        reply.payload = {"data": body["results"], "total": body["resultSetSize"], "timings": body["timings"]}
        for item in reply.payload["data"]:
            item["resource"].pop("updatedAt", None)
            item["resource"]["columns"] = item["resource"].pop("columns_field_name", [])
    elif reply.document == "socrata.views" and isinstance(body, dict):
        body["schema"] = {"fields": body.pop("columns", [])}
        body.pop("rowsUpdatedAt", None)
        body["title"] = body.pop("name", None)
    return reply


SHAPES = register(Shapes("socrata", (catalog, views, soda), drift))
