"""ArcGIS Server REST directories: folders → services → layers and tables, one record per layer.

Plain REST calls, nothing from the heavy ``arcgis`` package. Gather reads the ``/rest/services``
root (``{source.url}?f=json``: ``folders`` and ``services``), each folder's directory the same way,
each MapServer/FeatureServer's ``?f=json`` (its ``layers`` and ``tables``) and each layer's
``…/<n>?f=json`` (fields, description, ``editingInfo``). Directories are not paged, so instead of a
paging guard the walk is bounded: a maximum folder depth, a maximum number of services, and a
folder listed twice (a directory loop, as a misconfigured proxy serves) is read once.

A raw record's content is ``{"layer": <layer ?f=json, untouched>, "service": {...}, "folder": …}``:
``service`` holds the service's name and type and the descriptive keys of its ``?f=json``
(untouched values), ``folder`` the directory folder (absent at the root). Its remote id is the layer
URL's path, ``/arcgis/rest/services/CMPD/Officer_Traffic_Stop/MapServer/0``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

from catalog.record import CatalogRecord
from harvesters import convert as c
from harvesters.base import GatherError, GatherStats, Harvester, Probe, RawRecord, SourceContext, fingerprint
from harvesters.fanout import ordered_map
from harvesters.http import FetchError, HttpClient
from harvesters.registry import register

#: ArcGIS Server has one level of folders; anything deeper is a loop the visited set missed
MAX_DEPTH = 3
#: more map/feature services than this and the directory is not read whole (nothing withdrawn)
MAX_SERVICES = 2000
#: service types that hold layers and tables, in the order preferred when a service is both
DATA_SERVICE_TYPES = ("FeatureServer", "MapServer")
#: the keys of a service's ``?f=json`` kept as a layer's context
SERVICE_KEYS = ("serviceDescription", "description", "copyrightText", "documentInfo", "layers", "tables")
_LAYER_URL = re.compile(
    r"^(?P<root>.*/rest/services)/(?P<service>.+)/(?P<type>MapServer|FeatureServer)/(?P<layer>\d+)/?$", re.I
)
_GEOGRAPHIC_WKIDS = frozenset({4326, 4269, 4258, 4283})


# --------------------------------------------------------------------------------------------------
# ArcGIS-specific converters
# --------------------------------------------------------------------------------------------------

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def humanize(value: Any) -> str | None:
    """An ArcGIS name as words: ``CMPD_Officer_Traffic_Stop`` → ``CMPD Officer Traffic Stop``,
    ``CMPDOfficerInvolvedShootings`` → ``CMPD Officer Involved Shootings``, an SDE-qualified
    ``city.COLUMBIA.addresses`` → ``Addresses``; a name that already has spaces is kept."""
    raw = c.text(value)
    if raw is None:
        return None
    raw = raw.rsplit("/", 1)[-1]  # a service name carries its folder
    if " " in raw:
        return re.sub(r"\s+", " ", raw)
    if raw.count(".") >= 2:
        raw = raw.rsplit(".", 1)[-1]  # database.owner.table
    words = [_CAMEL.sub(" ", w) for w in re.split(r"[_\-]+", raw) if w]
    shown = re.sub(r"\s+", " ", " ".join(words)).strip()
    if not shown:
        return None
    return shown[0].upper() + shown[1:] if shown.islower() else shown


def _words(value: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", value.lower()))


def layer_title(layer_name: Any, service_name: Any) -> str | None:
    """The layer's name and its service's, humanised: one of them when it contains the other
    (``Officer_Traffic_Stop`` in service ``CMPD/Officer_Traffic_Stop`` → ``Officer Traffic Stop``),
    else ``<service> - <layer>`` (``Use of Force - Incidents``)."""
    layer, service = humanize(layer_name), humanize(service_name)
    if layer is None or service is None:
        return layer or service
    if _words(service) in _words(layer):
        return layer
    if _words(layer) in _words(service):
        return service
    return f"{service} - {layer}"


def _sole_layer(layers: Any, tables: Any) -> bool:
    """True when a service's ``layers`` and ``tables`` hold one dataset (group layers aside)."""
    if not isinstance(layers, list) or not isinstance(tables, list):
        return False
    return sum(1 for entry in [*layers, *tables] if isinstance(entry, dict) and not _is_group(entry)) == 1


def service_keywords(keywords: Any, layers: Any, tables: Any) -> list[str] | None:
    """The service's ``documentInfo.Keywords`` (a comma string), only when the service holds this
    one layer: a shared service's keywords describe all its layers, police and not alike."""
    return c.keywords(keywords) if _sole_layer(layers, tables) else None


def service_text(value: Any, layers: Any, tables: Any) -> str | None:
    """A service's description as plain text, only when the service holds this one layer."""
    return c.plain_text(value) if _sole_layer(layers, tables) else None


def folder_theme(folder: Any) -> list[str] | None:
    """The directory folder as the portal's category: ``PublicSafety`` → ``Public Safety``."""
    shown = humanize(folder)
    return [shown] if shown else None


def attribution(value: Any) -> str | None:
    """``copyrightText`` or an author as a publisher name: one line of at most 150 characters
    (longer text is a disclaimer, not a name)."""
    shown = c.plain_text(value)
    if shown is None or "\n" in shown or len(shown) > 150:
        return None
    return shown


#: Esri field types → Table Schema types (rendered into docs/mapping.md)
ESRI_FIELD_TYPES = {
    "esriFieldTypeOID": "integer",
    "esriFieldTypeSmallInteger": "integer",
    "esriFieldTypeInteger": "integer",
    "esriFieldTypeBigInteger": "integer",
    "esriFieldTypeSingle": "number",
    "esriFieldTypeDouble": "number",
    "esriFieldTypeString": "string",
    "esriFieldTypeDate": "datetime",
    "esriFieldTypeDateOnly": "date",
    "esriFieldTypeTimeOnly": "time",
    "esriFieldTypeTimestampOffset": "datetime",
    "esriFieldTypeGUID": "string",
    "esriFieldTypeGlobalID": "string",
    "esriFieldTypeXML": "string",
    "esriFieldTypeBlob": "binary",
    "esriFieldTypeRaster": "binary",
}


def esri_type(value: Any) -> str | None:
    """An Esri field type as a Table Schema type (``esriFieldTypeString`` → ``string``); an
    unknown one loses its ``esriFieldType`` prefix."""
    raw = c.text(value)
    if raw is None:
        return None
    return ESRI_FIELD_TYPES.get(raw) or raw.removeprefix("esriFieldType").lower() or None


def _field_description(value: Any) -> Any:
    # ArcGIS 10.9+ writes a field's description as JSON: {"value": "...", "fieldValueType": "..."}
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        return decoded.get("value") if isinstance(decoded, dict) else value
    return value


def esri_columns(fields: Any) -> list[dict[str, Any]] | None:
    """Columns from ``fields`` (alias as the name, ``name`` as the field name, the Esri type as a
    Table Schema type, a description where given); the geometry field is the layer's shape, not a
    column, and is left out."""
    if not isinstance(fields, list):
        return None
    out = []
    for field in fields:
        if not isinstance(field, dict) or field.get("type") == "esriFieldTypeGeometry":
            continue
        entry = c.column(
            field.get("alias"),
            field.get("name"),
            esri_type(field.get("type")),
            _field_description(field.get("description")),
        )
        if entry is not None:
            out.append(entry)
    return out or None


def layer_url(source_url: Any, base_url: Any, remote_id: Any) -> str | None:
    """The layer's REST URL: the remote id (a URL path) on the host of the document read (the
    layer's ``?f=json``), else on the source's host."""
    path = c.text(remote_id)
    if path is None or not path.startswith("/"):
        return None
    read = urlsplit(c.text(source_url) or "")
    base = f"{read.scheme}://{read.netloc}" if read.scheme in ("http", "https") and read.netloc else c.text(base_url)
    return c.http_url(base.rstrip("/") + path) if base else None


def rest_distribution(source_url: Any, base_url: Any, remote_id: Any) -> list[dict[str, Any]] | None:
    """One distribution: the layer's Esri REST endpoint as an ``accessURL`` (``application/json``,
    format ``Esri REST``). Its ``query`` returns at most ``maxRecordCount`` rows, so no download
    link is made up from it."""
    url = layer_url(source_url, base_url, remote_id)
    if url is None:
        return None
    return c.unique_distributions(
        [
            c.distribution(
                access_url=url, kind="application/json", format_name="Esri REST", title="ArcGIS GeoServices REST API"
            )
        ]
    )


def geographic_extent(extent: Any) -> str | None:
    """``extent`` as a ``west,south,east,north`` bounding box, only when it is in geographic
    coordinates (WGS 84 / NAD 83); a projected extent (state plane feet) is no place to show."""
    if not isinstance(extent, dict):
        return None
    ref = extent.get("spatialReference")
    wkids = {ref.get("wkid"), ref.get("latestWkid")} if isinstance(ref, dict) else set()
    if not wkids & _GEOGRAPHIC_WKIDS:
        return None
    raw = [extent.get(k) for k in ("xmin", "ymin", "xmax", "ymax")]
    box = [float(v) for v in raw if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)]
    if len(box) != 4:
        return None
    west, south, east, north = box
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        return None
    return ",".join(f"{v:.4f}" for v in box)


_LAYER_URL_SOURCES = ("context.source_url", "context.base_url", "context.remote_id")

MAPPING = c.MappingTable(
    platform="arcgis_server",
    content='`{"layer": <layer ?f=json>, "service": {"name", "type", "url", serviceDescription, description, '
    'copyrightText, documentInfo, layers, tables}, "folder": <folder>, "query": <returnCountOnly answer>}`; '
    "a recorded layer document alone is `layer` (with `service` read from its URL when known). `query` is "
    "added by `enrich` for kept layers.",
    rules=(
        c.rule("title", ("layer.name", "service.name"), layer_title),
        c.rule("description", "layer.description", c.plain_text),
        c.rule("description", ("service.serviceDescription", "service.layers", "service.tables"), service_text),
        c.rule("description", ("service.description", "service.layers", "service.tables"), service_text),
        c.rule("keyword", ("service.documentInfo.Keywords", "service.layers", "service.tables"), service_keywords),
        c.rule("theme", "folder", folder_theme, "the directory folder"),
        c.rule("modified", "layer.editingInfo.dataLastEditDate", c.iso_datetime, "epoch ms (ArcGIS 10.9+)"),
        c.rule("modified", "layer.editingInfo.lastEditDate", c.iso_datetime, "epoch ms"),
        c.rule("publisher.name", "layer.copyrightText", attribution),
        c.rule("publisher.name", "service.copyrightText", attribution),
        c.rule("publisher.name", "service.documentInfo.Author", attribution),
        c.rule("identifier", _LAYER_URL_SOURCES, layer_url, "the layer URL"),
        c.rule("identifier", "context.remote_id", c.text),
        c.rule("spatial", "layer.extent", geographic_extent),
        c.rule("landingPage", _LAYER_URL_SOURCES, layer_url, "the layer URL"),
        c.rule("distribution", _LAYER_URL_SOURCES, rest_distribution),
        c.rule("pdi.columns", "layer.fields", esri_columns),
        c.rule("pdi.record_count", "query.count", c.count, "from `enrich`"),
        c.rule("pdi.freshness.last_data_update", "layer.editingInfo.dataLastEditDate", c.parse_datetime),
        c.rule("pdi.freshness.last_data_update", "layer.editingInfo.lastEditDate", c.parse_datetime),
        c.rule("pdi.freshness.last_metadata_update", "layer.editingInfo.schemaLastEditDate", c.parse_datetime),
    ),
    notes=(
        "A service's keywords and description describe all of its layers, so they fill a layer's only "
        "when the service holds that one layer (a shared `OpenData_PublicSafety` map service's keywords "
        "would make its every layer look like police data).",
        "A service published as both FeatureServer and MapServer is read once, as the FeatureServer "
        "(its layers carry `editingInfo`); group layers are containers, not datasets, and are skipped.",
        "ArcGIS declares no update frequency, licence or contact for a layer: those stay empty, and "
        "freshness is judged on `lastEditDate` alone (MapServer layers often have none).",
        "Column types are Table Schema types: "
        + ", ".join(f"`{k.removeprefix('esriFieldType')}` → `{v}`" for k, v in ESRI_FIELD_TYPES.items())
        + ".",
        "A recorded layer document whose URL is unknown gets `<name>/<id>` as its remote id.",
    ),
)


# --------------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------------


def _is_layer(document: Any) -> bool:
    """A layer's or table's ``?f=json``: an integer ``id``, a ``name``, a layer ``type`` and a
    ``fields`` key (a list, or null for group and raster layers)."""
    if not isinstance(document, dict) or "fields" not in document:
        return False
    ident, kind = document.get("id"), document.get("type")
    return (
        isinstance(ident, int)
        and not isinstance(ident, bool)
        and isinstance(document.get("name"), str)
        and isinstance(kind, str)
        and (kind.endswith("Layer") or kind == "Table")
        and (document["fields"] is None or isinstance(document["fields"], list))
    )


def _is_group(layer: dict[str, Any]) -> bool:
    sub = layer.get("subLayerIds") or layer.get("subLayers")
    return layer.get("type") == "Group Layer" or (isinstance(sub, list) and bool(sub))


def _service_context(name: str, kind: str, url: str, document: dict[str, Any] | None = None) -> dict[str, Any]:
    context: dict[str, Any] = {"name": name, "type": kind, "url": url}
    for key in SERVICE_KEYS:
        if document is not None and key in document:
            context[key] = document[key]
    return context


def _layer_record(
    layer: dict[str, Any], url: str | None, fetched_at: datetime, service: dict[str, Any] | None = None
) -> RawRecord:
    """The raw record of one layer document; ``url`` is the layer's (without ``?f=json``)."""
    content: dict[str, Any] = {"layer": layer}
    match = _LAYER_URL.match(urlsplit(url).path) if url and url.startswith(("http://", "https://")) else None
    if match is not None and url is not None:
        remote_id = match.group(0).rstrip("/")
        if service is None:
            root = url.split(match["root"], 1)[0] + match["root"]
            service = _service_context(match["service"], match["type"], f"{root}/{match['service']}/{match['type']}")
    else:
        remote_id = f"{layer.get('name')}/{layer.get('id')}"
    if service is not None:
        content["service"] = service
        folder = str(service["name"]).rpartition("/")[0]
        if folder:
            content["folder"] = folder
    source_url = f"{url.rstrip('/')}?f=json" if match is not None and url else (url or "")
    return RawRecord(remote_id, source_url, fetched_at, content)


def _arcgis_error(body: Any) -> str | None:
    """The message of an ArcGIS error body (served with HTTP 200), or None."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        return f"ArcGIS error {error.get('code', '?')}: {error.get('message', 'no message')}"
    return None


@register
class ArcgisServerHarvester(Harvester):
    """ArcGIS Server REST services directories, walked with plain REST calls."""

    platform: ClassVar[str] = "arcgis_server"
    title: ClassVar[str] = "ArcGIS Server REST directories (folders → services → layers and tables)"
    mapping: ClassVar[c.MappingTable] = MAPPING

    def gather(self, source: SourceContext, http: HttpClient, stats: GatherStats) -> Iterator[RawRecord]:
        """Walk ``source.url`` (a ``/rest/services`` root) and yield one record per layer and table.

        Folders are read breadth first in listing order; in each directory, MapServer and
        FeatureServer services are read (a service listed as both, once, as the FeatureServer),
        then each of their layers and tables that is not a group layer. A folder listed again is
        read once and noted in ``stats.errors``. A failed read, an ArcGIS error body, a document
        that is not the expected shape, a folder deeper than :data:`MAX_DEPTH` and more than
        :data:`MAX_SERVICES` services raise :class:`GatherError`: the directory was not read whole.

        The three kinds of document are read as a pipeline: folder listings, service documents
        and layer documents each as many at a time as the host allows (:func:`ordered_map`), so a
        directory of one-layer services or one big service keeps every per-host slot busy; the
        records still come in the order above, and memory stays bounded.
        """
        root = source.url.rstrip("/")
        # twice the host's slots per stage: while one thread parses what it got, another already
        # waits at the host's gate with the next request, so the slots never stand idle (the gate,
        # not the thread count, keeps the per-host limit)
        width = 2 * http.settings.per_host_concurrency
        services = self._services(self._walk(http, root, stats, width))
        documents = ordered_map(partial(self._service_layers, http, stats, root), services, width, ahead=16)
        layers = (entry for listed in documents for entry in self._layer_entries(stats, *listed))
        for record in ordered_map(partial(self._layer_record, http, stats), layers, width, ahead=16):
            if record is not None:
                yield record
        stats.complete = True

    def probe(self, source: SourceContext, http: HttpClient) -> Probe | None:
        """The directory's structure: every folder listing's map and feature services (one request
        per folder, no service or layer documents). It moves when a service comes or goes, not
        when a layer's fields change inside one, so it does not track changes."""
        width = http.settings.per_host_concurrency
        listings = [(url, listed) for url, listed in self._walk(http, source.url.rstrip("/"), GatherStats(), width)]
        return Probe(fingerprint(listings), tracks_changes=False)

    def _walk(
        self, http: HttpClient, root: str, stats: GatherStats, width: int = 1
    ) -> Iterator[tuple[str, list[tuple[str, str]]]]:
        """Each directory (the root, then folders breadth first in listing order) as its URL and
        its (name, type) map and feature services. The folders of one level are read ``width`` at
        a time. A folder listed again is read once and noted in ``stats.errors``; a read that
        fails or changed shape, and a folder nested deeper than :data:`MAX_DEPTH`, raise
        :class:`GatherError`."""
        level: list[str] = [""]
        visited = {""}
        depth = 0
        while level:
            following: list[str] = []
            for folder, url, listing in ordered_map(partial(self._listing, http, stats, root), level, width):
                folders, services = listing.get("folders", []), listing.get("services")
                if not isinstance(folders, list) or not isinstance(services, list):
                    raise GatherError("directory has no 'folders'/'services' lists; the response changed shape", url)
                for name in folders:
                    path = str(name).strip("/")
                    if not path:
                        continue
                    if path in visited:
                        stats.errors.append(
                            f"folder {path!r} listed again in {folder or 'the root'}; read once ({url})"
                        )
                        continue
                    if depth + 1 > MAX_DEPTH:
                        raise GatherError(
                            f"folder {path!r} is nested deeper than {MAX_DEPTH} levels (a directory loop?)", url
                        )
                    visited.add(path)
                    following.append(path)
                yield url, self._data_services(services)
            level, depth = following, depth + 1

    def _listing(self, http: HttpClient, stats: GatherStats, root: str, folder: str) -> tuple[str, str, dict[str, Any]]:
        url = f"{root}/{quote(folder)}" if folder else root
        return folder, url, self._read(http, url, stats, f"folder {folder!r}" if folder else "the services directory")

    @staticmethod
    def _services(listings: Iterator[tuple[str, list[tuple[str, str]]]]) -> Iterator[tuple[str, str]]:
        """The (name, type) services of every listing, in order; more than :data:`MAX_SERVICES`
        raise :class:`GatherError`."""
        count = 0
        for url, listed in listings:
            count += len(listed)
            if count > MAX_SERVICES:
                raise GatherError(f"more than {MAX_SERVICES} map/feature services; not read whole", url)
            yield from listed

    @staticmethod
    def _data_services(services: list[Any]) -> list[tuple[str, str]]:
        """(name, type) of the MapServer/FeatureServer services of one listing, each name once."""
        kinds: dict[str, list[str]] = {}
        for entry in services:
            if not isinstance(entry, dict):
                continue
            name, kind = c.text(entry.get("name")), c.text(entry.get("type"))
            if name is not None and kind in DATA_SERVICE_TYPES:
                kinds.setdefault(name, []).append(kind)
        return [(name, next(k for k in DATA_SERVICE_TYPES if k in found)) for name, found in kinds.items()]

    def _service_layers(
        self, http: HttpClient, stats: GatherStats, root: str, service: tuple[str, str]
    ) -> tuple[str, dict[str, Any], list[Any]]:
        """One (name, type) service's URL, its context for its layers' records, and its layer and
        table entries (read in a fan-out thread)."""
        name, kind = service
        service_url = f"{root}/{quote(name)}/{kind}"
        document = self._read(http, service_url, stats, f"service {name}/{kind}")
        layers, tables = document.get("layers", []), document.get("tables", [])
        if (
            not isinstance(layers, list)
            or not isinstance(tables, list)
            or ("layers" not in document and "tables" not in document)
        ):
            raise GatherError(
                f"service {name}/{kind} lists no 'layers'/'tables'; the response changed shape", service_url
            )
        return service_url, _service_context(name, kind, service_url, document), [*layers, *tables]

    @staticmethod
    def _layer_entries(
        stats: GatherStats, service_url: str, context: dict[str, Any], entries: list[Any]
    ) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(layer URL, what it is, service context) of each layer and table of a service that is
        not a group layer; an entry without an integer id is noted in ``stats.errors``."""
        what = f"{context['name']}/{context['type']}"
        for entry in entries:
            if not isinstance(entry, dict) or _is_group(entry):
                continue
            ident = entry.get("id")
            if not isinstance(ident, int) or isinstance(ident, bool):
                stats.errors.append(f"layer without an integer id skipped ({service_url})")
                continue
            yield f"{service_url}/{ident}", f"layer {what}/{ident}", context

    def _layer_record(
        self, http: HttpClient, stats: GatherStats, layer: tuple[str, str, dict[str, Any]]
    ) -> RawRecord | None:
        """The record of one layer or table (read in a fan-out thread); None for a group layer."""
        url, what, context = layer
        document = self._read(http, url, stats, what)
        if not _is_layer(document):
            raise GatherError(f"{what} is not a layer document; the response changed shape", url)
        if _is_group(document):
            return None
        return _layer_record(document, url, datetime.now(UTC), context)

    @staticmethod
    def _read(http: HttpClient, url: str, stats: GatherStats, what: str) -> dict[str, Any]:
        shown = f"{url}?f=json"
        try:
            body = http.get_json(url, params={"f": "json"})
        except FetchError as exc:
            raise GatherError(f"{what} could not be read: {exc}", shown) from exc
        finally:
            stats.count(requests=1)
        problem = _arcgis_error(body)
        if problem is not None:
            raise GatherError(f"{what} answered {problem}", shown)
        if not isinstance(body, dict):
            raise GatherError(f"{what} is not a JSON object; the response changed shape", shown)
        stats.count(pages=1)
        return body

    def enrich(self, raw: RawRecord, source: SourceContext, http: HttpClient) -> RawRecord:
        """Add the layer's row count (``…/<n>/query?where=1=1&returnCountOnly=true&f=json``) under
        ``query``, for layers whose ``capabilities`` include ``Query``.

        Raises :class:`FetchError` when the count cannot be read or is an ArcGIS error.
        """
        layer = raw.content.get("layer")
        capabilities = layer.get("capabilities") if isinstance(layer, dict) else None
        parts = urlsplit(source.url)
        url = layer_url(raw.source_url, f"{parts.scheme}://{parts.netloc}", raw.remote_id)
        if url is None or not isinstance(capabilities, str) or "query" not in capabilities.lower():
            return raw
        params = {"where": "1=1", "returnCountOnly": "true", "f": "json"}
        body = http.get_json(f"{url}/query", params=params)
        problem = _arcgis_error(body)
        if problem is not None or not isinstance(body, dict) or c.count(body.get("count")) is None:
            raise FetchError(problem or "query answered no count", f"{url}/query")
        return RawRecord(raw.remote_id, raw.source_url, raw.fetched_at, {**raw.content, "query": body})

    def reuse(self, raw: RawRecord, stored: dict[str, Any], stored_url: str) -> RawRecord | None:
        """Reuse the stored row count while the layer's edit date is the one it was counted at.
        Layers without an edit date (most MapServer layers) are counted again: nothing proves
        their rows did not change."""
        new_layer, old_layer = raw.content.get("layer"), stored.get("layer")
        if "query" not in stored or not isinstance(new_layer, dict) or not isinstance(old_layer, dict):
            return None
        edited = _edit_date(new_layer)
        if edited is None or edited != _edit_date(old_layer):
            return None
        return RawRecord(raw.remote_id, raw.source_url, raw.fetched_at, {**raw.content, "query": stored["query"]})

    @staticmethod
    def map_record(raw: RawRecord, source: SourceContext) -> CatalogRecord:
        """Map one layer (with its service context) through :data:`MAPPING` (pure)."""
        return c.map_with(MAPPING, raw, source)

    @staticmethod
    def recognizes(document: Any) -> bool:
        """A layer's or table's ``?f=json`` document."""
        return _is_layer(document)

    @staticmethod
    def split_document(document: Any, source_url: str, fetched_at: datetime) -> Iterator[RawRecord]:
        """The one layer of a layer document (none for a group layer). When ``source_url`` is the
        layer's REST URL, its path is the remote id and the service and folder come from it."""
        if not _is_layer(document):
            raise ValueError("not an ArcGIS REST layer or table document")
        if _is_group(document):
            return
        url = source_url.split("?", 1)[0]
        yield _layer_record(document, url, fetched_at)


def _edit_date(layer: dict[str, Any]) -> Any:
    info = layer.get("editingInfo")
    if not isinstance(info, dict):
        return None
    return info.get("dataLastEditDate") or info.get("lastEditDate")
