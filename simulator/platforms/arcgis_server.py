"""ArcGIS Server: the REST services directory of a city GIS server, read from the datasets' paths.

Every dataset of an ``arcgis_server`` portal is one layer or table; its remote id is its layer path
(``simulator/rest_layout.py``). Served under the seed's ``…/rest/services`` root, with ``?f=json``:
the root and folder directories (``folders``, ``services``, utility services that hold no data),
MapServer and FeatureServer documents (``layers``, ``tables``, a group layer in multi-layer map
services, some services listed as both types), layer documents shaped like the Columbia MO sample
(Esri field types, ``editingInfo`` on FeatureServer layers) and ``query?returnCountOnly=true``.
Without ``f=json`` a layer answers with its HTML page, as the landing page a harvester links to.
Errors are ArcGIS's: HTTP 200 with an ``error`` object.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from simulator.dataset import SimDataset
from simulator.dates import epoch_ms
from simulator.platforms import Shapes, register, route
from simulator.platforms.downloads import file_reply
from simulator.platforms.pages import HTML_TYPE, landing_page
from simulator.render import stable_int
from simulator.rest_layout import DATA_TYPES, SHARED_PREFIX, parse_layer_path, service_name
from simulator.wire import Reply, SimRequest
from simulator.world import PortalView

#: a folder of utility services every server has; it holds no layers
TOOLS_FOLDER = "Utilities"
TOOL_SERVICES = (
    {"name": "Utilities/Geometry", "type": "GeometryServer"},
    {"name": "Utilities/PrintingTools", "type": "GPServer"},
)
ROOT_TOOLS = ({"name": "Locator", "type": "GeocodeServer"},)
_ESRI_TYPES = {"calendar_date": "esriFieldTypeDate", "checkbox": "esriFieldTypeSmallInteger"}
_INTEGER_HINTS = ("_id", "count", "number", "_no", "age", "year", "district", "beat")


@dataclass
class _Service:
    name: str  # root-relative: "CMPD/Use_of_Force"
    kind: str  # where its layers live: FeatureServer or MapServer
    mirrored: bool  # also listed (and served) as a MapServer
    layers: dict[int, SimDataset] = field(default_factory=dict)

    @property
    def folder(self) -> str:
        return self.name.rpartition("/")[0]

    def kinds(self) -> tuple[str, ...]:
        return (self.kind, "MapServer") if self.mirrored else (self.kind,)


def _root(view: PortalView) -> str:
    return view.spec.source_path.rstrip("/")


class _Snapshot:
    """A portal's datasets as one request saw them, hashed by the identity of each (immutable)
    dataset: a catalog that did not change gives an equal snapshot. The memo below holds the
    datasets it was built from, so their ids cannot be reused while it is cached."""

    __slots__ = ("_key", "datasets", "host", "root")

    def __init__(self, view: PortalView) -> None:
        self.host, self.root, self.datasets = view.spec.host, _root(view), view.datasets
        self._key = (self.host, self.root, tuple(map(id, self.datasets)))

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Snapshot) and self._key == other._key


@lru_cache(maxsize=32)
def _index(snapshot: _Snapshot) -> dict[str, _Service]:
    out: dict[str, _Service] = {}
    for ds in snapshot.datasets:
        parsed = parse_layer_path(ds.remote_id, snapshot.root)
        if parsed is None:
            continue
        svc = out.get(parsed.service)
        if svc is None:
            mirrored = parsed.kind == "FeatureServer" and stable_int(snapshot.host, parsed.service, "mirror") % 3 == 0
            svc = out[parsed.service] = _Service(parsed.service, parsed.kind, mirrored)
        svc.layers[parsed.layer] = ds
    return out


def _services(view: PortalView) -> dict[str, _Service]:
    """Every data service of the portal, by name, from its datasets' layer paths (read-only:
    the same catalog gives the same, memoised, index to every request)."""
    return _index(_Snapshot(view))


def _version(view: PortalView) -> float:
    return 11.1 if stable_int(view.spec.host, "version") % 2 else 10.81


def _error(code: int, message: str) -> Reply:
    return Reply(payload={"error": {"code": code, "message": message, "details": []}}, document="arcgis_server.error")


def _entries(services: list[_Service]) -> list[dict[str, str]]:
    entries = [{"name": s.name, "type": kind} for s in services for kind in s.kinds()]
    return sorted(entries, key=lambda e: (e["name"].lower(), e["type"]))


def _directory(view: PortalView, folder: str, looping: bool) -> Reply:
    services = _services(view)
    folders = sorted({s.folder for s in services.values() if s.folder} | {TOOLS_FOLDER}, key=str.lower)
    here = [s for s in services.values() if s.folder == folder]
    if folder == "":
        listed = [*ROOT_TOOLS, *_entries(here)]
        shown_folders = folders
    else:
        listed = list(TOOL_SERVICES) if folder == TOOLS_FOLDER else _entries(here)
        # a folder that lists the directory's folders again, itself included: a directory loop
        shown_folders = folders if looping else []
    body = {"currentVersion": _version(view), "folders": shown_folders, "services": listed}
    return Reply(payload=body, document="arcgis_server.directory")


def _layer_name(svc: _Service, ds: SimDataset) -> str:
    if len(svc.layers) > 1 and " - " in ds.title:
        return ds.title.rsplit(" - ", 1)[1]  # a collection's tables: "Incidents", "Subjects"
    return service_name(ds.title) if stable_int(ds.remote_id, "layer-name") % 2 else ds.title


def _group_id(svc: _Service, kind: str) -> int | None:
    """Multi-layer map services put their spatial layers in a group layer."""
    spatial = [n for n, ds in svc.layers.items() if ds.spatial]
    return max(svc.layers) + 1 if kind == "MapServer" and len(spatial) > 1 else None


def _keywords(view: PortalView, svc: _Service, first: SimDataset) -> str:
    """A service's keywords: its dataset's tags, or generic ones for a shared open-data service."""
    if svc.name.rsplit("/", 1)[-1].startswith(SHARED_PREFIX):
        return f"open data,{view.spec.place},GIS"
    return ",".join(first.tags)


def _service(view: PortalView, svc: _Service, kind: str) -> Reply:
    group = _group_id(svc, kind)
    layers: list[dict[str, Any]] = []
    if group is not None:
        members = sorted(n for n, ds in svc.layers.items() if ds.spatial)
        layers.append(
            {
                "id": group,
                "name": service_name(svc.name.rsplit("/", 1)[-1]),
                "parentLayerId": -1,
                "defaultVisibility": True,
                "subLayerIds": members,
                "minScale": 0,
                "maxScale": 0,
                "type": "Group Layer",
            }
        )
    tables: list[dict[str, Any]] = []
    for n, ds in sorted(svc.layers.items()):
        if ds.spatial:
            layers.append(
                {
                    "id": n,
                    "name": _layer_name(svc, ds),
                    "parentLayerId": group if group is not None else -1,
                    "defaultVisibility": True,
                    "subLayerIds": None,
                    "minScale": 0,
                    "maxScale": 0,
                    "type": "Feature Layer",
                    "geometryType": "esriGeometryPoint",
                }
            )
        else:
            tables.append({"id": n, "name": _layer_name(svc, ds)})
    first = next(iter(svc.layers.values()))
    body: dict[str, Any] = {
        "currentVersion": _version(view),
        "serviceDescription": "",
        "description": "",
        "copyrightText": first.publisher,
        "capabilities": "Query" if kind == "FeatureServer" else "Map,Query,Data",
        "maxRecordCount": 2000,
        "supportedQueryFormats": "JSON, geoJSON, PBF",
        "layers": layers,
        "tables": tables,
        "documentInfo": {
            "Title": svc.name.rsplit("/", 1)[-1],
            "Author": first.publisher,
            "Comments": "",
            "Subject": "",
            "Category": "",
            "Keywords": _keywords(view, svc, first),
        },
        "spatialReference": {"wkid": 4326, "latestWkid": 4326},
    }
    if kind == "MapServer":
        body["mapName"] = "Layers"
        body["supportsDynamicLayers"] = False
    else:
        body["hasVersionedData"] = False
        body["supportsDisconnectedEditing"] = False
    return Reply(payload=body, document="arcgis_server.service")


def _field(ds: SimDataset, name: str, alias: str, datatype: str, description: str, version: float) -> dict[str, Any]:
    esri = _ESRI_TYPES.get(datatype, "esriFieldTypeString")
    if datatype == "number":
        esri = "esriFieldTypeInteger" if name.lower().endswith(_INTEGER_HINTS) else "esriFieldTypeDouble"
    out: dict[str, Any] = {"name": name.upper(), "type": esri, "alias": alias}
    if esri == "esriFieldTypeString":
        out["length"] = 16 * (1 + stable_int(ds.remote_id, name) % 16)
    out["domain"] = None
    if description and version >= 11:
        out["description"] = json.dumps({"value": description, "fieldValueType": ""}, separators=(",", ":"))
    return out


def _extent(ds: SimDataset) -> dict[str, Any]:
    bits = stable_int(ds.remote_id, "extent")
    if bits % 2:
        west, south = -124 + (bits % 500) / 10, 26 + (bits % 180) / 10
        return {
            "xmin": west,
            "ymin": south,
            "xmax": round(west + 0.4, 4),
            "ymax": round(south + 0.3, 4),
            "spatialReference": {"wkid": 4326, "latestWkid": 4326},
        }
    x, y = 1_380_000 + bits % 90_000, 460_000 + bits % 70_000
    return {
        "xmin": x,
        "ymin": y,
        "xmax": x + 95_000,
        "ymax": y + 88_000,
        "spatialReference": {"wkid": 102719, "latestWkid": 2264},
    }


def layer_document(view: PortalView, svc: _Service, kind: str, n: int, ds: SimDataset) -> dict[str, Any]:
    """A layer's or table's ``?f=json``."""
    version = _version(view)
    fields: list[dict[str, Any]] = [
        {"name": "OBJECTID", "type": "esriFieldTypeOID", "alias": "OBJECTID", "domain": None}
    ]
    for col in ds.columns:
        if col.datatype not in ("point", "location"):
            fields.append(_field(ds, col.field_name, col.name, col.datatype, col.description, version))
    if stable_int(ds.remote_id, "globalid") % 3 == 0:
        fields.append(
            {"name": "GlobalID", "type": "esriFieldTypeGlobalID", "alias": "GlobalID", "length": 38, "domain": None}
        )
    if ds.spatial and kind == "MapServer":
        fields.append({"name": "Shape", "type": "esriFieldTypeGeometry", "alias": "Shape", "domain": None})
    group = _group_id(svc, kind)
    body: dict[str, Any] = {
        "currentVersion": version,
        "id": n,
        "name": _layer_name(svc, ds),
        "type": "Feature Layer" if ds.spatial else "Table",
        "description": ds.description,
        "definitionExpression": "",
        "copyrightText": ds.publisher,
        "defaultVisibility": True,
        "parentLayer": {"id": group, "name": service_name(svc.name.rsplit("/", 1)[-1])}
        if group and ds.spatial
        else None,
        "subLayers": [],
        "minScale": 0,
        "maxScale": 0,
        "hasAttachments": False,
        "htmlPopupType": "esriServerHTMLPopupTypeAsHTMLText",
        "displayField": fields[1]["name"] if len(fields) > 1 else "OBJECTID",
        "typeIdField": None,
        "fields": fields,
        "types": [],
        "relationships": [],
        "capabilities": "Query" if kind == "FeatureServer" else "Map,Query,Data",
        "maxRecordCount": 2000,
        "supportsStatistics": True,
        "useStandardizedQueries": True,
    }
    if ds.spatial:
        body["geometryType"] = "esriGeometryPoint"
        body["extent"] = _extent(ds)
        body["drawingInfo"] = {"renderer": {"type": "simple", "label": "", "description": ""}, "transparency": 0}
    if kind == "FeatureServer":
        data, schema = epoch_ms(ds.data_updated_at), epoch_ms(ds.metadata_updated_at)
        if version >= 11:
            body["editingInfo"] = {
                "lastEditDate": max(data, schema),
                "schemaLastEditDate": schema,
                "dataLastEditDate": data,
            }
        else:
            body["editingInfo"] = {"lastEditDate": data}
    return body


def _html(title: str, items: list[str]) -> Reply:
    shown = html.escape(title)
    lis = "".join(f"<li>{html.escape(i)}</li>" for i in items)
    page = f"<!doctype html>\n<html><head><title>{shown}</title></head>"
    page += f"<body><h2>{shown}</h2><ul>{lis}</ul></body></html>\n"
    return Reply(body=page.encode("utf-8"), content_type=HTML_TYPE, document="page")


@route(r"/.*")
def rest(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply | None:
    """Everything under the seed's ``…/rest/services`` root; other paths are not this shape's."""
    root, path = _root(view), req.path.rstrip("/")
    if path != root and not path.startswith(root + "/"):
        return None
    parts = [p for p in path[len(root) :].split("/") if p]
    as_json = (req.arg("f") or "html").lower() in ("json", "pjson")
    services = _services(view)
    if len(parts) <= 1:
        folder = parts[0] if parts else ""
        known = {s.folder for s in services.values()} | {TOOLS_FOLDER}
        if folder and folder not in known:
            return _error(404, "Folder not found")
        if not as_json:
            return _html(f"Folder: {folder or '/'}", sorted(s.name for s in services.values() if s.folder == folder))
        return _directory(view, folder, req.looping)
    at = next((i for i, p in enumerate(parts) if p in DATA_TYPES), None)
    if at is None or at == 0:
        return _error(404, "Service not found")
    name, kind, rest_parts = "/".join(parts[:at]), parts[at], parts[at + 1 :]
    svc = services.get(name)
    if svc is None or kind not in svc.kinds():
        return _error(404, f"Service {name}/{kind} not found")
    if not rest_parts:
        return _service(view, svc, kind) if as_json else _html(f"{name} ({kind})", [str(n) for n in svc.layers])
    if not rest_parts[0].isdigit() or int(rest_parts[0]) not in svc.layers or len(rest_parts) > 2:
        return _error(400, "Invalid or missing input parameters.")
    n = int(rest_parts[0])
    ds = svc.layers[n]
    if len(rest_parts) == 2:
        return _query(req, ds, rest_parts[1])
    if not as_json:
        return landing_page(req, view, ds.remote_id)
    return Reply(payload=layer_document(view, svc, kind, n, ds), document="arcgis_server.layer")


def _query(req: SimRequest, ds: SimDataset, action: str) -> Reply:
    if action != "query":
        return _error(400, "Invalid or missing input parameters.")
    if (req.arg("returnCountOnly") or "").lower() == "true":
        return Reply(payload={"count": ds.row_count}, document="arcgis_server.query")
    if (req.arg("f") or "").lower() == "csv":
        return file_reply(ds, "csv")
    return Reply(
        payload={"objectIdFieldName": "OBJECTID", "fields": [], "features": []}, document="arcgis_server.query"
    )


def drift(reply: Reply) -> Reply:
    """A directory merged into one ``items`` list, a service's ``layers`` renamed and its ``tables``
    dropped, a layer without ``fields`` and with ``title`` for ``name``."""
    body = reply.payload
    if not isinstance(body, dict):
        return reply
    if reply.document == "arcgis_server.directory":
        folders = [{"name": f, "type": "Folder"} for f in body.pop("folders", [])]
        body["items"] = folders + body.pop("services", [])
    elif reply.document == "arcgis_server.service":
        body["layerInfos"] = body.pop("layers", [])
        body.pop("tables", None)
    elif reply.document == "arcgis_server.layer":
        body.pop("fields", None)
        body["title"] = body.pop("name", None)
    return reply


SHAPES = register(Shapes("arcgis_server", (rest,), drift))
