"""Which records are the same dataset: a dataset identity key computed from one mapped record.

The same dataset is often seen through two sources — a Socrata catalog and the same portal's
``data.json``, a city's ArcGIS Hub and the ArcGIS Server behind it, a county portal listing a
city's item. Records whose :func:`dataset_key` is equal are one dataset (the store merges them,
see ``store/merge.py``); a record without a key is never merged.

The key is deliberately conservative — a false merge hides a dataset, a missed one only shows it
twice. It is computed from identifiers the platforms themselves give a dataset, never from a title
or description. The rules are tried in the order of :data:`RULES`; the first that gives a key wins:

``socrata``
    A Socrata dataset id (a "4x4" such as ``3k2p-39jp``) on one site, read from a URL path
    ``/d/<4x4>``, ``/api/views/<4x4>[...]``, ``/resource/<4x4>[.ext]`` or
    ``/api/geospatial/<4x4>``: first the landing page, then the identifier, then the
    distributions (only when all of them name the same dataset); else a bare 4x4 identifier of a
    record read from a Socrata portal, on that portal's host. Key ``socrata:<site>/<4x4>``.
``arcgis_layer``
    An ArcGIS REST layer or table (``…/rest/services/…/FeatureServer/<n>`` or ``MapServer/<n>``)
    as the landing page, the identifier or the only layer among the distributions (a Hub feed
    lists it as the "ArcGIS GeoService"). Key ``arcgis-layer:<site>/<path>/<n>``, lower-cased
    (ArcGIS service paths are case-insensitive).
``arcgis_item``
    An ArcGIS item id (32 hex digits) with its sublayer, from ``…/home/item.html?id=<id>
    [&sublayer=<n>]``, a Hub page ``/datasets/<id>[_<n>]`` or a Hub download
    ``/api/download/v1/items/<id>/…?layers=<n>``. Key ``arcgis-item:<id>[/<n>]``.
``identifier_url``
    The identifier, when it is an absolute http(s) URL (DCAT-US identifiers are unique per
    dataset). Key ``url:<normalised URL>``.
``identifier_uuid``
    The identifier, when it is a UUID (a CKAN package id; ``data.json`` of a CKAN site uses it
    too). Key ``uuid:<uuid>``.
``landing_page``
    The landing page, unless it is a site's root. Key ``url:<normalised URL>``.

A normalised URL drops the scheme, a leading ``www.``, default ports, the fragment and a trailing
slash, lower-cases the host and sorts the query. Keys longer than :data:`MAX_KEY_LENGTH` are
shortened with a hash.

The store adds one rule no single record can see: two records *of the same source* never merge
(within a source, distinct remote ids are distinct datasets), so a key that one source gives to
several records (e.g. a shared landing page) merges nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit

from catalog.record import CatalogRecord
from catalog.vocabulary import PortalPlatform

MAX_KEY_LENGTH = 300

_FOUR_BY_FOUR = r"[a-z0-9]{4}-[a-z0-9]{4}"
_BARE_4X4 = re.compile(rf"^{_FOUR_BY_FOUR}$")
# (prefix of the site's path, 4x4) — the prefix is empty on a real portal; it keeps the path of a
# portal served under a path (a proxy, or the demo's simulator at http://127.0.0.1:PORT/<host>/…).
_SOCRATA_PATH = re.compile(
    rf"^(?P<prefix>.*?)/(?:d|api/views|resource|api/geospatial)/(?P<id>{_FOUR_BY_FOUR})"
    r"(?:\.[a-z]+|/rows\.[a-z]+|/files/[^/]+)?/?$"
)
_LAYER_PATH = re.compile(r"^(?P<service>.*/rest/services/.+/(?:featureserver|mapserver))/(?P<layer>\d+)/?$")
_ITEM_ID = r"[0-9a-f]{32}"
_HUB_DATASET_PATH = re.compile(rf"/datasets/(?P<id>{_ITEM_ID})(?:_(?P<layer>\d+))?/?$")
_HUB_DOWNLOAD_PATH = re.compile(rf"/api/download/v1/items/(?P<id>{_ITEM_ID})/[^/]+/?$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

#: which harvester's record is the dataset's primary one when several sources list it: a platform's
#: own API (richer metadata: columns, row counts, custom fields) before a ``data.json`` feed, before
#: a link on a web page. Lower wins; ties go to the record seen first.
PLATFORM_RANK: dict[str, int] = {
    "socrata": 0,
    "ckan": 0,
    "opendatasoft": 0,
    "arcgis_server": 0,
    "dcat_us": 1,
    "html": 2,
}
UNKNOWN_PLATFORM_RANK = 1


def platform_rank(platform: str) -> int:
    """The rank of a harvester platform in :data:`PLATFORM_RANK` (an unknown one ranks with data.json)."""
    return PLATFORM_RANK.get(platform, UNKNOWN_PLATFORM_RANK)


@dataclass(frozen=True)
class _Url:
    site: str  # lower-cased host (no www., no default port)
    path: str  # as given, without a trailing slash
    query: tuple[tuple[str, str], ...]


@lru_cache(maxsize=8192)
def _parse(url: str | None) -> _Url | None:
    """The parts of an absolute http(s) URL that identify it (cached: a record's URLs are parsed
    several times over, and its sources' again)."""
    if not url or not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().removeprefix("www.")
    if port is not None and port not in (80, 443):
        host = f"{host}:{port}"
    return _Url(host, parts.path.rstrip("/"), tuple(parse_qsl(parts.query, keep_blank_values=True)))


def normalise_url(url: str | None) -> str | None:
    """``https://WWW.Example.gov:443/a/b/?y=2&x=1#top`` -> ``example.gov/a/b?x=1&y=2``; None if
    it is not an absolute http(s) URL."""
    parsed = _parse(url)
    if parsed is None:
        return None
    query = urlencode(sorted(parsed.query))
    return f"{parsed.site}{parsed.path}" + (f"?{query}" if query else "")


def _shorten(key: str) -> str:
    if len(key) <= MAX_KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"{key[: MAX_KEY_LENGTH - 42]}#{digest}"


def _landing_and_identifier(record: CatalogRecord) -> list[str]:
    return [u for u in (record.landingPage, record.identifier) if u]


def _distribution_urls(record: CatalogRecord) -> list[str]:
    return [u for d in record.distribution for u in (d.downloadURL, d.accessURL) if u]


def _first_or_agreed(first: Iterable[str | None], rest: Iterable[str | None]) -> str | None:
    """The first key from ``first``; else the key every one of ``rest`` agrees on (None if they differ)."""
    for key in first:
        if key is not None:
            return key
    found = {k for k in rest if k is not None}
    return found.pop() if len(found) == 1 else None


# ---- the rules -----------------------------------------------------------------------------------


def socrata_key(record: CatalogRecord) -> str | None:
    def from_url(url: str) -> str | None:
        parsed = _parse(url)
        if parsed is None:
            return None
        match = _SOCRATA_PATH.match(parsed.path.lower())
        if match is None:
            return None
        return f"socrata:{parsed.site}{match['prefix']}/{match['id']}"

    key = _first_or_agreed(
        (from_url(u) for u in _landing_and_identifier(record)),
        (from_url(u) for u in _distribution_urls(record)),
    )
    if key is not None:
        return key
    source = record.pdi.source
    ident = record.identifier.strip().lower()
    if _BARE_4X4.match(ident) and (source.platform == "socrata" or source.portal_platform is PortalPlatform.SOCRATA):
        portal = _parse(source.portal_url)
        if portal is not None:
            return f"socrata:{portal.site}/{ident}"
    return None


def arcgis_layer_key(record: CatalogRecord) -> str | None:
    def from_url(url: str) -> str | None:
        parsed = _parse(url)
        if parsed is None:
            return None
        match = _LAYER_PATH.match(parsed.path.lower())
        return f"arcgis-layer:{parsed.site}{match['service']}/{match['layer']}" if match else None

    return _first_or_agreed(
        (from_url(u) for u in _landing_and_identifier(record)),
        (from_url(u) for u in _distribution_urls(record)),
    )


def arcgis_item_key(record: CatalogRecord) -> str | None:
    def from_url(url: str) -> str | None:
        parsed = _parse(url)
        if parsed is None:
            return None
        path = parsed.path.lower()
        query = {k.lower(): v.lower() for k, v in parsed.query}
        item: str | None = None
        layer: str | None = None
        if path.endswith("/home/item.html") and re.fullmatch(_ITEM_ID, query.get("id", "")):
            item, layer = query["id"], query.get("sublayer")
        elif match := _HUB_DATASET_PATH.search(path):
            item, layer = match["id"], match["layer"]
        elif match := _HUB_DOWNLOAD_PATH.search(path):
            item, layer = match["id"], query.get("layers")
        if item is None or (layer is not None and not layer.isdigit()):
            return None
        return f"arcgis-item:{item}" + (f"/{int(layer)}" if layer is not None else "")

    return _first_or_agreed(
        (from_url(u) for u in _landing_and_identifier(record)),
        (from_url(u) for u in _distribution_urls(record)),
    )


def identifier_url_key(record: CatalogRecord) -> str | None:
    url = normalise_url(record.identifier)
    return f"url:{url}" if url else None


def identifier_uuid_key(record: CatalogRecord) -> str | None:
    ident = record.identifier.strip().lower()
    return f"uuid:{ident}" if _UUID.match(ident) else None


def landing_page_key(record: CatalogRecord) -> str | None:
    parsed = _parse(record.landingPage)
    if parsed is None or not parsed.path.strip("/"):
        return None  # a site's home page is no dataset's own page
    url = normalise_url(record.landingPage)
    return f"url:{url}" if url else None


@dataclass(frozen=True)
class KeyRule:
    name: str
    key: Callable[[CatalogRecord], str | None]


RULES: tuple[KeyRule, ...] = (
    KeyRule("socrata", socrata_key),
    KeyRule("arcgis_layer", arcgis_layer_key),
    KeyRule("arcgis_item", arcgis_item_key),
    KeyRule("identifier_url", identifier_url_key),
    KeyRule("identifier_uuid", identifier_uuid_key),
    KeyRule("landing_page", landing_page_key),
)


def dataset_key(record: CatalogRecord) -> str | None:
    """The record's dataset identity key (see the module docstring), or None: never merged.

    Pure: reads only the record (its landing page, identifier, distributions and source)."""
    for rule in RULES:
        key = rule.key(record)
        if key is not None:
            return _shorten(key)
    return None
