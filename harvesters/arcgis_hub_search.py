"""ArcGIS Hub sites through the Hub Search API (OGC API – Records): one record per data item.

A Hub site (``https://<site>.hub.arcgis.com`` or a custom domain such as
``https://data.baltimorecity.gov``) answers ``GET {site}/api/search/v1/collections/{collection}/items``
with a GeoJSON ``FeatureCollection``: ``features`` (one per item), ``numberMatched``,
``numberReturned`` and ``links``, among them ``rel: "next"`` whose ``href`` carries the next
``startindex``; paging parameters are ``limit`` and ``startindex`` (1-based, lower case), the sort
``sortBy=properties.<field>`` (``-`` for descending), free text ``q``. The site's ``dataset``
collection holds its data items (``all`` holds everything, sites and documents too).

No response of this API is recorded in ``reference/portal-samples``. What the code follows, and
what the simulator's shape (``simulator/platforms/hub_search.py``) is built from:

* Esri's Hub developer guide, "Hub Search API" (developers.arcgis.com/hub/services/search): the
  endpoints ``/api/search/v1``, ``/collections``, ``/collections/{collectionId}/items``; OGC API –
  Records conformance;
* Esri's hub.js (``packages/common/src/search/_internal/hubSearchItemsHelpers/``):
  ``interfaces.ts`` (``IOgcItemsResponse``: ``type``, ``features``, ``timestamp``,
  ``numberMatched``, ``numberReturned``, ``links``; ``IOgcItem``: ``id``, ``type``, ``geometry``,
  ``time``, ``links``, ``properties``), ``getOgcItemQueryParams.ts`` ("API requires the param name
  be all lowercase": ``startindex``; ``limit``, ``q``, ``sortBy``, ``filter``),
  ``getNextOgcCallback.ts`` (the next page is the ``startindex`` of the ``rel: "next"`` link),
  ``getSortByQueryParam.ts`` (``properties.<field>``), ``ogcItemToSearchResult.ts`` ("OGC Api
  stuffs the item wholesale in ``.properties``", plus ``source`` and ``license``), and its test
  mock ``ogcItemsResponse.ts``;
* clients written against live sites (a ``limit`` of at most 100 per page).

So a feature's ``properties`` is an ArcGIS portal item, mapped by the rows the ArcGIS Online
harvester uses (``harvesters/_arcgis_items.py``). To keep one dataset recognisable whichever way a
Hub site is read, the ``identifier`` is the item page ``https://www.arcgis.com/home/item.html?id=<id>``,
exactly what the site's DCAT-US feed (read by ``dcat_us``) gives the item, and the publisher is
Hub's ``source``, which is what the feed writes as ``publisher.name``. The landing page is the
site's ``/datasets/<item id>``, which Hub resolves to the dataset's page.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit

from catalog.record import CatalogRecord
from harvesters import _arcgis_items as items
from harvesters import convert as c
from harvesters._paging import PageGuard, announced_total
from harvesters.base import GatherError, GatherStats, Harvester, RawRecord, SourceContext
from harvesters.http import FetchError, HttpClient
from harvesters.registry import register

PAGE_SIZE = 100
SEARCH_ROOT = "/api/search/v1"
DEFAULT_COLLECTION = "dataset"
#: our paging parameters; a source URL's own values for these are ignored
PAGING_KEYS = frozenset({"limit", "startindex", "sortby"})


# --------------------------------------------------------------------------------------------------
# Mapping
# --------------------------------------------------------------------------------------------------


def online_item_page(item_id: Any) -> str | None:
    """``https://www.arcgis.com/home/item.html?id={id}``: the identifier Hub's DCAT-US feed gives
    the item (Hub sites front ArcGIS Online organisations)."""
    return items.item_page(items.ONLINE_HOME, item_id)


def hub_page(base_url: Any, item_id: Any) -> str | None:
    """The dataset's page on the Hub site, ``{site}/datasets/{item id}``."""
    site, ident = c.text(base_url), c.text(item_id)
    if site is None or not items.is_item_id(ident):
        return None
    return c.http_url(f"{site.rstrip('/')}/datasets/{ident}")


def hub_distributions(
    base_url: Any, item_id: Any, item_type: Any, service: Any, name: Any
) -> list[dict[str, Any]] | None:
    """The Hub page (``text/html``, as the feed lists it first), then the item's REST endpoint or
    its file on ArcGIS Online (see ``item_distributions``)."""
    page = c.distribution(
        access_url=hub_page(base_url, item_id), kind="text/html", format_name="Web Page", title="ArcGIS Hub Dataset"
    )
    data = items.item_distributions(items.ONLINE_HOME, item_id, item_type, service, name) or []
    return c.unique_distributions([page, *data])


_ITEM_ID = ("id", "properties.id")

MAPPING = c.MappingTable(
    platform="arcgis_hub_search",
    content="one Hub Search API `features[]` record, untouched: `{id, type, geometry, time, links, properties}`, "
    "`properties` being the portal item plus Hub's `source` and `license`",
    rules=(
        c.rule("publisher.name", "properties.source", items.credits, "Hub's source, the feed's publisher"),
        *items.item_rules("properties."),
        c.rule("spatial", "geometry", items.item_extent, "GeoJSON"),
        c.rule("identifier", "id", online_item_page, "the ArcGIS Online item page"),
        c.rule("identifier", "properties.id", online_item_page),
        c.rule("landingPage", ("context.base_url", "id"), hub_page, "the site's dataset page"),
        c.rule(
            "distribution",
            ("context.base_url", "id", "properties.type", "properties.url", "properties.name"),
            hub_distributions,
        ),
    ),
    notes=(
        "No Hub Search API response is recorded in the reference samples: the fields read follow "
        "Esri's Hub developer guide and hub.js (see the module docstring), and the golden test maps a "
        "page of the simulator's Hub Search API (`tests/fixtures/arcgis_hub_search/`).",
        "The identifier `https://www.arcgis.com/home/item.html?id=<id>` is the one the site's DCAT-US "
        "feed gives the same item; the feed also lists each layer of a multi-layer service "
        "(`…&sublayer=<n>`), which this API does not.",
        *items.ITEM_NOTES,
    ),
)


# --------------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------------


def _feature_id(feature: Any) -> str | None:
    if not isinstance(feature, dict):
        return None
    ident = feature.get("id")
    if not items.is_item_id(ident) and isinstance(feature.get("properties"), dict):
        ident = feature["properties"].get("id")
    return ident if items.is_item_id(ident) else None


def _is_record(feature: Any) -> bool:
    """One record: a GeoJSON ``Feature`` whose ``properties`` is an item (``type`` and ``title``)
    and that has an item id."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return False
    props = feature.get("properties")
    return (
        isinstance(props, dict)
        and isinstance(props.get("type"), str)
        and "title" in props
        and _feature_id(feature) is not None
    )


def _entries(document: Any) -> list[dict[str, Any]] | None:
    """The records of an items page (a ``FeatureCollection`` with ``numberMatched``) or one record."""
    if not isinstance(document, dict):
        return None
    features = document.get("features")
    if document.get("type") == "FeatureCollection" and isinstance(features, list) and "numberMatched" in document:
        return features if all(_is_record(f) for f in features) else None
    if _is_record(document):
        return [document]
    return None


def _next_startindex(links: Any) -> int | None:
    """The ``startindex`` of the ``rel: "next"`` link, or None when there is no next page."""
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and link.get("rel") == "next" and isinstance(link.get("href"), str):
            query = dict(parse_qsl(urlsplit(link["href"]).query))
            try:
                return int(query.get("startindex", ""))
            except ValueError:
                return -1  # a next link whose startindex is unreadable: the caller reports it
    return None


@register
class ArcgisHubSearchHarvester(Harvester):
    """ArcGIS Hub sites through the Hub Search API (OGC API – Records ``…/collections/dataset/items``)."""

    platform: ClassVar[str] = "arcgis_hub_search"
    title: ClassVar[str] = "ArcGIS Hub Search API (OGC API – Records; one record per data item)"
    mapping: ClassVar[c.MappingTable] = MAPPING

    def gather(self, source: SourceContext, http: HttpClient, stats: GatherStats) -> Iterator[RawRecord]:
        """Page through the site's ``dataset`` collection (or the collection the source URL names,
        ``…/api/search/v1/collections/<name>/items``), 100 a page, oldest first
        (``sortBy=properties.created``), following the ``next`` link's ``startindex``.

        A failed page, a body without a ``features`` list, a repeated page, a next ``startindex``
        that does not move forward and a listing that ends short of ``numberMatched`` raise
        :class:`GatherError`. Duplicate ids are yielded once; features without an item id are
        skipped and noted in ``stats.errors``.
        """
        endpoint, params = self._endpoint(source)
        guard = PageGuard()
        start = 1
        while True:
            page = {**params, "limit": PAGE_SIZE, "startindex": start}
            body, page_url = self._read(http, endpoint, page, stats, start)
            features = body.get("features")
            if not isinstance(features, list):
                raise GatherError(
                    "items page has no 'features' list; the Hub Search API response changed shape", page_url
                )
            total = announced_total(body.get("numberMatched"))
            if total is not None:
                stats.total = total
            if not features:
                guard.check_end(start - 1, total, page_url)
                break
            fetched_at = datetime.now(UTC)
            ids = [_feature_id(f) for f in features]
            guard.check_page(ids, page_url)
            for ident, feature in zip(ids, features, strict=True):
                if ident is None:
                    stats.errors.append(f"record without an item id skipped ({page_url})")
                elif guard.first_time(ident):
                    yield RawRecord(ident, page_url, fetched_at, feature)
            after = _next_startindex(body.get("links"))
            if after is None:
                guard.check_end(start - 1 + len(features), total, page_url)
                break
            if after <= start:
                raise GatherError(
                    f"the next link's startindex {after} does not move past {start} (paging loop)", page_url
                )
            start = after
        stats.complete = True

    @staticmethod
    def _endpoint(source: SourceContext) -> tuple[str, dict[str, str]]:
        """The items endpoint and the source URL's own query parameters (``q``, ``filter`` …)."""
        parts = urlsplit(source.url)
        given = {k: v for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in PAGING_KEYS}
        path = parts.path.rstrip("/")
        if f"{SEARCH_ROOT}/collections/" in path and path.endswith("/items"):
            endpoint = f"{parts.scheme}://{parts.netloc}{path}"
        else:
            site = path.split(SEARCH_ROOT, 1)[0].rstrip("/")
            endpoint = f"{parts.scheme}://{parts.netloc}{site}{SEARCH_ROOT}/collections/{DEFAULT_COLLECTION}/items"
        return endpoint, {**given, "sortBy": "properties.created"}

    @staticmethod
    def _read(
        http: HttpClient, url: str, params: dict[str, Any], stats: GatherStats, start: int
    ) -> tuple[dict[str, Any], str]:
        shown = f"{url}?{urlencode(params)}"
        try:
            body = http.get_json(url, params=params)
        except FetchError as exc:
            raise GatherError(f"items page at startindex {start} could not be read: {exc}", shown) from exc
        finally:
            stats.requests += 1
        if not isinstance(body, dict):
            raise GatherError("items page is not a JSON object; the Hub Search API response changed shape", shown)
        stats.pages += 1
        return body, shown

    @staticmethod
    def map_record(raw: RawRecord, source: SourceContext) -> CatalogRecord:
        """Map one record through :data:`MAPPING` (pure)."""
        return c.map_with(MAPPING, raw, source)

    @staticmethod
    def recognizes(document: Any) -> bool:
        """An items page (``FeatureCollection`` with ``numberMatched`` and item records) or one record."""
        return _entries(document) is not None

    @staticmethod
    def split_document(document: Any, source_url: str, fetched_at: datetime) -> Iterator[RawRecord]:
        """One raw record per distinct item id."""
        entries = _entries(document)
        if entries is None:
            raise ValueError("not a Hub Search API items page or record")
        seen: set[str] = set()
        for entry in entries:
            ident = _feature_id(entry)
            if ident is not None and ident not in seen:
                seen.add(ident)
                yield RawRecord(ident, source_url, fetched_at, entry)
