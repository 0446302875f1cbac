"""ArcGIS Hub site: the Hub Search API (OGC API – Records) beside the site's DCAT-US feed.

No response of this API is recorded in ``reference/portal-samples``; the shape is built from what
Esri documents and its own client code shows (cited in ``harvesters/arcgis_hub_search.py``): a
GeoJSON ``FeatureCollection`` of ``features`` (``id``, ``type``, ``geometry``, ``time``, ``links``,
``properties``: the portal item wholesale, plus Hub's ``source`` and ``license``, its ``extent`` as
a GeoJSON polygon), with ``timestamp``, ``numberMatched``, ``numberReturned`` and ``links``
(``self``, ``collection``, and ``next`` while more remain, carrying ``limit`` and ``startindex``).
Parameters: ``limit`` (1–100, default 10), ``startindex`` (1-based), ``q``, ``sortBy``
(``properties.<field>``, ``-`` for descending). The ``dataset`` collection holds data items,
``all`` every item.

The same site also serves its DCAT-US feed (the ``dcat_us`` shapes' route), so one simulated site
can be read both ways.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from simulator.dataset import SimDataset
from simulator.dates import iso_z
from simulator.platforms import Shapes, register, route
from simulator.platforms.arcgis_items import DATA_TYPES, extent, find_item, item_type, portal_item
from simulator.platforms.hub import feed
from simulator.platforms.pages import landing_page
from simulator.render import LICENSES
from simulator.wire import Reply, SimRequest, error
from simulator.world import PortalView

ROOT = "/api/search/v1"
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
COLLECTIONS = {"all": "All", "dataset": "Datasets"}
_SORTS = {
    "created": lambda p: p["created"],
    "modified": lambda p: p["modified"],
    "title": lambda p: p["title"].lower(),
}


def _bad(status: int, message: str) -> Reply:
    return error(status, {"code": status, "description": message}, "hub_search.error")


def _polygon(ds: SimDataset) -> dict[str, Any] | None:
    box = extent(ds)
    if not box:
        return None
    (w, s), (e, n) = box
    return {"type": "Polygon", "coordinates": [[[w, n], [e, n], [e, s], [w, s], [w, n]]]}


def _collection_link(req: SimRequest, collection: str) -> dict[str, str]:
    return {
        "rel": "collection",
        "type": "application/json",
        "title": COLLECTIONS[collection],
        "href": req.link(f"{ROOT}/collections/{collection}"),
    }


def hub_record(req: SimRequest, view: PortalView, ds: SimDataset, collection: str = "dataset") -> dict[str, Any]:
    """One ``features[]`` record: the item in ``properties``, its extent as GeoJSON."""
    item = portal_item(req.link, view, ds)
    polygon = _polygon(ds)
    properties = {**item, "extent": polygon or {}, "source": ds.publisher, "license": LICENSES[ds.license][0]}
    return {
        "id": item["id"],
        "type": "Feature",
        "geometry": polygon,
        "time": None,
        "links": [
            {
                "rel": "self",
                "type": "application/geo+json",
                "title": "This document as GeoJSON",
                "href": req.link(f"{ROOT}/collections/{collection}/items/{item['id']}"),
            },
            _collection_link(req, collection),
        ],
        "properties": properties,
    }


def _members(view: PortalView, collection: str) -> list[SimDataset]:
    return [d for d in view.datasets if collection == "all" or item_type(d) in DATA_TYPES]


@route(rf"{ROOT}/?")
def landing(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply:
    links = [
        {"rel": "self", "type": "application/json", "title": "This document", "href": req.link(ROOT)},
        {"rel": "data", "type": "application/json", "title": "Collections", "href": req.link(f"{ROOT}/collections")},
    ]
    return Reply(payload={"title": f"{view.habits.title} Search API", "links": links}, document="hub_search.landing")


@route(rf"{ROOT}/collections/?")
def collections(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply:
    listed = [{"id": key, "title": title, "links": [_collection_link(req, key)]} for key, title in COLLECTIONS.items()]
    return Reply(payload={"collections": listed}, document="hub_search.collections")


@route(rf"{ROOT}/collections/(?P<c>[a-z-]+)/?")
def collection(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply:
    name = match["c"]
    if name not in COLLECTIONS:
        return _bad(404, f"collection {name!r} not found")
    return Reply(
        payload={"id": name, "title": COLLECTIONS[name], "type": "catalog", "links": [_collection_link(req, name)]},
        document="hub_search.collection",
    )


def _int(req: SimRequest, name: str, default: int) -> int | None:
    try:
        return int(req.arg(name) or default)
    except ValueError:
        return None


@route(rf"{ROOT}/collections/(?P<c>[a-z-]+)/items/?")
def items(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply:
    """``GET …/collections/<all|dataset>/items`` — ``limit``/``startindex`` paging, ``q``, ``sortBy``."""
    name = match["c"]
    if name not in COLLECTIONS:
        return _bad(404, f"collection {name!r} not found")
    limit, start = _int(req, "limit", DEFAULT_LIMIT), _int(req, "startindex", 1)
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        return _bad(400, f"limit must be an integer from 1 to {MAX_LIMIT}")
    if start is None or start < 1:
        return _bad(400, "startindex must be an integer of at least 1")
    records = [hub_record(req, view, ds, name) for ds in _members(view, name)]
    words = (req.arg("q") or "").lower().split()
    if words:
        records = [r for r in records if all(w in _text(r["properties"]) for w in words)]
    sort = (req.arg("sortBy") or "").strip()
    if sort:
        key = _SORTS.get(sort.lstrip("-").removeprefix("properties."))
        if key is None or not sort.lstrip("-").startswith("properties."):
            return _bad(400, f"sortBy {sort!r} is not a sortable property")
        records.sort(key=lambda r: r["id"])
        records.sort(key=lambda r: key(r["properties"]), reverse=sort.startswith("-"))
    page = records[start - 1 : start - 1 + limit]
    query = {k: v[0] for k, v in req.params.items() if v and k not in ("limit", "startindex")}
    path = f"{ROOT}/collections/{name}/items"
    links = [
        {
            "rel": "self",
            "type": "application/geo+json",
            "title": "This document as GeoJSON",
            "href": req.link(f"{path}?{urlencode({**query, 'limit': limit, 'startindex': start})}"),
        },
        _collection_link(req, name),
    ]
    if start - 1 + len(page) < len(records):
        links.append(
            {
                "rel": "next",
                "type": "application/geo+json",
                "title": "items (next)",
                "href": req.link(f"{path}?{urlencode({**query, 'limit': limit, 'startindex': start + len(page)})}"),
            }
        )
    body = {
        "type": "FeatureCollection",
        "features": page,
        "timestamp": iso_z(view.now),
        "numberMatched": len(records),
        "numberReturned": len(page),
        "links": links,
    }
    return Reply(payload=body, document="hub_search.items", content_type="application/geo+json; charset=utf-8")


def _text(props: dict[str, Any]) -> str:
    return " ".join(
        [str(props.get("title", "")), str(props.get("description") or ""), *map(str, props["tags"])]
    ).lower()


@route(rf"{ROOT}/collections/(?P<c>[a-z-]+)/items/(?P<id>[0-9a-f]{{32}})/?")
def one(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply:
    ds = find_item(view, match["id"])
    if match["c"] not in COLLECTIONS or ds is None or ds not in _members(view, match["c"]):
        return _bad(404, f"item {match['id']!r} not found")
    return Reply(payload=hub_record(req, view, ds, match["c"]), document="hub_search.item")


@route(r"/datasets/(?P<id>[0-9a-f]{32})(?:/about)?/?")
def page(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply | None:
    """``/datasets/<item id>`` — the dataset's page (Hub resolves an item id to its page)."""
    ds = find_item(view, match["id"])
    return landing_page(req, view, ds.remote_id) if ds else None


def drift(reply: Reply) -> Reply:
    """The items page's ``features`` renamed ``records`` and ``numberMatched`` gone."""
    body = reply.payload
    if reply.document == "hub_search.items" and isinstance(body, dict) and "features" in body:
        body["records"] = body.pop("features")
        body.pop("numberMatched", None)
    return reply


SHAPES = register(Shapes("arcgis_hub_search", (landing, collections, collection, items, one, page, feed), drift))
