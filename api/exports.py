"""Whole-result exports of a search: the DCAT-US 1.1 catalog ``/data.json`` and ``/api/search.csv``.

Both take ``/api/search``'s parameters (see :mod:`api.search_params`), list active records only,
and stream: they page through the index with its cursor, read each page's records from the store
and write them out, so memory stays bounded however large the catalog. Parameters are checked and
the first page is read before the response starts, so a bad parameter or an unavailable index is
a proper 4xx/503 rather than a truncated body.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from api.deps import get_index, get_store
from api.search_params import search_query
from catalog.vocabulary import RecordStatus
from index.base import SearchHit, SearchIndex, SearchPage, SearchQuery
from store import Store
from store.store import StoredRecord

router = APIRouter()
BATCH = 500

# DCAT-US 1.1 catalog header (the non-federal schema's conformsTo; its describedBy and context)
CONFORMS_TO = "https://resources.data.gov/schemas/dcat-us/v1.1/schema"
DESCRIBED_BY = "https://resources.data.gov/schemas/dcat-us/v1.1/schema/catalog.json"
CONTEXT = "https://resources.data.gov/schemas/dcat-us/v1.1/schema/catalog.jsonld"

CSV_COLUMNS = (
    "id",
    "title",
    "jurisdiction",
    "jurisdictions",
    "states",
    "categories",
    "publisher",
    "modified",
    "freshness",
    "landing_page",
    "platform",
    "source_platform",
    "portal_url",
    "source_url",
    "record_count",
    "formats",
    "download_urls",
    "first_seen",
    "last_seen",
    "dataset_url",
)
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "bad parameter", "content": {"application/json": {"example": {"error": "..."}}}},
    503: {"description": "search index unavailable"},
}


def _pages(index: SearchIndex, query: SearchQuery) -> Iterator[SearchPage]:
    """Every page of ``query`` (the first one read at once, so its errors surface before streaming)."""
    query = replace(query, size=BATCH, cursor=None, offset=0, facet_size=0)
    page = index.search(query)

    def rest() -> Iterator[SearchPage]:
        current = page
        yield current
        while current.next_cursor:
            current = index.search(replace(query, cursor=current.next_cursor))
            yield current

    return rest()


def _records(store: Store, pages: Iterator[SearchPage]) -> Iterator[tuple[SearchHit, StoredRecord]]:
    """Each hit with its stored record, in result order (records withdrawn meanwhile left out)."""
    for page in pages:
        records = store.get_many(h.id for h in page.hits)
        for hit in page.hits:
            stored = records.get(hit.id)
            if stored is not None and stored.status is RecordStatus.ACTIVE:
                yield hit, stored


# ---- data.json ------------------------------------------------------------------------------


def catalog_chunks(pages: Iterator[SearchPage], store: Store, catalog_id: str) -> Iterator[bytes]:
    """A DCAT-US catalog as JSON text, one chunk per batch of datasets."""
    header = {
        "@context": CONTEXT,
        "@id": catalog_id,
        "@type": "dcat:Catalog",
        "conformsTo": CONFORMS_TO,
        "describedBy": DESCRIBED_BY,
    }
    yield (json.dumps(header, ensure_ascii=False)[:-1] + ', "dataset": [').encode()
    first = True
    for page in pages:
        parts = []
        for _, stored in _records(store, iter([page])):
            text = json.dumps(stored.record.to_dcat(), ensure_ascii=False)
            parts.append(text if first else "," + text)
            first = False
        if parts:
            yield "\n".join(parts).encode()
    yield b"]}\n"


@router.get(
    "/data.json",
    tags=["exports"],
    summary="The catalog as DCAT-US 1.1 (data.json), whole or filtered",
    description=(
        "A DCAT-US 1.1 catalog (the non-federal schema that fits city and county data) of every active "
        "dataset matching the same parameters as `/api/search` — none for the whole catalog, or e.g. "
        "`?jurisdiction=seattle-wa&category=use_of_force`. Each dataset carries the `pdi` extension "
        "(jurisdiction, categories, source, freshness, columns). Withdrawn datasets are not listed. "
        "Streamed; `@id` is the URL asked for."
    ),
    responses={**ERRORS, 200: {"content": {"application/json": {}}}},
    response_class=StreamingResponse,
)
def data_json(
    request: Request,
    index: Annotated[SearchIndex, Depends(get_index)],
    store: Annotated[Store, Depends(get_store)],
    query: Annotated[SearchQuery, Depends(search_query)],
) -> StreamingResponse:
    pages = _pages(index, query)
    return StreamingResponse(catalog_chunks(pages, store, str(request.url)), media_type="application/json")


# ---- CSV ------------------------------------------------------------------------------------


def neutralise(value: str) -> str:
    """A cell a spreadsheet will show as text, not run as a formula: a leading ``'`` is added to a
    value that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_row(hit: SearchHit, stored: StoredRecord, api_url: str) -> list[str]:
    record = stored.record
    pdi = record.pdi
    summary = hit.summary
    urls = [d.downloadURL or d.accessURL or "" for d in record.distribution]
    cells: list[Any] = [
        record.id,
        record.title,
        pdi.jurisdiction,
        ";".join(pdi.jurisdictions),
        ";".join(sorted({j["state"] for j in summary.get("jurisdictions", [])})),
        ";".join(pdi.category_ids),
        record.publisher.name,
        summary.get("modified"),
        pdi.freshness.status.value,
        record.landingPage,
        summary.get("platform"),
        pdi.source.platform,
        pdi.source.portal_url,
        pdi.source.source_url,
        pdi.record_count,
        ";".join(summary.get("formats", [])),
        ";".join(u for u in urls if u),
        stored.first_seen.isoformat(),
        stored.last_seen.isoformat(),
        f"{api_url}/api/datasets/{record.id}",
    ]
    return ["" if c is None else str(c) if isinstance(c, int) else neutralise(str(c)) for c in cells]


def csv_chunks(pages: Iterator[SearchPage], store: Store, api_url: str) -> Iterator[bytes]:
    """The header and one row per record, a batch of rows per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for page in pages:
        for hit, stored in _records(store, iter([page])):
            writer.writerow(csv_row(hit, stored, api_url))
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


@router.get(
    "/api/search.csv",
    tags=["exports"],
    summary="Every result of a search as CSV",
    description=(
        "All active datasets matching the same parameters as `/api/search` (not one page: no `size` or "
        "`cursor`), in its order, one row each, streamed. Columns: "
        + ", ".join(f"`{c}`" for c in CSV_COLUMNS)
        + ". Lists inside a cell are joined with `;`. Titles and other text come from the portals "
        "untouched, except that a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return "
        "gets a leading `'` so that a spreadsheet shows it as text instead of running it as a formula."
    ),
    responses={**ERRORS, 200: {"content": {"text/csv": {}}}},
    response_class=StreamingResponse,
)
def search_csv(
    request: Request,
    index: Annotated[SearchIndex, Depends(get_index)],
    store: Annotated[Store, Depends(get_store)],
    query: Annotated[SearchQuery, Depends(search_query)],
) -> StreamingResponse:
    pages = _pages(index, query)
    return StreamingResponse(
        csv_chunks(pages, store, str(request.base_url).rstrip("/")),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="pdi-search.csv"'},
    )
