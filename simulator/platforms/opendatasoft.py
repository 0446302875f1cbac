"""OpenDataSoft: the Explore API v2.1 catalog, its exports and the dataset pages.

Shapes follow ``reference/portal-samples/opendatasoft/`` (the data.economie.gouv.fr v2.1 entry):
``results[]`` of datasets with ``dataset_id``, ``fields`` (label, name, ODS type), ``features`` and
``metas.default`` / ``metas.dcat`` with ISO times carrying an explicit offset. Paging is
``limit`` (at most 100) and ``offset`` (``offset + limit`` at most 10 000), as the real API
enforces, with ``order_by``; errors use ODS's ``error_code`` bodies.
"""

from __future__ import annotations

import re
from typing import Any

from simulator.dataset import SimDataset
from simulator.dates import iso_offset
from simulator.platforms import Shapes, register, route
from simulator.platforms.downloads import file_reply
from simulator.platforms.pages import landing_page
from simulator.render import LICENSES, stable_int
from simulator.wire import Reply, SimRequest, error
from simulator.world import PortalView

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
MAX_WINDOW = 10_000
CATALOG = "/api/explore/v2.1/catalog/datasets"
_TYPES = {"number": "double", "calendar_date": "datetime", "point": "geo_point_2d", "location": "geo_point_2d"}
_FREQUENCIES = {
    "daily": "daily",
    "weekly": "weekly",
    "monthly": "monthly",
    "quarterly": "quarterly",
    "annually": "annual",
    "irregular": "irregular",
}
_ORDERS = {
    "dataset_id": lambda d: d.remote_id,
    "title": lambda d: d.title.lower(),
    "modified": lambda d: d.updated_at,
}


def _base36(n: int, width: int = 6) -> str:
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    for _ in range(width):
        n, r = divmod(n, 36)
        out += alphabet[r]
    return out


def ods_dataset(req: SimRequest, view: PortalView, ds: SimDataset) -> dict[str, Any]:
    """One ``results[]`` entry of the v2.1 catalog."""
    bits = stable_int(ds.remote_id, "ods")
    fields: list[dict[str, Any]] = [
        {
            "name": col.field_name,
            "label": col.name,
            "type": _TYPES.get(col.datatype, "text"),
            "description": col.description or None,
            "annotations": {"facet": []} if col.datatype == "text" and bits % 2 else {},
        }
        for col in ds.columns
    ]
    features = ["analyze"]
    if ds.spatial:
        features.insert(0, "geo")
    if any(col.datatype == "calendar_date" for col in ds.columns):
        features.append("timeserie")
    attachments = []
    if ds.police and bits % 3 == 0:
        name = f"{ds.remote_id[:40]}-data-dictionary.pdf"
        attachments.append(
            {
                "id": name,
                "mimetype": "application/pdf",
                "title": "Data dictionary",
                "url": req.link(f"{CATALOG}/{ds.remote_id}/attachments/{name}"),
            }
        )
    label, license_url, _ = LICENSES[ds.license]
    contact = f"opendata@{view.habits.email_domain}"
    default: dict[str, Any] = {
        "title": ds.title,
        "description": ds.description or None,
        "theme": [ds.domain_category],
        "keyword": list(ds.tags) or None,
        "license": label if ds.license else None,
        "license_url": license_url or None,
        "language": "en",
        "metadata_languages": ["en"],
        "timezone": None,
        "modified": iso_offset(ds.updated_at),
        "modified_updates_on_metadata_change": True,
        "modified_updates_on_data_change": True,
        "data_processed": iso_offset(ds.data_updated_at),
        "metadata_processed": iso_offset(ds.metadata_updated_at, micro=True),
        "geographic_reference": None,
        "geographic_reference_auto": False,
        "territory": [view.spec.place] if bits % 4 == 0 else None,
        "geometry_types": ["Point"] if ds.spatial else None,
        "bbox": None,
        "publisher": ds.publisher,
        "references": req.link(f"/explore/dataset/{ds.remote_id}/information/") if bits % 5 == 0 else None,
        "records_count": ds.row_count,
        "attributions": None,
        "source_domain": None,
        "source_domain_title": None,
        "source_domain_address": None,
        "source_dataset": None,
        "shared_catalog": None,
        "federated": False,
        "oauth_scope": None,
        "parent_domain": None,
    }
    dcat: dict[str, Any] = {
        "created": None,
        "issued": iso_offset(ds.created_at),
        "creator": ds.publisher,
        "contributor": None,
        "contact_name": ds.publisher if bits % 2 else None,
        "contact_email": contact if bits % 3 else None,
        "accrualperiodicity": _FREQUENCIES.get(ds.frequency or ""),
        "spatial": None,
        "temporal": None,
        "granularity": None,
        "dataquality": None,
        "publisher_type": None,
        "conforms_to": None,
        "temporal_coverage_start": f"{ds.year}-01-01" if ds.year else None,
        "temporal_coverage_end": f"{ds.year}-12-31" if ds.year else None,
        "accessRights": None,
    }
    return {
        "visibility": "domain",
        "dataset_id": ds.remote_id,
        "dataset_uid": "da_" + _base36(bits),
        "has_records": ds.row_count > 0,
        "features": features,
        "attachments": attachments,
        "alternative_exports": [],
        "data_visible": True,
        "fields": fields,
        "metas": {"default": default, "dcat": dcat},
    }


def _bad(code: str, message: str) -> Reply:
    return error(400, {"error_code": code, "message": message}, "opendatasoft.error")


def _int(req: SimRequest, name: str, default: int) -> int | None:
    try:
        return int(req.arg(name) or default)
    except ValueError:
        return None


@route(r"/api/explore/v2\.1/catalog/datasets/?")
def catalog(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply:
    """``GET /api/explore/v2.1/catalog/datasets`` — ``limit``/``offset`` paging and ``order_by``."""
    limit, offset = _int(req, "limit", DEFAULT_LIMIT), _int(req, "offset", 0)
    if limit is None or not -1 <= limit <= MAX_LIMIT:
        return _bad(
            "InvalidRESTParameterError",
            f"Invalid value for limit API parameter: {req.arg('limit')} was found but -1 <= limit <= 100 is expected.",
        )
    if offset is None or offset < 0:
        return _bad("InvalidRESTParameterError", f"Invalid value for offset API parameter: {req.arg('offset')}.")
    limit = MAX_LIMIT if limit == -1 else limit
    if offset + limit > MAX_WINDOW:
        return _bad(
            "InvalidRESTParameterError", f"The sum of offset and limit API parameter should be lower than {MAX_WINDOW}."
        )
    datasets = list(view.datasets)
    order = (req.arg("order_by") or "").strip()
    if order:
        name, _, direction = order.partition(" ")
        key = _ORDERS.get(name.lstrip("-"))
        if key is None or direction.strip().lower() not in ("", "asc", "desc"):
            return _bad("ODSQLError", f"Query is malformed: invalid order_by '{order}'")
        descending = name.startswith("-") or direction.strip().lower() == "desc"
        datasets.sort(key=lambda d: d.remote_id)
        datasets.sort(key=key, reverse=descending)
    page = datasets[offset : offset + limit]
    body = {"total_count": len(datasets), "results": [ods_dataset(req, view, ds) for ds in page]}
    return Reply(payload=body, document="opendatasoft.catalog")


def _missing(dataset_id: str) -> Reply:
    return error(
        404,
        {"error_code": "DatasetNotFound", "message": f"Unknown dataset: {dataset_id}"},
        "opendatasoft.error",
    )


@route(r"/api/explore/v2\.1/catalog/datasets/(?P<id>[^/]+)/?")
def dataset(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply:
    """``GET …/catalog/datasets/<dataset_id>`` — one dataset, the same entry the catalog lists."""
    ds = view.find(match["id"])
    return Reply(payload=ods_dataset(req, view, ds), document="opendatasoft.dataset") if ds else _missing(match["id"])


@route(r"/api/explore/v2\.1/catalog/datasets/(?P<id>[^/]+)/exports/(?P<fmt>csv|json|geojson)/?")
def export(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply:
    """``GET …/catalog/datasets/<dataset_id>/exports/<format>`` — a few made-up rows."""
    ds = view.find(match["id"])
    return file_reply(ds, match["fmt"]) if ds else _missing(match["id"])


@route(r"/api/explore/v2\.1/catalog/datasets/(?P<id>[^/]+)/attachments/(?P<name>[^/]+)")
def attachment(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply:
    ds = view.find(match["id"])
    return file_reply(ds, "pdf") if ds else _missing(match["id"])


@route(r"/explore/dataset/(?P<id>[^/]+)(?:/[a-z]+)?/?")
def page(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply | None:
    """The dataset's page on the portal."""
    return landing_page(req, view, match["id"])


def drift(reply: Reply) -> Reply:
    """The catalog in the old v1 names: ``nhits`` and ``datasets``."""
    body = reply.payload
    if reply.document == "opendatasoft.catalog" and isinstance(body, dict):
        reply.payload = {"nhits": body.get("total_count"), "datasets": body.get("results", [])}
    return reply


SHAPES = register(Shapes("opendatasoft", (catalog, dataset, export, attachment, page), drift))
