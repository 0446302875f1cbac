"""ArcGIS portal items, as ArcGIS Online search results and Hub Search API records carry them.

Shapes follow ``reference/portal-samples/arcgis/arcgis_online_sharing_rest_search_*``: every key of
a result there is served here, with the same types (epoch-ms ``created``/``modified``, ``extent`` as
``[[xmin, ymin], [xmax, ymax]]`` or ``[]``, HTML ``description`` and ``licenseInfo``, the string
``"null"`` for an emptied licence, ``categories`` as ``/Categories/<name>`` paths). Each simulated
dataset is one item; a few are served as apps (``Dashboard``, ``Web Map``), which a search for data
types leaves out, as a real organisation's content mixes both.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from simulator.dataset import SimDataset
from simulator.dates import epoch_ms
from simulator.platforms.hub import item_and_layer, service_name
from simulator.render import LICENSES, stable_int
from simulator.spec import PortalSpec
from simulator.world import PortalView

#: item types that hold data (what a harvester asks for), and the apps some datasets are served as
DATA_TYPES = ("Feature Service", "CSV", "Microsoft Excel")
APP_TYPES = ("Dashboard", "Web Map")
_KEYWORDS = {
    "Feature Service": ["ArcGIS Server", "Data", "Feature Access", "Feature Service", "Service", "Hosted Service"],
    "CSV": ["CSV", "Data"],
    "Microsoft Excel": ["Data", "Document", "Microsoft Excel"],
    "Dashboard": ["Dashboard", "Operations Dashboard", "Map"],
    "Web Map": ["ArcGIS API for JavaScript", "Map", "Web Map", "Online Map"],
}
_ORGID = re.compile(r"orgid:([A-Za-z0-9]+)")
_ALPHANUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def org_id(spec: PortalSpec) -> str:
    """The organisation the portal's items belong to: the ``orgid:`` its seed source URL names,
    else a 16-character id fixed by the host (the length ArcGIS Online org ids have)."""
    for key, value in parse_qsl(urlsplit(spec.source_url).query):
        match = _ORGID.search(value) if key == "q" else None
        if match:
            return match.group(1)
    n = stable_int(spec.host, "orgid")
    out = ""
    for _ in range(16):
        n, r = divmod(n, len(_ALPHANUM))
        out += _ALPHANUM[r]
    return out


def item_type(ds: SimDataset) -> str:
    """How the dataset is published: mostly a Feature Service; tables also as CSV or Excel files;
    about one in thirteen as an app."""
    bits = stable_int(ds.remote_id, "item-type")
    if bits % 13 == 0:
        return APP_TYPES[bits % 2]
    if ds.spatial:
        return "Feature Service"
    return ("Feature Service", "Feature Service", "CSV", "CSV", "Microsoft Excel")[bits % 5]


def item_id(ds: SimDataset) -> str:
    return item_and_layer(ds)[0]


def find_item(view: PortalView, ident: str) -> SimDataset | None:
    """The dataset published as item ``ident``."""
    return next((d for d in view.datasets if item_id(d) == ident), None)


def owner(view: PortalView, ds: SimDataset) -> str:
    """The publishing account, ``<Department>_<org key>`` as ArcGIS Online user names go."""
    words = re.findall(r"[A-Za-z]+", ds.publisher)
    department = "".join(w[:1].upper() + w[1:] for w in words if w.lower() not in ("of", "the", "and"))[:18]
    return f"{department or 'OpenData'}_{view.habits.hub_org}"


def file_name(ds: SimDataset, kind: str) -> str | None:
    if kind == "CSV":
        return f"{ds.slug}.csv"
    if kind == "Microsoft Excel":
        return f"{ds.slug}.{'xls' if stable_int(ds.remote_id, 'xls') % 4 == 0 else 'xlsx'}"
    if kind == "Feature Service":
        return service_name(ds)
    return None


def extent(ds: SimDataset) -> list[list[float]]:
    """A small box somewhere in the US for a spatial dataset, ``[]`` otherwise (as ArcGIS writes)."""
    if not ds.spatial:
        return []
    bits = stable_int(ds.remote_id, "extent")
    west, south = -125 + (bits % 500) / 10, 25 + (bits % 200) / 10
    return [[round(west, 6), round(south, 6)], [round(west + 0.4, 6), round(south + 0.3, 6)]]


def _license_info(ds: SimDataset, bits: int) -> str | None:
    label, url, _ = LICENSES[ds.license]
    choice = bits % 4
    if choice == 0 and url:
        return f"<p><a href='{url}' rel='nofollow ugc'>{html.escape(label)}</a></p>"
    if choice == 1:
        return "null"
    if choice == 2:
        return (
            "<span style='font-family:Avenir Next;'>This data is provided as is, without warranty of any kind. "
            "The City is not liable for any use of this information.</span>"
        )
    return None


def _snippet(ds: SimDataset) -> str:
    text = re.sub(r"<[^>]+>", " ", ds.description)
    text = html.unescape(re.sub(r"\s+", " ", text)).strip()
    first = text.split(". ", 1)[0].rstrip(".")
    return (first[:247] + "...") if len(first) > 250 else (first + "." if first else "")


def portal_item(req_link: Any, view: PortalView, ds: SimDataset) -> dict[str, Any]:
    """One item with every key of the recorded search result; ``req_link`` makes URLs on the host."""
    item, layer = item_and_layer(ds)
    kind = item_type(ds)
    bits = stable_int(ds.remote_id, "item")
    url = (
        req_link(f"/arcgis/rest/services/{service_name(ds)}/FeatureServer/{layer}")
        if kind == "Feature Service"
        else None
    )
    # a service's item date follows metadata edits; a file item is replaced with its data
    modified = ds.updated_at if kind in ("CSV", "Microsoft Excel") else ds.metadata_updated_at
    return {
        "id": item,
        "owner": owner(view, ds),
        "created": epoch_ms(ds.created_at),
        "modified": epoch_ms(modified),
        "guid": None,
        "name": file_name(ds, kind),
        "title": ds.title,
        "type": kind,
        "typeKeywords": list(_KEYWORDS[kind]),
        "description": ds.description or None,
        "tags": list(ds.tags),
        "snippet": _snippet(ds) or None,
        "thumbnail": f"thumbnail/thumbnail{epoch_ms(ds.created_at)}.png" if bits % 3 else None,
        "documentation": None,
        "extent": extent(ds),
        "categories": [f"/Categories/{ds.domain_category}"] if bits % 3 == 0 else [],
        "spatialReference": "102100" if ds.spatial else None,
        "accessInformation": ds.publisher if bits % 5 else None,
        "licenseInfo": _license_info(ds, bits),
        "culture": "en-us",
        "properties": None,
        "advancedSettings": None,
        "url": url,
        "proxyFilter": None,
        "access": "public",
        "size": -1 if kind == "Feature Service" else 1024 + ds.row_count * 64,
        "subInfo": 0,
        "appCategories": [],
        "industries": [],
        "languages": [],
        "largeThumbnail": None,
        "banner": None,
        "screenshots": [],
        "listed": False,
        "numComments": 0,
        "numRatings": 0,
        "avgRating": 0,
        "numViews": ds.page_views,
        "orgId": org_id(view.spec),
        "scoreCompleteness": 50 + bits % 51,
        "groupDesignations": None,
        "lastViewed": epoch_ms(view.now),
    }
