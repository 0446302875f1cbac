"""ArcGIS Online / ArcGIS Enterprise portal search: one record per data item of an organisation.

Plain REST calls through our HTTP layer (``sharing/rest/search``), not the ``arcgis`` package:
that package opens its own ``requests`` sessions, so its calls would bypass the per-host limits,
retries, size cap, conditional GET and simulator routing every harvester shares (see
docs/arcgis.md; a test checks that ``arcgis.gis.GIS(...).content.search`` and this harvester
see the same items).

The protocol, per Esri's REST API reference ("Search", "Considerations and limitations"):
``GET {portal}/sharing/rest/search?q=…&start=…&num=…&sortField=…&sortOrder=…&f=json`` answers
``{"total", "start", "num", "nextStart", "results": [item, …]}``; ``start`` is 1-based, ``num`` at
most 100, ``nextStart`` is -1 after the last page, and only the first 10 000 results can be paged.
Errors come back with HTTP 200 as ``{"error": {"code", "message"}}``.

A source URL says whose items to read:

* ``https://www.arcgis.com/sharing/rest/search?q=orgid:<id>`` (or ``owner:<user>``,
  ``group:<id>``): the query as given, which must name an organisation, owner or group, since an
  unrestricted query lists every public item of ArcGIS Online;
* an organisation or portal root (``https://<org>.maps.arcgis.com``,
  ``https://gis.example.gov/portal``): its organisation id is read from
  ``{root}/sharing/rest/portals/self?f=json`` and the query is ``orgid:<id>``.

Unless the query names item types itself, it is narrowed to the data types of
:data:`harvesters._arcgis_items.ITEM_TYPES`. A raw record is one ``results[]`` item, untouched;
its remote id is the item id.
"""

from __future__ import annotations

import re
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

PAGE_SIZE = 100  # the API's maximum ``num``
#: only the first 10 000 results of a query can be paged
MAX_PAGED = 10_000
SEARCH_PATH = "/sharing/rest/search"
SELF_PATH = "/sharing/rest/portals/self"
#: query terms that restrict a search to one organisation, user or group
RESTRICTIONS = ("orgid", "owner", "group")
#: our paging parameters; a source URL's own values for these are ignored
PAGING_KEYS = frozenset({"start", "num", "f", "sortfield", "sortorder"})
_RESTRICTED = re.compile(rf"(?<![\w.])(?:{'|'.join(RESTRICTIONS)}):\S", re.I)
_NAMES_TYPES = re.compile(r"(?<![\w.])type:", re.I)


# --------------------------------------------------------------------------------------------------
# Mapping
# --------------------------------------------------------------------------------------------------


def portal_home(url: Any) -> str | None:
    """The portal an item lives in, from the source URL: ``https://www.arcgis.com`` for any
    ArcGIS Online host (``<org>.maps.arcgis.com`` serves the same items), else the URL up to its
    ``/sharing`` or ``/home`` part (``https://gis.example.gov/portal``)."""
    raw = c.text(url)
    if raw is None:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = parts.netloc.lower()
    if host == "arcgis.com" or host.endswith(".arcgis.com"):
        return items.ONLINE_HOME
    path = re.split(r"/(?:sharing|home)(?:/|$)", parts.path, maxsplit=1)[0].rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{path}"


def item_page(url: Any, item_id: Any) -> str | None:
    """The item's page on its portal, ``{portal}/home/item.html?id={id}``."""
    return items.item_page(portal_home(url), item_id)


def distributions(url: Any, item_id: Any, item_type: Any, service: Any, name: Any) -> list[dict[str, Any]] | None:
    """The item's REST endpoint or file download on its portal (see ``item_distributions``)."""
    return items.item_distributions(portal_home(url), item_id, item_type, service, name)


MAPPING = c.MappingTable(
    platform="arcgis_online",
    content="one `sharing/rest/search` `results[]` item, untouched",
    rules=(
        *items.item_rules(""),
        c.rule("identifier", ("context.url", "id"), item_page, "the item page"),
        c.rule("landingPage", ("context.url", "id"), item_page, "the item page"),
        c.rule("distribution", ("context.url", "id", "type", "url", "name"), distributions),
    ),
    notes=(
        "The identifier is the item page, `https://www.arcgis.com/home/item.html?id=<id>` for ArcGIS "
        "Online: the identifier ArcGIS Hub's DCAT-US feed gives the same item, so one item read from "
        "an organisation's search and from its Hub feed is recognisably the same dataset.",
        *items.ITEM_NOTES,
        "Only the first 10 000 results of a search can be paged: a larger organisation fails its "
        "gather rather than being read in part.",
    ),
)


# --------------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------------


def _is_item(entry: Any) -> bool:
    """A portal item: a 32-hex ``id`` and string ``type`` and ``owner``."""
    return (
        isinstance(entry, dict)
        and items.is_item_id(entry.get("id"))
        and isinstance(entry.get("type"), str)
        and isinstance(entry.get("owner"), str)
    )


def _entries(document: Any) -> list[dict[str, Any]] | None:
    """The items of a search response (``nextStart`` and a ``results`` list of items), or of one
    item document (``sharing/rest/content/items/<id>``)."""
    if not isinstance(document, dict):
        return None
    results = document.get("results")
    if isinstance(results, list) and "nextStart" in document and "total" in document:
        return results if all(_is_item(r) for r in results) else None
    if _is_item(document) and "typeKeywords" in document:
        return [document]
    return None


def _arcgis_error(body: Any) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        return f"ArcGIS error {error.get('code', '?')}: {error.get('message', 'no message')}"
    return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@register
class ArcgisOnlineHarvester(Harvester):
    """ArcGIS Online organisations and ArcGIS Enterprise portals, through ``sharing/rest/search``."""

    platform: ClassVar[str] = "arcgis_online"
    title: ClassVar[str] = "ArcGIS Online / Enterprise portal search (sharing/rest/search; one record per data item)"
    mapping: ClassVar[c.MappingTable] = MAPPING

    def gather(self, source: SourceContext, http: HttpClient, stats: GatherStats) -> Iterator[RawRecord]:
        """Page through the organisation's data items, 100 a page, oldest first (``sortField=
        created``), following ``nextStart`` until it is -1.

        A failed page, an ArcGIS error body, a body without a ``results`` list, a repeated page or
        a ``nextStart`` that does not move forward, a listing that ends short of ``total``, a
        search larger than :data:`MAX_PAGED` and a query restricted to no organisation, owner or
        group raise :class:`GatherError`. Duplicate item ids are yielded once; results without an
        item id are skipped and noted in ``stats.errors``.
        """
        endpoint, params = self._query(source, http, stats)
        guard = PageGuard()
        start = 1
        while True:
            page = {**params, "start": start, "num": PAGE_SIZE}
            body, page_url = self._read(http, endpoint, page, stats, f"search page at start {start}")
            results = body.get("results")
            if not isinstance(results, list):
                raise GatherError("search page has no 'results' list; the search response changed shape", page_url)
            total = announced_total(body.get("total"))
            if total is not None:
                stats.total = total
                if total > MAX_PAGED:
                    raise GatherError(f"the search matches {total} items; only {MAX_PAGED} can be paged", page_url)
            if not results:
                guard.check_end(start - 1, total, page_url)
                break
            fetched_at = datetime.now(UTC)
            ids = [r.get("id") if isinstance(r, dict) and items.is_item_id(r.get("id")) else None for r in results]
            guard.check_page(ids, page_url)
            for ident, result in zip(ids, results, strict=True):
                if ident is None:
                    stats.errors.append(f"search result without an item id skipped ({page_url})")
                elif guard.first_time(ident):
                    yield RawRecord(ident, page_url, fetched_at, result)
            after = _int(body.get("nextStart"))
            if after is None:
                raise GatherError("search page has no integer 'nextStart'; the search response changed shape", page_url)
            if after == -1:
                guard.check_end(start - 1 + len(results), total, page_url)
                break
            if after <= start:
                raise GatherError(f"nextStart {after} does not move past start {start} (paging loop)", page_url)
            start = after
        stats.complete = True

    def _query(self, source: SourceContext, http: HttpClient, stats: GatherStats) -> tuple[str, dict[str, Any]]:
        """The search endpoint and the query parameters of ``source`` (see the module docstring)."""
        parts = urlsplit(source.url)
        given = {k: v for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in PAGING_KEYS}
        if parts.path.rstrip("/").endswith(SEARCH_PATH):
            endpoint = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
            query = given.pop("q", "").strip()
            if not _RESTRICTED.search(query):
                raise GatherError(
                    f"the search query {query!r} names no {', '.join(f'{r}:' for r in RESTRICTIONS)} restriction; "
                    "it would list every public item",
                    source.url,
                )
        else:
            root = re.split(r"/(?:sharing|home)(?:/|$)", parts.path, maxsplit=1)[0].rstrip("/")
            base = f"{parts.scheme}://{parts.netloc}{root}"
            endpoint = f"{base}{SEARCH_PATH}"
            body, url = self._read(http, f"{base}{SELF_PATH}", {"f": "json"}, stats, "the portal description")
            org = c.text(body.get("id"))
            if org is None:
                raise GatherError(
                    "the portal names no organisation id; give …/sharing/rest/search?q=orgid:<id> as the source",
                    url,
                )
            query = f"orgid:{org}"
            given.pop("q", None)
        if not _NAMES_TYPES.search(query):
            query = f"({query}) AND ({items.type_query()})"
        return endpoint, {**given, "q": query, "sortField": "created", "sortOrder": "asc", "f": "json"}

    @staticmethod
    def _read(
        http: HttpClient, url: str, params: dict[str, Any], stats: GatherStats, what: str
    ) -> tuple[dict[str, Any], str]:
        shown = f"{url}?{urlencode(params)}"
        try:
            body = http.get_json(url, params=params)
        except FetchError as exc:
            raise GatherError(f"{what} could not be read: {exc}", shown) from exc
        finally:
            stats.requests += 1
        problem = _arcgis_error(body)
        if problem is not None:
            raise GatherError(f"{what} answered {problem}", shown)
        if not isinstance(body, dict):
            raise GatherError(f"{what} is not a JSON object; the response changed shape", shown)
        stats.pages += 1
        return body, shown

    @staticmethod
    def map_record(raw: RawRecord, source: SourceContext) -> CatalogRecord:
        """Map one item through :data:`MAPPING` (pure)."""
        return c.map_with(MAPPING, raw, source)

    @staticmethod
    def recognizes(document: Any) -> bool:
        """A ``sharing/rest/search`` response (``total``, ``nextStart`` and ``results`` of items)
        or one item document."""
        return _entries(document) is not None

    @staticmethod
    def split_document(document: Any, source_url: str, fetched_at: datetime) -> Iterator[RawRecord]:
        """One raw record per distinct item id."""
        entries = _entries(document)
        if entries is None:
            raise ValueError("not an ArcGIS sharing/rest/search response or portal item")
        seen: set[str] = set()
        for entry in entries:
            ident = str(entry["id"])
            if ident not in seen:
                seen.add(ident)
                yield RawRecord(ident, source_url, fetched_at, entry)
