"""Files behind download links (tiny, made-up rows) and ArcGIS REST layer metadata."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from simulator.dataset import SimDataset
from simulator.platforms import route
from simulator.platforms.hub import item_and_layer, service_name
from simulator.render import sample_rows
from simulator.wire import Reply, SimRequest, error
from simulator.world import PortalView

_EMPTY_ZIP = b"PK\x05\x06" + b"\x00" * 18
_ESRI_TYPES = {
    "number": "esriFieldTypeDouble",
    "calendar_date": "esriFieldTypeDate",
    "checkbox": "esriFieldTypeSmallInteger",
}


def _csv(ds: SimDataset) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.field_name for c in ds.columns])
    for row in sample_rows(ds, 3):
        writer.writerow([json.dumps(v) if isinstance(v, dict) else v for v in row.values()])
    return out.getvalue().encode("utf-8")


def _geojson(ds: SimDataset) -> bytes:
    features = []
    for row in sample_rows(ds, 3):
        geometry = next((v for v in row.values() if isinstance(v, dict)), None)
        props = {k: v for k, v in row.items() if not isinstance(v, dict)}
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    return json.dumps({"type": "FeatureCollection", "features": features}).encode("utf-8")


def file_reply(ds: SimDataset, ext: str) -> Reply:
    """The dataset as a small file of the type ``ext`` names."""
    ext = ext.lower()
    if ext == "csv":
        return Reply(body=_csv(ds), content_type="text/csv; charset=utf-8", document="file")
    if ext in ("geojson",):
        return Reply(body=_geojson(ds), content_type="application/geo+json", document="file")
    if ext == "json":
        return Reply(payload=sample_rows(ds, 3), document="file")
    if ext == "kml":
        kml = f'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>{ds.slug}</name></Document></kml>'
        return Reply(body=kml.encode(), content_type="application/vnd.google-earth.kml+xml", document="file")
    if ext == "pdf":
        return Reply(body=b"%PDF-1.4\n%%EOF\n", content_type="application/pdf", document="file")
    return Reply(body=_EMPTY_ZIP, content_type="application/zip", document="file")


def _missing(what: str) -> Reply:
    return error(404, {"error": True, "message": f"{what} not found"})


@route(r"/api/views/(?P<id>[a-z0-9]{4}-[a-z0-9]{4})/rows\.(?P<ext>csv|json)")
def socrata_rows(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply:
    ds = view.find(match["id"])
    return file_reply(ds, match["ext"]) if ds else _missing(f"view {match['id']}")


@route(r"/resource/(?P<id>[a-z0-9]{4}-[a-z0-9]{4})\.csv")
def socrata_resource_csv(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply:
    ds = view.find(match["id"])
    return file_reply(ds, "csv") if ds else _missing(f"view {match['id']}")


@route(r"/dataset/(?P<pkg>[^/]+)/resource/(?P<rid>[^/]+)/download/(?P<file>[^/]+)")
def ckan_download(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply:
    ds = view.find(match["pkg"])
    ext = match["file"].rpartition(".")[2]
    return file_reply(ds, ext) if ds else _missing(f"package {match['pkg']}")


def _hub_find(view: PortalView, item: str, layer: str) -> SimDataset | None:
    return view.find(f"{item}_{layer}") or next((d for d in view.datasets if item_and_layer(d)[0] == item), None)


@route(r"/api/download/v1/items/(?P<item>[0-9a-f]{32})/(?P<fmt>csv|geojson|kml|shapefile)")
def hub_download(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply:
    ds = _hub_find(view, match["item"], req.arg("layers") or "0")
    if ds is None:
        return _missing(f"item {match['item']}")
    return file_reply(ds, {"shapefile": "zip"}.get(match["fmt"], match["fmt"]))


def _layer(view: PortalView, service: str, layer: str) -> SimDataset | None:
    return next((d for d in view.datasets if service_name(d) == service and item_and_layer(d)[1] == layer), None)


@route(r"/arcgis/rest/services/(?P<svc>[^/]+)/FeatureServer/(?P<layer>\d+)/?")
def arcgis_layer(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply:
    """An ArcGIS REST layer's metadata (``?f=json``), shaped like the Columbia MO sample."""
    ds = _layer(view, match["svc"], match["layer"])
    if ds is None:
        return error(200, {"error": {"code": 400, "message": "Invalid URL", "details": []}})
    fields: list[dict[str, Any]] = [
        {"name": "OBJECTID", "type": "esriFieldTypeOID", "alias": "OBJECTID", "domain": None}
    ]
    for col in ds.columns:
        if col.datatype in ("point", "location"):
            continue
        esri = _ESRI_TYPES.get(col.datatype, "esriFieldTypeString")
        field: dict[str, Any] = {"name": col.field_name.upper(), "type": esri, "alias": col.name, "domain": None}
        if esri == "esriFieldTypeString":
            field["length"] = 255
        fields.append(field)
    body = {
        "currentVersion": 11.1,
        "id": int(match["layer"]),
        "name": service_name(ds),
        "type": "Feature Layer" if ds.spatial else "Table",
        "description": ds.description,
        "geometryType": "esriGeometryPoint" if ds.spatial else None,
        "copyrightText": ds.publisher,
        "editingInfo": {"lastEditDate": int(ds.data_updated_at.timestamp() * 1000)},
        "fields": fields,
        "capabilities": "Query",
        "maxRecordCount": 2000,
    }
    return Reply(payload=body, document="arcgis.layer")


@route(r"/arcgis/rest/services/(?P<svc>[^/]+)/FeatureServer/(?P<layer>\d+)/query/?")
def arcgis_query(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply:
    """Only ``returnCountOnly=true`` is answered with a number; other queries get no features."""
    ds = _layer(view, match["svc"], match["layer"])
    if ds is None:
        return error(200, {"error": {"code": 400, "message": "Invalid URL", "details": []}})
    if (req.arg("returnCountOnly") or "").lower() == "true":
        return Reply(payload={"count": ds.row_count}, document="arcgis.query")
    return Reply(payload={"objectIdFieldName": "OBJECTID", "features": []}, document="arcgis.query")


ROUTES = (socrata_rows, socrata_resource_csv, ckan_download, hub_download, arcgis_layer, arcgis_query)
