"""ArcGIS portal items: the converters and mapping rows that ArcGIS Online search results and ArcGIS
Hub search records share.

An ArcGIS Online / Enterprise ``sharing/rest/search`` result *is* a portal item; a Hub Search API
record carries the same item "wholesale in ``.properties``" (Esri's hub.js,
``ogcItemToSearchResult.ts``). So both platforms map one item through the rows
:func:`item_rules` builds, under a path prefix (``""`` or ``"properties."``), and differ only in
identity, landing page and distributions.

Item fields read (as in ``reference/portal-samples/arcgis/arcgis_online_sharing_rest_search_*``):
``id``, ``title``, ``name`` (a file item's file name, a service's name), ``type`` (``Feature
Service``, ``CSV`` …), ``description`` (HTML), ``snippet``, ``tags``, ``categories``
(``/Categories/People``), ``created``/``modified`` (epoch ms), ``owner`` (a user name),
``accessInformation`` (credits), ``licenseInfo`` (HTML, often a disclaimer, sometimes the string
``"null"``), ``extent`` (``[[xmin, ymin], [xmax, ymax]]`` in WGS 84; Hub gives a GeoJSON polygon),
``url`` (a service's REST endpoint, empty for file items).
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import quote, urlsplit

from harvesters import convert as c

#: the item types that hold data, with how their data is served: (media type, format label);
#: a service type has no file media type (its REST endpoint is an access URL)
ITEM_TYPES: dict[str, tuple[str | None, str]] = {
    "Feature Service": (None, "Esri REST"),
    "Map Service": (None, "Esri REST"),
    "CSV": ("text/csv", "CSV"),
    "Microsoft Excel": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX"),
    "File Geodatabase": ("application/zip", "File Geodatabase"),
    "Shapefile": ("application/zip", "Shapefile"),
    "GeoJson": ("application/geo+json", "GeoJSON"),
    "KML": ("application/vnd.google-earth.kml+xml", "KML"),
}
SERVICE_TYPES = frozenset(t for t, (kind, _) in ITEM_TYPES.items() if kind is None)
#: hosts whose licence links name a licence (anything else in ``licenseInfo`` is terms of use)
LICENSE_HOSTS = ("creativecommons.org", "opendatacommons.org", "opendefinition.org")
ONLINE_HOME = "https://www.arcgis.com"
_ITEM_ID = re.compile(r"^[0-9a-fA-F]{32}$")
_HREF = re.compile(r"""https?://[^\s"'<>]+""")


def is_item_id(value: Any) -> bool:
    """An ArcGIS item id: 32 hexadecimal digits."""
    return isinstance(value, str) and bool(_ITEM_ID.match(value))


def type_query(types: tuple[str, ...] = tuple(ITEM_TYPES)) -> str:
    """The search clause selecting data items: ``type:"Feature Service" OR type:"CSV" OR …``."""
    return " OR ".join(f'type:"{t}"' for t in types)


# --------------------------------------------------------------------------------------------------
# Converters
# --------------------------------------------------------------------------------------------------


def _not_null(value: Any) -> Any:
    # ArcGIS writes an emptied licence or description as the string "null"
    return None if isinstance(value, str) and value.strip().lower() in ("null", "none") else value


def item_text(value: Any) -> str | None:
    """HTML item text as plain text; the literal ``"null"`` ArcGIS leaves in emptied fields is none."""
    return c.plain_text(_not_null(value))


def item_categories(value: Any) -> list[str] | None:
    """Content categories as their last path segment: ``/Categories/Public Safety`` → ``Public Safety``."""
    if not isinstance(value, list):
        return None
    names = [item.rstrip("/").rsplit("/", 1)[-1] for item in value if isinstance(item, str)]
    return c.keywords(names)


def credits(value: Any) -> str | None:
    """``accessInformation`` (credits) or a Hub ``source`` as a publisher name: one line of at most
    150 characters (longer text is a list of sources or a disclaimer, not a name)."""
    shown = item_text(value)
    if shown is None or "\n" in shown or len(shown) > 150:
        return None
    return shown


def license_url(value: Any) -> str | None:
    """The licence a ``licenseInfo`` links to (Creative Commons, Open Data Commons, Open Definition);
    terms of use and disclaimers give none."""
    raw = c.text(_not_null(value))
    if raw is None:
        return None
    for href in _HREF.findall(raw):
        url = c.http_url(href.rstrip(".,;)"))
        host = urlsplit(url).netloc.lower() if url else ""
        if url and any(host == h or host.endswith("." + h) for h in LICENSE_HOSTS):
            return url
    return None


def item_rights(value: Any) -> str | None:
    """``licenseInfo`` as a rights statement when it is short enough for the schema (255 characters)."""
    return c.rights_text(_not_null(value))


def _finite(values: list[Any]) -> list[float] | None:
    out = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return out if len(out) == len(values) and all(math.isfinite(v) for v in out) else None


def _corners(extent: Any) -> list[float] | None:
    """``[xmin, ymin, xmax, ymax]`` of an item extent: ArcGIS Online's ``[[x, y], [x, y]]`` or a
    GeoJSON polygon (Hub)."""
    if isinstance(extent, list) and len(extent) == 2 and all(isinstance(p, list) and len(p) == 2 for p in extent):
        box = _finite([extent[0][0], extent[0][1], extent[1][0], extent[1][1]])
        return box
    if isinstance(extent, dict) and extent.get("type") == "Polygon" and isinstance(extent.get("coordinates"), list):
        ring = extent["coordinates"][0] if extent["coordinates"] else None
        points = [p for p in ring if isinstance(p, list) and len(p) >= 2] if isinstance(ring, list) else []
        xs = _finite([p[0] for p in points]) if points else None
        ys = _finite([p[1] for p in points]) if points else None
        if xs and ys:
            return [min(xs), min(ys), max(xs), max(ys)]
    return None


def item_extent(extent: Any) -> str | None:
    """The item's extent as ``west,south,east,north``; an empty extent, one outside WGS 84 ranges
    and the whole-world default extent (±180, ±~90) give none."""
    box = _corners(extent)
    if box is None:
        return None
    west, south, east, north = box
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        return None
    if west <= -179.9 and east >= 179.9 and south <= -85 and north >= 85:
        return None
    return ",".join(f"{v:.4f}" for v in box)


def item_page(portal: Any, item_id: Any) -> str | None:
    """The item's page, ``{portal}/home/item.html?id={id}`` (the identifier ArcGIS Hub's DCAT-US feed
    gives the same item)."""
    home, ident = c.text(portal), c.text(item_id)
    if home is None or not is_item_id(ident):
        return None
    return c.http_url(f"{home.rstrip('/')}/home/item.html?id={ident}")


def item_data_url(portal: Any, item_id: Any) -> str | None:
    """A file item's download, ``{portal}/sharing/rest/content/items/{id}/data``."""
    home, ident = c.text(portal), c.text(item_id)
    if home is None or not is_item_id(ident):
        return None
    return c.http_url(f"{home.rstrip('/')}/sharing/rest/content/items/{quote(str(ident))}/data")


def _excel_type(name: Any) -> str:
    return (
        "application/vnd.ms-excel"
        if (c.text(name) or "").lower().endswith(".xls")
        else ITEM_TYPES["Microsoft Excel"][0] or ""
    )


def item_distributions(portal: Any, item_id: Any, item_type: Any, url: Any, name: Any) -> list[dict[str, Any]] | None:
    """A service item's REST endpoint as an access URL (``application/json``, format ``Esri REST``);
    a file item's data as a download (media type from :data:`ITEM_TYPES`; ``.xls`` Excel files as
    ``application/vnd.ms-excel``); any other item's ``url`` as an access URL."""
    kind = c.text(item_type)
    if kind in SERVICE_TYPES:
        return c.unique_distributions(
            [
                c.distribution(
                    access_url=url,
                    kind="application/json",
                    format_name="Esri REST",
                    title="ArcGIS GeoServices REST API",
                )
            ]
        )
    if kind in ITEM_TYPES:
        media, label = ITEM_TYPES[kind]
        if kind == "Microsoft Excel":
            media = _excel_type(name)
        return c.unique_distributions(
            [c.distribution(download_url=item_data_url(portal, item_id), kind=media, format_name=label, title=name)]
        )
    return c.unique_distributions([c.distribution(access_url=url)])


def file_item_date(item_type: Any, modified: Any) -> Any:
    """``modified`` as the data's last update only for file items, whose data is the item itself;
    a service's item date moves with metadata edits and says nothing of its rows."""
    kind = c.text(item_type)
    return c.parse_datetime(modified) if kind in ITEM_TYPES and kind not in SERVICE_TYPES else None


# --------------------------------------------------------------------------------------------------
# The rows both platforms share
# --------------------------------------------------------------------------------------------------


def item_rules(prefix: str = "") -> tuple[c.Rule, ...]:
    """The mapping rows of one portal item whose fields sit under ``prefix``."""
    p = prefix
    return (
        c.rule("title", f"{p}title", c.text),
        c.rule("title", f"{p}name", c.text),
        c.rule("description", f"{p}description", item_text, "HTML"),
        c.rule("description", f"{p}snippet", item_text, "the one-line summary"),
        c.rule("keyword", f"{p}tags", c.keywords),
        c.rule("theme", f"{p}categories", item_categories),
        c.rule("modified", f"{p}modified", c.iso_datetime, "epoch ms"),
        c.rule("issued", f"{p}created", c.iso_datetime, "epoch ms"),
        c.rule("publisher.name", f"{p}accessInformation", credits, "credits"),
        c.rule("contactPoint.fn", f"{p}owner", c.text, "the owner's user name, as Hub's feed writes it"),
        c.rule("license", f"{p}licenseInfo", license_url),
        c.rule("rights", f"{p}licenseInfo", item_rights),
        c.rule("spatial", f"{p}extent", item_extent),
        c.rule("language", f"{p}culture", c.languages),
        c.rule("pdi.freshness.last_data_update", (f"{p}type", f"{p}modified"), file_item_date),
        c.rule("pdi.freshness.last_metadata_update", f"{p}modified", c.parse_datetime),
    )


ITEM_NOTES: tuple[str, ...] = (
    "Item types read as datasets, and how their data is linked: "
    + ", ".join(f"`{t}` → {'REST access URL' if m is None else f'`{m}` download'}" for t, (m, _) in ITEM_TYPES.items())
    + ".",
    "An item declares no update frequency; its `modified` is the data's last update only for file "
    "items (CSV, Excel …): a service's item date moves with metadata edits, so a service's freshness "
    "stays unknown.",
    "`licenseInfo` is free HTML: a link to Creative Commons, Open Data Commons or Open Definition "
    "becomes `license`; other text of at most 255 characters becomes `rights`.",
)
