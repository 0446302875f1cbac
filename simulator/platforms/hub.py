"""ArcGIS Hub: the DCAT-US 1.1 feed (``/api/feed/dcat-us/1.1.json``), with Hub's quirks.

Shapes follow ``reference/portal-samples/arcgis/sce_*hub_dcat*``: a ``dcat:Catalog`` whose datasets
carry HTML descriptions, an arcgis.com item URL as ``identifier``, ``spatial`` as a bounding-box
string or ``""``, ``theme`` as a list or ``""``, a ``contactPoint.hasEmail`` that is sometimes not
an address, and distributions for the Hub page, the GeoService, CSV, Shapefile, GeoJSON and KML.
"""

from __future__ import annotations

import re
from typing import Any

from simulator.dataset import FREQUENCIES, SimDataset
from simulator.dates import iso_z
from simulator.platforms import Shapes, register, route
from simulator.render import LICENSES, stable_int
from simulator.wire import Reply, SimRequest
from simulator.world import PortalView

CATALOG_HEAD = {
    "@context": "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld",
    "@type": "dcat:Catalog",
    "conformsTo": "https://project-open-data.cio.gov/v1.1/schema",
    "describedBy": "https://project-open-data.cio.gov/v1.1/schema/catalog.json",
}


_ITEM = re.compile(r"[?&]id=(?P<item>[0-9a-f]{32})(?:&sublayer=(?P<layer>\d+))?")


def item_and_layer(ds: SimDataset) -> tuple[str, str]:
    """(ArcGIS item id, layer number) from the dataset's item URL identifier."""
    match = _ITEM.search(ds.identifier)
    if match is None:
        return ds.remote_id, "0"
    return match["item"], match["layer"] or "0"


def service_name(ds: SimDataset) -> str:
    return ds.slug.replace("-", "_")


def landing_path(view: PortalView, ds: SimDataset) -> str:
    section = "maps" if ds.asset_type == "map" else "datasets"
    return f"/{section}/{view.habits.hub_org}::{ds.slug}"


def _distributions(req: SimRequest, view: PortalView, ds: SimDataset) -> list[dict[str, Any]]:
    item, layer = item_and_layer(ds)
    key = view.habits.hub_download_key
    out: list[dict[str, Any]] = [
        {
            "@type": "dcat:Distribution",
            "title": "ArcGIS Hub Dataset",
            "format": "Web Page",
            "mediaType": "text/html",
            "accessURL": req.link(landing_path(view, ds)),
        },
        {
            "@type": "dcat:Distribution",
            "title": "ArcGIS GeoService",
            "format": "ArcGIS GeoServices REST API",
            "mediaType": "application/json",
            "accessURL": req.link(f"/arcgis/rest/services/{service_name(ds)}/FeatureServer/{layer}"),
        },
    ]
    files = [("CSV", "CSV", "text/csv", "csv")]
    if ds.spatial:
        files += [
            ("Shapefile", "ZIP", "application/zip", "shapefile"),
            ("GeoJSON", "GeoJSON", "application/vnd.geo+json", "geojson"),
            ("KML", "KML", "application/vnd.google-earth.kml+xml", "kml"),
        ]
    for title, fmt, media, path in files:
        url = req.link(f"/api/download/v1/items/{item}/{path}?layers={layer}")
        out.append({"@type": "dcat:Distribution", "title": title, "format": fmt, "mediaType": media, key: url})
    return out


def hub_dataset(req: SimRequest, view: PortalView, ds: SimDataset) -> dict[str, Any]:
    """One ``dataset[]`` entry of the Hub feed, quirks included."""
    bits = stable_int(ds.remote_id, "hub")
    email = f"gis@{view.habits.email_domain}"
    has_email = ("mailto:" + email, "mailto:" + email, "mailto:" + email, "mailto:managed services gis")[bits % 4]
    if bits % 11 == 0:
        has_email = "mailto:"
    west, south = -125 + (bits % 500) / 10, 25 + (bits % 200) / 10
    spatial = "" if not ds.spatial or bits % 5 == 0 else f"{west:.4f},{south:.4f},{west + 0.4:.4f},{south + 0.3:.4f}"
    license_text = ["", LICENSES[ds.license][1], "<span style='color:black;'>See terms of use.</span>"][bits % 3]
    out: dict[str, Any] = {
        "@type": "dcat:Dataset",
        "identifier": ds.identifier,
        "landingPage": req.link(landing_path(view, ds)),
        "title": ds.title,
        "description": ds.description,
        "keyword": list(ds.tags),
        "issued": iso_z(ds.created_at),
        "modified": iso_z(ds.data_updated_at),
        "publisher": {"name": ds.publisher},
        "contactPoint": {"@type": "vcard:Contact", "fn": ds.publisher, "hasEmail": has_email},
        "accessLevel": "public",
        "spatial": spatial,
        "license": license_text,
        "distribution": _distributions(req, view, ds),
        "theme": ["geospatial"] if ds.spatial and bits % 3 else "",
    }
    if ds.frequency and bits % 5 < 2:
        out["accrualPeriodicity"] = FREQUENCIES[ds.frequency].iso
    return out


def hub_catalog(req: SimRequest, view: PortalView) -> Reply:
    body: dict[str, Any] = dict(CATALOG_HEAD)
    body["dataset"] = [hub_dataset(req, view, ds) for ds in view.datasets]
    return Reply(payload=body, document="dcat.catalog")


@route(r"/api/feed/dcat-us/1\.1(?:\.json)?/?")
def feed(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply:
    """``GET /api/feed/dcat-us/1.1.json`` — the whole catalog in one document (Hub does not page it)."""
    return hub_catalog(req, view)


@route(r"/.*")
def seeded_path(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply | None:
    """The feed at whatever path the seed's source URL names."""
    return hub_catalog(req, view) if req.path.rstrip("/") == view.spec.source_path.rstrip("/") else None


def drift(reply: Reply) -> Reply:
    """``dataset`` renamed, dataset titles and identifiers moved."""
    body = reply.payload
    if reply.document == "dcat.catalog" and isinstance(body, dict) and "dataset" in body:
        items = body.pop("dataset")
        for item in items:
            item["name"] = item.pop("title", None)
            item["id"] = item.pop("identifier", None)
        body["items"] = items
    return reply


SHAPES = register(Shapes("dcat_us", (feed, seeded_path), drift))
