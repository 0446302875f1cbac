"""A catalog record as a schema.org ``Dataset`` in JSON-LD, for the dataset page of the web UI.

Search engines read ``<script type="application/ld+json">`` blocks; Google's dataset search in
particular. :func:`to_schema_org` is a pure function of the record (plus the page's own URL and
the names of the jurisdictions it covers, which the record holds only as ids), and
:func:`script_json` writes it so that no portal text can end the ``<script>`` element early.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from catalog.record import CatalogRecord

SCHEMA_ORG = "https://schema.org/"
CATALOG_NAME = "PDI Catalog"
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def http_url(value: str | None) -> str | None:
    """``value`` when it is an absolute http(s) URL, else None (no ``javascript:``, ``data:`` …)."""
    if not value:
        return None
    value = value.strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return value


def _bbox(spatial: str) -> dict[str, Any] | None:
    """DCAT-US's ``west,south,east,north`` bounding box as a schema.org GeoShape (``lat lon lat lon``)."""
    parts = [p.strip() for p in spatial.split(",")]
    if len(parts) != 4 or not all(_NUMBER.match(p) for p in parts):
        return None
    west, south, east, north = parts
    return {"@type": "Place", "geo": {"@type": "GeoShape", "box": f"{south} {west} {north} {east}"}}


def _spatial(record: CatalogRecord, places: Sequence[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"@type": "Place", "name": name} for name in places]
    spatial = (record.spatial or "").strip()
    if spatial and not spatial.startswith(("{", "[")):  # GeoJSON has no schema.org form worth the bytes
        box = _bbox(spatial)
        out.append(box if box is not None else {"@type": "Place", "name": spatial})
    return out


def _distribution(record: CatalogRecord) -> list[dict[str, Any]]:
    out = []
    for dist in record.distribution:
        url = http_url(dist.downloadURL) or http_url(dist.accessURL)
        if url is None:
            continue
        item: dict[str, Any] = {"@type": "DataDownload", "contentUrl": url}
        encoding = dist.mediaType or dist.format
        if encoding:
            item["encodingFormat"] = encoding
        if dist.title:
            item["name"] = dist.title
        if dist.description:
            item["description"] = dist.description
        out.append(item)
    return out


def _variables(record: CatalogRecord) -> list[dict[str, Any]]:
    out = []
    for col in record.pdi.columns:
        item: dict[str, Any] = {"@type": "PropertyValue", "name": col.name}
        if col.field_name and col.field_name != col.name:
            item["propertyID"] = col.field_name
        if col.description:
            item["description"] = col.description
        if col.type:
            item["additionalType"] = col.type
        out.append(item)
    return out


def to_schema_org(record: CatalogRecord, *, url: str | None = None, places: Sequence[str] = ()) -> dict[str, Any]:
    """The record as a schema.org ``Dataset``.

    ``url`` is the page that describes the dataset (ours); ``places`` the names of the
    jurisdictions it covers (e.g. ``"Seattle, WA"``). Empty fields are left out. Only http(s)
    links are kept. The result is plain JSON data, to be written with :func:`script_json`.
    """
    pdi = record.pdi
    org = {"@type": "Organization", "name": record.publisher.name}
    data: dict[str, Any] = {
        "@context": SCHEMA_ORG,
        "@type": "Dataset",
        "name": record.title,
        "description": record.description,
        "url": url or http_url(record.landingPage),
        "sameAs": http_url(record.landingPage),
        "identifier": list(dict.fromkeys([record.identifier, pdi.id])),
        "keywords": list(dict.fromkeys([*record.keyword, *record.theme, *pdi.category_ids])),
        "creator": org,
        "publisher": org,
        "datePublished": record.issued,
        "dateModified": record.modified
        or (pdi.freshness.last_data_update.isoformat() if pdi.freshness.last_data_update else None),
        "spatialCoverage": _spatial(record, places),
        "temporalCoverage": record.temporal,
        "distribution": _distribution(record),
        "variableMeasured": _variables(record),
        "isAccessibleForFree": record.accessLevel == "public",
        "license": record.license,
        "inLanguage": record.language,
        "includedInDataCatalog": {"@type": "DataCatalog", "name": CATALOG_NAME},
    }
    contact = record.contactPoint
    if contact.fn or contact.hasEmail:
        point: dict[str, Any] = {"@type": "ContactPoint", "name": contact.fn}
        if contact.hasEmail:
            point["email"] = contact.hasEmail.removeprefix("mailto:")
        data["creator"] = {**org, "contactPoint": point}
    return {k: v for k, v in data.items() if v not in (None, "", [])}


def script_json(data: Any) -> str:
    """JSON for the inside of a ``<script type="application/ld+json">`` element.

    ``<``, ``>`` and ``&`` are written as ``\\u003c``, ``\\u003e`` and ``\\u0026`` — still the same
    JSON — so a title containing ``</script>`` or ``<!--`` cannot end or change the element.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
