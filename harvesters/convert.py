"""Mapping tables and the small named converters they use.

A platform's mapping is a :class:`MappingTable`: rows of (target field, source path(s), converter).
Each platform's ``map_record`` is :func:`map_with` its table: the table is applied to one raw record
and :func:`build_record` fills the fields DCAT-US requires with honest defaults where the portal
gave nothing usable.
``scripts/mapping_docs.py`` renders the same table objects into ``docs/mapping.md``, so the docs
cannot drift from the code.

Source paths, resolved against the raw record's ``content``:

* ``a.b.c`` — nested keys;
* ``a[].b`` — ``b`` of every item of the list ``a`` (a list comes back);
* ``a[key=frequency].value`` — ``value`` of the first item of ``a`` whose ``key`` is ``frequency``
  (CKAN ``extras``, Socrata ``domain_metadata``);
* ``context.<name>`` — not from the portal's JSON but from the harvest: ``remote_id``,
  ``source_url`` (the document read), ``url`` (the source's URL), ``base_url`` (its scheme and
  host), ``portal_url`` (the portal's root, else ``base_url``).

Several rows may name one target: they are tried in order and the first that gives a value wins.
Converters take the resolved value(s) and return the target value, or ``None`` when the input is
missing or unusable; they never raise on malformed input, because one portal's oddity must not cost
the record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cache, lru_cache
from html.parser import HTMLParser
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft4Validator
from requests.utils import requote_uri

from catalog import freshness
from catalog.dcat import SCHEMA_DIR
from catalog.ids import record_id
from catalog.record import CatalogRecord
from harvesters.base import MappingError, RawRecord, SourceContext

# --------------------------------------------------------------------------------------------------
# Mapping tables
# --------------------------------------------------------------------------------------------------

Converter = Callable[..., Any]

#: every target a mapping row may fill (dotted paths into CatalogRecord)
TARGETS: tuple[str, ...] = (
    "title",
    "description",
    "keyword",
    "theme",
    "modified",
    "issued",
    "publisher.name",
    "contactPoint.fn",
    "contactPoint.hasEmail",
    "identifier",
    "accessLevel",
    "license",
    "rights",
    "spatial",
    "temporal",
    "accrualPeriodicity",
    "landingPage",
    "describedBy",
    "language",
    "distribution",
    "pdi.columns",
    "pdi.record_count",
    "pdi.freshness.accrual_periodicity",
    "pdi.freshness.declared_frequency",
    "pdi.freshness.last_data_update",
    "pdi.freshness.last_metadata_update",
)

NO_DESCRIPTION = "No description provided by the portal."


@dataclass(frozen=True)
class Rule:
    """One row of a mapping table: fill ``target`` from ``sources`` through ``convert``."""

    target: str
    sources: tuple[str, ...]
    convert: Converter
    note: str = ""

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise ValueError(f"mapping rule names unknown target '{self.target}'")
        if not self.sources:
            raise ValueError(f"mapping rule for '{self.target}' has no source")


def rule(target: str, source: str | Sequence[str], convert: Converter, note: str = "") -> Rule:
    sources = (source,) if isinstance(source, str) else tuple(source)
    return Rule(target, sources, convert, note)


@dataclass(frozen=True)
class MappingTable:
    """A platform's whole mapping; ``content`` describes the raw record it reads."""

    platform: str
    content: str
    rules: tuple[Rule, ...]
    notes: tuple[str, ...] = field(default=())

    def apply(self, content: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
        """Target → value for every target some row could fill (first row with a value wins)."""
        values: dict[str, Any] = {}
        for row in self.rules:
            if row.target in values:
                continue
            args = [resolve(path, content, context) for path in row.sources]
            value = row.convert(*args)
            if not _is_empty(value):
                values[row.target] = value
        return values


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


_SEGMENT = re.compile(r"^(?P<key>[^\[\]]+)(?:\[(?P<sel>[^\]]*)\])?$")


def resolve(path: str, content: Any, context: Mapping[str, Any]) -> Any:
    """The value at ``path`` (see the module docstring for the syntax), or ``None``."""
    if path.startswith("context."):
        return context.get(path.removeprefix("context."))
    current: Any = content
    for segment in path.split("."):
        match = _SEGMENT.match(segment)
        if match is None:
            raise ValueError(f"bad source path segment '{segment}' in '{path}'")
        current = _step(current, match.group("key"), match.group("sel"))
        if current is None:
            return None
    return current


def _step(current: Any, key: str, selector: str | None) -> Any:
    if isinstance(current, list):
        # a path that went through ``[]`` continues on each item, flattening one level
        out: list[Any] = []
        for item in current:
            value = _step(item, key, selector)
            if isinstance(value, list):
                out.extend(value)
            elif value is not None:
                out.append(value)
        return out
    if not isinstance(current, Mapping):
        return None
    value = current.get(key)
    if selector is None:
        return value
    if not isinstance(value, list):
        return None
    if selector == "":
        return value
    field_name, _, wanted = selector.partition("=")
    for item in value:
        if isinstance(item, Mapping) and str(item.get(field_name)) == wanted:
            return item
    return None


# --------------------------------------------------------------------------------------------------
# Building the record
# --------------------------------------------------------------------------------------------------

#: what build_record does when no row gave a required field a value (rendered into the docs)
REQUIRED_DEFAULTS: tuple[tuple[str, str], ...] = (
    ("title", "the portal's remote id of the dataset"),
    ("description", f'"{NO_DESCRIPTION}"'),
    ("publisher.name", "the portal's host name (from the source's portal URL, else its URL)"),
    ("contactPoint.fn", "the publisher name"),
    ("identifier", "the portal's remote id of the dataset"),
    ("accessLevel", '"public" (every harvested catalog lists public datasets)'),
)


def mapping_context(raw: RawRecord, source: SourceContext) -> dict[str, Any]:
    """The ``context.*`` values a table may read, from the harvest rather than the portal's JSON."""
    parts = urlsplit(source.url)
    base_url = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else source.url
    return {
        "remote_id": raw.remote_id,
        "source_url": raw.source_url,
        "url": source.url.rstrip("/"),
        "base_url": base_url,
        "portal_url": source.portal_url or base_url,
    }


def map_with(table: MappingTable, raw: RawRecord, source: SourceContext) -> CatalogRecord:
    """Apply ``table`` to ``raw`` and build the record: what every platform's ``map_record`` does.

    Raises :class:`MappingError` when the raw record has no remote id, the one thing no default
    can stand in for.
    """
    if not raw.remote_id:
        raise MappingError(f"{table.platform} record has no remote id")
    content = raw.content if isinstance(raw.content, Mapping) else {}
    values = table.apply(content, mapping_context(raw, source))
    return build_record(values, platform=table.platform, raw=raw, source=source)


def build_record(values: Mapping[str, Any], *, platform: str, raw: RawRecord, source: SourceContext) -> CatalogRecord:
    """The catalog record from a table's ``values``, with defaults for missing required fields."""
    remote_id = raw.remote_id
    portal = source.portal_url or source.url
    publisher = values.get("publisher.name") or (urlsplit(portal).netloc or portal or source.source_id)
    contact: dict[str, Any] = {"fn": values.get("contactPoint.fn") or publisher}
    if values.get("contactPoint.hasEmail"):
        contact["hasEmail"] = values["contactPoint.hasEmail"]
    freshness = {
        "accrual_periodicity": values.get("pdi.freshness.accrual_periodicity"),
        "declared_frequency": values.get("pdi.freshness.declared_frequency"),
        "last_data_update": values.get("pdi.freshness.last_data_update"),
        "last_metadata_update": values.get("pdi.freshness.last_metadata_update"),
    }
    jurisdictions = list(source.jurisdictions)
    data: dict[str, Any] = {
        "title": values.get("title") or remote_id,
        "description": values.get("description") or NO_DESCRIPTION,
        "publisher": {"name": publisher},
        "contactPoint": contact,
        "identifier": values.get("identifier") or remote_id,
        "accessLevel": values.get("accessLevel") or "public",
        "pdi": {
            "id": record_id(source.source_id, remote_id),
            "jurisdiction": jurisdictions[0] if jurisdictions else None,
            "jurisdictions": jurisdictions,
            "source": {
                "platform": platform,
                "portal_platform": source.portal_platform,
                "portal_url": source.portal_url,
                "source_id": source.source_id,
                "source_url": raw.source_url,
                "remote_id": remote_id,
                "scope": source.scope,
            },
            "freshness": freshness,
            "columns": values.get("pdi.columns") or [],
            "record_count": values.get("pdi.record_count"),
        },
    }
    for key in (
        "keyword",
        "theme",
        "modified",
        "issued",
        "license",
        "rights",
        "spatial",
        "temporal",
        "accrualPeriodicity",
        "landingPage",
        "describedBy",
        "language",
        "distribution",
    ):
        if key in values:
            data[key] = values[key]
    return CatalogRecord.model_validate(data)


# --------------------------------------------------------------------------------------------------
# What the schema accepts (read from the non-federal schema itself, so the two cannot disagree)
# --------------------------------------------------------------------------------------------------


@cache
def _dataset_schema() -> dict[str, Any]:
    text = resources.files("catalog").joinpath(f"{SCHEMA_DIR}/dataset-non-federal.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _subschema_validator(pointer: str) -> Draft4Validator:
    node: Any = _dataset_schema()
    for part in pointer.split("/"):
        node = node[part]
    return Draft4Validator(node, format_checker=Draft4Validator.FORMAT_CHECKER)


def schema_accepts(pointer: str, value: Any) -> bool:
    """True when ``value`` is valid for the dataset schema's node at ``pointer``.

    ``pointer`` is a slash path inside the schema, e.g. ``properties/modified`` or
    ``definitions/vcard-non-federal/properties/hasEmail``.
    """
    if isinstance(value, str):
        return _schema_accepts_text(pointer, value)
    return bool(_subschema_validator(pointer).is_valid(value))


@lru_cache(maxsize=16384)
def _schema_accepts_text(pointer: str, value: str) -> bool:
    """:func:`schema_accepts` of a string, remembered: most values recur across a catalog (a
    frequency, a licence, a date), and the schema's date patterns are long alternations."""
    return bool(_subschema_validator(pointer).is_valid(value))


# --------------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------------


def text(value: Any) -> str | None:
    """A string (or number) stripped of surrounding space; anything else is dropped."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    return None


_HTML_HINT = re.compile(r"<[a-zA-Z/!][^>]*>|&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);")
_BLOCK_TAGS = frozenset(
    "address article blockquote br dd div dl dt figcaption footer h1 h2 h3 h4 h5 h6 header hr li "
    "main nav ol p pre section table td th tr ul".split()
)
_SKIP_TAGS = frozenset({"script", "style", "head", "title"})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def plain_text(value: Any) -> str | None:
    """HTML (Hub and Socrata descriptions) as plain text; text without markup is kept as it is.

    Block elements become line breaks, entities are decoded, runs of spaces collapse and at most
    one blank line separates paragraphs. Markdown (CKAN ``notes``) has no tags and passes through.
    """
    raw = text(value)
    if raw is None:
        return None
    if not _HTML_HINT.search(raw):
        return raw
    parser = _TextExtractor()
    parser.feed(raw)
    parser.close()
    joined = "".join(parser.parts).replace("\u00a0", " ")
    lines = [re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in joined.split("\n")]
    result = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return result or None


def rights_text(value: Any) -> str | None:
    """Rights statement as plain text, dropped when the schema's 255-character limit is exceeded."""
    result = plain_text(value)
    return result if result is not None and schema_accepts("properties/rights", result) else None


def spatial(value: Any) -> str | None:
    """A place name, bounding box or GeoJSON (objects are written as compact JSON); ``""`` dropped."""
    if isinstance(value, Mapping):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return text(value)


# --------------------------------------------------------------------------------------------------
# Lists
# --------------------------------------------------------------------------------------------------


def keywords(value: Any) -> list[str] | None:
    """Tags from a list, a comma-separated string or a JSON-encoded list; duplicates dropped.

    Duplicates are compared case-insensitively and the first spelling is kept.
    """
    items: list[Any]
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                decoded = json.loads(stripped)
            except ValueError:
                decoded = None
            if isinstance(decoded, list):
                return keywords(decoded)
        items = stripped.split(",")
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        return None
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        word = text(item)
        if word is None or word.casefold() in seen:
            continue
        seen.add(word.casefold())
        out.append(word)
    return out or None


def languages(value: Any) -> list[str] | None:
    """Language tags that match the schema's BCP 47 pattern; a single string is one tag."""
    items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    out = [t for t in (text(v) for v in items) if t and schema_accepts("properties/language", [t])]
    return out or None


# --------------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------------

# Past this an epoch number is in milliseconds (ArcGIS), not seconds (Socrata): 10^11 s is year 5138.
_EPOCH_MS_THRESHOLD = 100_000_000_000
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def parse_datetime(value: Any) -> datetime | None:
    """A timezone-aware UTC datetime from epoch seconds/milliseconds or a date/time string.

    Accepts ISO 8601 in its common forms (``2013-08-28``, ``2025-06-16T13:30:03.000Z``, Socrata's
    ``2016-01-28T00:57:00.157000``), RFC 2822 dates and US ``MM/DD/YYYY``. A time without an
    offset is taken as UTC, which is what Socrata and CKAN write.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) >= _EPOCH_MS_THRESHOLD else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    raw = text(value)
    if raw is None:
        return None
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        us = _US_DATE.match(raw)
        try:
            if us:
                parsed = datetime(int(us.group(3)), int(us.group(1)), int(us.group(2)))
            else:
                parsed = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def iso_datetime(value: Any) -> str | None:
    """A date/time (any form ``parse_datetime`` reads) written as ``YYYY-MM-DDTHH:MM:SSZ``."""
    parsed = parse_datetime(value)
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ") if parsed is not None else None


def dcat_modified(value: Any) -> str | None:
    """``modified`` as the portal wrote it when the schema accepts it (a date or a repeating
    duration such as ``R/P1W``), else normalised from another date form, else dropped."""
    if isinstance(value, str) and schema_accepts("properties/modified", value.strip()):
        return value.strip()
    return iso_datetime(value)


def dcat_issued(value: Any) -> str | None:
    """``issued`` as written when the schema accepts it, else normalised, else dropped."""
    if isinstance(value, str) and schema_accepts("properties/issued", value.strip()):
        return value.strip()
    return iso_datetime(value)


def dcat_temporal(value: Any) -> str | None:
    """``temporal`` (an ISO 8601 interval) when the schema accepts it, else dropped."""
    raw = text(value)
    return raw if raw is not None and schema_accepts("properties/temporal", raw) else None


def date_only_datetime(value: Any) -> datetime | None:
    """A datetime only when ``value`` is a date or time, not a duration (``R/P1W`` gives None)."""
    if isinstance(value, str) and value.strip().upper().startswith(("R/", "P")):
        return None
    return parse_datetime(value)


def latest_datetime(values: Any) -> datetime | None:
    """The latest of several dates (e.g. every resource's ``last_modified``)."""
    items = values if isinstance(values, list) else [values]
    parsed = [d for d in (parse_datetime(v) for v in items) if d is not None]
    return max(parsed) if parsed else None


# --------------------------------------------------------------------------------------------------
# Periodicity
# --------------------------------------------------------------------------------------------------

# The frequency words live with the freshness rules that read them (catalog/freshness.py); this is
# the table docs/mapping.md renders.
PERIOD_WORDS = freshness.PERIOD_WORDS


def periodicity(value: Any) -> str | None:
    """An ISO 8601 repeating duration (``R/P1D`` …) or ``irregular`` from a frequency.

    Takes ISO values as they are (``R/P1W``; ``P1D`` gains its ``R/``), vocabulary URIs by their
    last segment (``…/freq/daily``) and free text: ``Daily``, ``Weekly``, ``Monthly``,
    ``Quarterly``, ``Annually``, ``hourly``, ``every 4 hours``, ``10 minutes``, ``As needed`` →
    ``irregular``. Text saying the data is not updated (``Never``, ``Historical``) and text it
    cannot read give ``None``: there is no period, and the portal's own words are kept separately.
    """
    raw = text(value)
    if raw is None:
        return None
    if schema_accepts("properties/accrualPeriodicity", raw):
        return raw
    if re.fullmatch(r"P[0-9.YMWDTHS]+", raw.upper()) and schema_accepts(
        "properties/accrualPeriodicity", f"R/{raw.upper()}"
    ):
        return f"R/{raw.upper()}"
    return freshness.periodicity_from_words(raw)


def repeating_duration(value: Any) -> str | None:
    """Only a value that already is a repeating duration (a data.json ``modified: R/P1W`` says how
    often the dataset changes); dates and free text give ``None``."""
    raw = text(value)
    if raw is None or not raw.upper().startswith("R/"):
        return None
    return raw if schema_accepts("properties/accrualPeriodicity", raw) else None


# --------------------------------------------------------------------------------------------------
# Contacts, access, URLs and media types
# --------------------------------------------------------------------------------------------------


def email(value: Any) -> str | None:
    """``mailto:`` address matching the schema's ``hasEmail`` pattern (a bare address gains the
    prefix); anything else, like Hub's ``mailto:managed services gis esri support``, is dropped."""
    raw = text(value)
    if raw is None:
        return None
    address = raw if raw.lower().startswith("mailto:") else f"mailto:{raw}"
    address = "mailto:" + address[len("mailto:") :].strip()
    ok = schema_accepts("definitions/vcard-non-federal/properties/hasEmail", address)
    return address if ok else None


_ACCESS_LEVELS = {
    "public": "public",
    "restricted public": "restricted public",
    "restricted": "restricted public",
    "non-public": "non-public",
    "non public": "non-public",
    "nonpublic": "non-public",
    "private": "non-public",
}


def access_level(value: Any) -> str | None:
    """``public``, ``restricted public`` or ``non-public`` (case and spelling forgiven)."""
    raw = text(value)
    if raw is None:
        return None
    return _ACCESS_LEVELS.get(re.sub(r"[\s_]+", " ", raw.lower()))


def http_url(value: Any) -> str | None:
    """An absolute http(s) URL the schema's ``uri`` format accepts (spaces and non-ASCII are
    percent-encoded first); relative paths, other schemes and prose are dropped."""
    raw = text(value)
    if raw is None:
        return None
    candidate = requote_uri(raw)
    parts = urlsplit(candidate)
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return None
    return candidate if Draft4Validator.FORMAT_CHECKER.conforms(candidate, "uri") else None


def media_type(value: Any) -> str | None:
    """A MIME type the schema's pattern accepts; parameters (``; charset=binary``) are removed."""
    raw = text(value)
    if raw is None:
        return None
    bare = raw.split(";", 1)[0].strip().lower()
    ok = schema_accepts("definitions/distribution/properties/mediaType", bare) and "/" in bare
    return bare if ok else None


#: format names and file extensions → media types (rendered into docs/mapping.md)
FORMAT_MEDIA_TYPES = {
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "txt": "text/plain",
    "text": "text/plain",
    "json": "application/json",
    "geojson": "application/geo+json",
    "xml": "application/xml",
    "rdf": "application/rdf+xml",
    "rss": "application/rss+xml",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "excel": "application/vnd.ms-excel",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "zip": "application/zip",
    "shp": "application/zip",
    "shapefile": "application/zip",
    "esri shapefile": "application/zip",
    "kml": "application/vnd.google-earth.kml+xml",
    "kmz": "application/vnd.google-earth.kmz",
    "html": "text/html",
    "htm": "text/html",
    "web page": "text/html",
    "parquet": "application/vnd.apache.parquet",
}


def media_type_for_format(value: Any) -> str | None:
    """The media type of a format name (``CSV`` → ``text/csv``, ``Shapefile`` → ``application/zip``)."""
    raw = text(value)
    if raw is None:
        return None
    if "/" in raw:
        return media_type(raw)
    return FORMAT_MEDIA_TYPES.get(raw.lower().lstrip("."))


def media_type_for_url(value: Any) -> str | None:
    """The media type of a URL's file extension (``…/rows.csv?accessType=DOWNLOAD`` → ``text/csv``)."""
    raw = text(value)
    if raw is None:
        return None
    path = urlsplit(raw).path
    name = path.rsplit("/", 1)[-1]
    if "." not in name:
        return None
    return FORMAT_MEDIA_TYPES.get(name.rsplit(".", 1)[-1].lower())


def distribution(
    *,
    url: Any = None,
    download_url: Any = None,
    access_url: Any = None,
    title: Any = None,
    description: Any = None,
    format_name: Any = None,
    kind: Any = None,
    described_by: Any = None,
) -> dict[str, Any] | None:
    """One valid DCAT distribution, or ``None`` when it has no usable URL.

    ``url`` is a link of unknown kind: it becomes ``downloadURL`` when a media type is known (``kind``,
    else from ``format_name``, else from the file extension), since the schema requires one there,
    and ``accessURL`` otherwise. A ``download_url`` without any media type is demoted the same way.
    """
    kind = media_type(kind) or media_type_for_format(format_name)
    direct = http_url(download_url)
    loose = http_url(url)
    out: dict[str, Any] = {}
    if direct is None and loose is not None:
        direct = loose
        loose = None
    if direct is not None:
        kind = kind or media_type_for_url(direct)
        if kind is not None:
            out["downloadURL"] = direct
        elif loose is None:
            loose = direct
    access = http_url(access_url) or loose
    if access is not None and access != out.get("downloadURL"):
        out["accessURL"] = access
    if not out:
        return None
    if kind is not None:
        out["mediaType"] = kind
    for key, value in (("title", title), ("description", description), ("format", format_name)):
        cleaned = plain_text(value)
        if cleaned is not None:
            out[key] = cleaned
    described = http_url(described_by)
    if described is not None:
        out["describedBy"] = described
    return out


def unique_distributions(items: Iterable[dict[str, Any] | None]) -> list[dict[str, Any]] | None:
    """Drop empty and repeated distributions, keeping order."""
    out: list[dict[str, Any]] = []
    for item in items:
        if item and item not in out:
            out.append(item)
    return out or None


# --------------------------------------------------------------------------------------------------
# Counts and columns
# --------------------------------------------------------------------------------------------------


def count(value: Any) -> int | None:
    """A non-negative integer count, or ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    return None


def column(name: Any, field_name: Any = None, type_: Any = None, description: Any = None) -> dict[str, Any] | None:
    """One column description; a column needs at least a name or a field name."""
    shown = text(name) or text(field_name)
    if shown is None:
        return None
    return {
        "name": shown,
        "field_name": text(field_name),
        "type": text(type_),
        "description": plain_text(description),
    }
