"""CKAN: the action API (``/api/3/action/...`` and ``/api/action/...``, GET or POST JSON).

Shapes follow ``reference/portal-samples/ckan/``: the ``{"help", "success", "result"}`` envelope,
package dicts with organisation, tags, groups, resources and extras, and CKAN's error envelope
(``success: false`` with ``error.__type``) and status codes (404 not found, 409 validation).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from simulator.dataset import FREQUENCIES, SimDataset, slugify
from simulator.dates import ckan_ts, day
from simulator.platforms import Shapes, register, route
from simulator.render import LICENSES, stable_int, stable_uuid
from simulator.wire import Reply, SimRequest
from simulator.world import PortalView

DEFAULT_ROWS = 10
MAX_ROWS = 1000
DEFAULT_SORT = "score desc, metadata_modified desc"
_SORTS = {
    "metadata_created": lambda d: d.created_at,
    "metadata_modified": lambda d: d.updated_at,
    "name": lambda d: d.slug,
    "title_string": lambda d: d.title.lower(),
    "title": lambda d: d.title.lower(),
    "id": lambda d: d.remote_id,
}
_FACETS = ("organization", "groups", "res_format", "tags", "license_id")
_FORMATS = (  # (format, mimetype, extension, resource name)
    ("CSV", "text/csv", "csv", "{title} (CSV)"),
    ("JSON", "application/json", "json", "{title} (JSON)"),
    ("GeoJSON", "application/geo+json", "geojson", "{title} (GeoJSON)"),
    ("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", "{title} (Excel)"),
    ("PDF", "application/pdf", "pdf", "Data Dictionary"),
)


def _envelope(req: SimRequest, action: str, result: Any) -> dict[str, Any]:
    return {"help": req.link(f"/api/3/action/help_show?name={action}"), "success": True, "result": result}


def _fail(req: SimRequest, action: str, status: int, error: dict[str, Any]) -> Reply:
    error.setdefault("message", error["__type"])
    body = {"help": req.link(f"/api/3/action/help_show?name={action}"), "success": False, "error": error}
    return Reply(status=status, payload=body, document="ckan.error")


def organization(view: PortalView, name: str) -> dict[str, Any]:
    return {
        "id": stable_uuid(view.spec.host, "org", name),
        "name": slugify(name),
        "title": name,
        "type": "organization",
        "description": "",
        "image_url": "",
        "created": ckan_ts(view.datasets[0].created_at) if view.datasets else "",
        "is_organization": True,
        "approval_status": "approved",
        "state": "active",
        "revision_id": stable_uuid(view.spec.host, "org-revision", name),
    }


def _formats(ds: SimDataset) -> list[tuple[str, str, str, str]]:
    bits = stable_int(ds.remote_id, "resources")
    out = [_FORMATS[0]]
    if bits % 5 < 2:
        out.append(_FORMATS[1])
    if ds.spatial and bits % 7 < 3:
        out.append(_FORMATS[2])
    if bits % 9 == 0:
        out.append(_FORMATS[3])
    if ds.police and bits % 4 == 0:
        out.append(_FORMATS[4])
    return out


def resources(req: SimRequest, ds: SimDataset) -> list[dict[str, Any]]:
    """The package's resources: always a CSV, sometimes JSON, GeoJSON, XLSX, a PDF data dictionary."""
    out = []
    for position, (fmt, mimetype, ext, name) in enumerate(_formats(ds)):
        rid = stable_uuid(ds.remote_id, "resource", fmt)
        out.append(
            {
                "mimetype": mimetype,
                "cache_url": None,
                "hash": "",
                "description": "" if fmt != "PDF" else "Definitions of the columns of this dataset.",
                "name": name.format(title=ds.title),
                "format": fmt,
                "url": req.link(f"/dataset/{ds.remote_id}/resource/{rid}/download/{ds.slug}.{ext}"),
                "datastore_active": fmt == "CSV" and stable_int(ds.remote_id) % 2 == 0,
                "cache_last_updated": None,
                "package_id": ds.remote_id,
                "created": ckan_ts(ds.created_at),
                "state": "active",
                "mimetype_inner": None,
                "last_modified": ckan_ts(ds.data_updated_at),
                "position": position,
                "revision_id": stable_uuid(ds.remote_id, "revision", ds.data_updated_at),
                "url_type": "upload",
                "id": rid,
                "resource_type": None,
                "size": 200 + ds.row_count * (40 + 8 * len(ds.columns)) if fmt != "PDF" else 48_213,
            }
        )
    return out


def package(req: SimRequest, view: PortalView, ds: SimDataset) -> dict[str, Any]:
    """One CKAN package dict."""
    org = organization(view, ds.publisher)
    label, url, license_id = LICENSES[ds.license]
    extras = [{"key": "publisher", "value": ds.publisher}]
    if ds.frequency:
        freq = FREQUENCIES[ds.frequency]
        extras.append({"key": "frequency", "value": freq.iso if view.habits.ckan_frequency_iso else freq.label})
    if ds.year is not None:
        extras.append({"key": "temporal", "value": f"{ds.year}-01-01/{ds.year}-12-31"})
    extras.append({"key": "data_last_updated", "value": day(ds.data_updated_at)})
    tags = [
        {
            "vocabulary_id": None,
            "state": "active",
            "display_name": tag,
            "id": stable_uuid(view.spec.host, "tag", tag),
            "name": tag,
        }
        for tag in ds.tags
    ]
    listed = resources(req, ds)
    result: dict[str, Any] = {
        "license_title": label,
        "maintainer": ds.publisher,
        "relationships_as_object": [],
        "private": False,
        "maintainer_email": f"opendata@{view.habits.email_domain}",
        "num_tags": len(tags),
        "id": ds.remote_id,
        "metadata_created": ckan_ts(ds.created_at),
        "metadata_modified": ckan_ts(ds.updated_at),
        "author": None,
        "author_email": None,
        "state": "active",
        "version": None,
        "creator_user_id": stable_uuid(view.spec.host, "user", ds.publisher),
        "type": "dataset",
        "resources": listed,
        "num_resources": len(listed),
        "tags": tags,
        "groups": [
            {
                "description": "",
                "display_name": ds.domain_category,
                "id": stable_uuid(view.spec.host, "group", ds.domain_category),
                "image_display_url": "",
                "name": slugify(ds.domain_category),
                "title": ds.domain_category,
            }
        ],
        "license_id": license_id,
        "relationships_as_subject": [],
        "organization": org,
        "name": ds.slug,
        "isopen": ds.license != "",
        "url": "",
        "notes": ds.description,
        "owner_org": org["id"],
        "extras": extras,
        "title": ds.title,
        "revision_id": stable_uuid(ds.remote_id, "revision", ds.metadata_updated_at),
    }
    if url:
        result["license_url"] = url
    return result


def _facet_values(view: PortalView, ds: SimDataset, field: str) -> list[tuple[str, str]]:
    """(name, display name) of a dataset for one facet field."""
    if field == "organization":
        return [(slugify(ds.publisher), ds.publisher)]
    if field == "groups":
        return [(slugify(ds.domain_category), ds.domain_category)]
    if field == "res_format":
        return [(f[0], f[0]) for f in _formats(ds)]
    if field == "tags":
        return [(t, t) for t in ds.tags]
    return [(LICENSES[ds.license][2], LICENSES[ds.license][0])]


def _terms(text: str) -> list[tuple[str, str]]:
    """``organization:x +tags:"a b" word`` -> [("organization", "x"), ("tags", "a b"), ("", "word")]."""
    out = []
    for m in re.finditer(r'\+?(?:(\w+):)?("([^"]*)"|\S+)', text):
        field, value = m.group(1) or "", m.group(3) if m.group(3) is not None else m.group(2)
        out.append((field.lower(), value.lower()))
    return out


def _matches(view: PortalView, ds: SimDataset, terms: list[tuple[str, str]]) -> bool:
    for field, value in terms:
        if value in ("*", "*:*"):
            continue
        if field in _FACETS:
            if value not in {name.lower() for name, _ in _facet_values(view, ds, field)}:
                return False
        elif field in ("name", "id"):
            if value not in (ds.slug, ds.remote_id):
                return False
        elif field in ("", "text", "title", "notes"):
            if value not in f"{ds.title} {ds.description} {' '.join(ds.tags)}".lower():
                return False
    return True


def package_search(req: SimRequest, view: PortalView) -> Reply:
    try:
        rows = int(req.arg("rows") or DEFAULT_ROWS)
        start = int(req.arg("start") or 0)
    except ValueError:
        return _fail(req, "package_search", 409, {"__type": "Validation Error", "rows": ["Invalid integer"]})
    if rows < 0 or start < 0:
        bad = "rows" if rows < 0 else "start"
        return _fail(req, "package_search", 409, {"__type": "Validation Error", bad: ["Must be a natural number"]})
    rows = min(rows, MAX_ROWS)
    sort = req.arg("sort") or DEFAULT_SORT
    keys = []
    for part in sort.split(","):
        name, _, direction = part.strip().partition(" ")
        if name != "score" and name not in _SORTS:
            message = f"Search error: Can not sort on field {name!r}"
            return _fail(req, "package_search", 409, {"__type": "Search Query Error", "message": message})
        keys.append((name, direction.strip().lower() == "desc"))
    terms = _terms(req.arg("q") or "") + _terms(req.arg("fq") or "")
    found = sorted((d for d in view.datasets if _matches(view, d, terms)), key=lambda d: d.remote_id)
    for name, descending in reversed(keys):  # stable sorts, last key first; ties by id
        if name != "score":
            found.sort(key=_SORTS[name], reverse=descending)
    facets: dict[str, dict[str, int]] = {}
    search_facets: dict[str, Any] = {}
    for field in _facet_fields(req):
        counts: Counter[tuple[str, str]] = Counter(v for ds in found for v in _facet_values(view, ds, field))
        facets[field] = {name: n for (name, _), n in sorted(counts.items())}
        items = [{"count": n, "display_name": shown, "name": name} for (name, shown), n in sorted(counts.items())]
        search_facets[field] = {"items": items, "title": field}
    result = {
        "count": len(found),
        "sort": sort,
        "facets": facets,
        "results": [package(req, view, ds) for ds in found[start : start + rows]],
        "search_facets": search_facets,
    }
    return Reply(payload=_envelope(req, "package_search", result), document="ckan.package_search")


def _facet_fields(req: SimRequest) -> list[str]:
    raw = req.arg("facet.field")
    if not raw:
        return []
    try:
        fields = json.loads(raw)
    except ValueError:
        fields = [raw]
    return [f for f in fields if f in _FACETS] if isinstance(fields, list) else []


def package_show(req: SimRequest, view: PortalView) -> Reply:
    key = req.arg("id") or req.arg("name_or_id") or req.arg("name")
    if not key:
        return _fail(req, "package_show", 409, {"__type": "Validation Error", "name_or_id": ["Missing value"]})
    ds = view.find(key)
    if ds is None:
        return _fail(req, "package_show", 404, {"message": "Not found", "__type": "Not Found Error"})
    return Reply(payload=_envelope(req, "package_show", package(req, view, ds)), document="ckan.package_show")


def package_list(req: SimRequest, view: PortalView) -> Reply:
    try:
        limit = int(req.arg("limit") or 0)
        offset = int(req.arg("offset") or 0)
    except ValueError:
        return _fail(req, "package_list", 409, {"__type": "Validation Error", "limit": ["Invalid integer"]})
    names = sorted(ds.slug for ds in view.datasets)
    names = names[offset : offset + limit] if limit else names[offset:]
    return Reply(payload=_envelope(req, "package_list", names), document="ckan.package_list")


def organization_list(req: SimRequest, view: PortalView) -> Reply:
    counts = Counter(ds.publisher for ds in view.datasets)
    if (req.arg("all_fields") or "").lower() in ("true", "1"):
        orgs = [dict(organization(view, n), package_count=c) for n, c in sorted(counts.items())]
        return Reply(payload=_envelope(req, "organization_list", orgs), document="ckan.organization_list")
    names = sorted(slugify(n) for n in counts)
    return Reply(payload=_envelope(req, "organization_list", names), document="ckan.organization_list")


def status_show(req: SimRequest, view: PortalView) -> Reply:
    result = {
        "ckan_version": "2.10.4",
        "site_title": view.habits.title + " Open Data",
        "site_description": "",
        "site_url": req.link(""),
        "error_emails_to": None,
        "locale_default": "en",
        "extensions": ["datastore", "scheming_datasets", "dcat", "activity"],
    }
    return Reply(payload=_envelope(req, "status_show", result), document="ckan.status_show")


_ACTIONS = {
    "package_search": package_search,
    "package_show": package_show,
    "package_list": package_list,
    "organization_list": organization_list,
    "status_show": status_show,
}


@route(r"/api(?:/3)?/action/(?P<action>[A-Za-z_]+)/?", methods=("GET", "HEAD", "POST"))
def action(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply:
    """Dispatch one action by name."""
    name = match["action"]
    handler = _ACTIONS.get(name)
    if handler is None:
        message = f"Bad request - Action name not known: {name}"
        return _fail(req, name, 400, {"message": message, "__type": "Bad Request"})
    return handler(req, view)


def drift(reply: Reply) -> Reply:
    """Renamed and missing fields: ``result.results`` gone, package fields renamed."""
    body = reply.payload
    if not isinstance(body, dict) or not isinstance(body.get("result"), dict | list):
        return reply
    if reply.document == "ckan.package_search":
        result = body["result"]
        result["packages"] = result.pop("results")
        result.pop("count")
    elif reply.document == "ckan.package_show":
        result = body["result"]
        result.pop("name")
        result["distributions"] = result.pop("resources")
    return reply


SHAPES = register(Shapes("ckan", (action,), drift))
