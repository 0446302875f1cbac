"""Sync counts: every way an inventory can copy the catalog, against a running server.

    pdi harvest --demo && pdi serve --port 8011 &
    python bench/sync.py http://127.0.0.1:8011

Prints ``name=value`` lines: ``search_total`` (``/api/search``'s total, the reference), then what a
real client of each interface receives — OAI-PMH with ``sickle`` (``ListRecords`` in ``oai_dc``
and ``oai_ddi25``, ``ListIdentifiers``), CKAN with ``ckanapi.RemoteCKAN`` (``package_list`` and
``package_search`` paged 1000 rows at a time), ``/data.json`` (datasets, and its errors against the
DCAT-US 1.1 schema), ``/api/search.csv`` rows and ``/api/changes`` entries — with the seconds each
took. Every count should equal ``search_total`` (withdrawn records are deleted headers in OAI-PMH
and entries in the changes feed, and in neither of the others).
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import csv
import io
import time
from collections.abc import Callable
from typing import Any

import ckanapi
import requests
from sickle import Sickle

from catalog.dcat import catalog_errors


def timed(what: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = what()
    return result, time.perf_counter() - started


def changes(base: str) -> int:
    count, cursor = 0, None
    while True:
        params: dict[str, Any] = {"size": 1000, **({"cursor": cursor} if cursor else {})}
        page = requests.get(f"{base}/api/changes", params=params, timeout=120).json()
        count += len(page["changes"])
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return count


def package_search_all(ckan: ckanapi.RemoteCKAN) -> list[str]:
    ids: list[str] = []
    while page := ckan.action.package_search(rows=1000, start=len(ids), sort="id asc")["results"]:
        ids += [p["id"] for p in page]
    return ids


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: python bench/sync.py http://127.0.0.1:8011")
    base = sys.argv[1].rstrip("/")
    total = requests.get(f"{base}/api/search", params={"size": 1}, timeout=60).json()["total"]
    print(f"search_total={total}")

    oai = Sickle(f"{base}/oai")
    dc, seconds = timed(lambda: list(oai.ListRecords(metadataPrefix="oai_dc", ignore_deleted=True)))
    print(f"oai_dc_records={len(dc)} unique={len({r.header.identifier for r in dc})} seconds={seconds:.1f}")
    ddi, seconds = timed(lambda: list(oai.ListRecords(metadataPrefix="oai_ddi25", ignore_deleted=True)))
    print(f"oai_ddi25_records={len(ddi)} seconds={seconds:.1f}")
    headers = list(oai.ListIdentifiers(metadataPrefix="oai_dc"))
    print(f"oai_identifiers={len(headers)} deleted={sum(h.deleted for h in headers)}")

    ckan = ckanapi.RemoteCKAN(base)
    names, seconds = timed(lambda: ckan.action.package_list())
    print(f"ckan_package_list={len(names)} unique={len(set(names))} seconds={seconds:.1f}")
    ids, seconds = timed(lambda: package_search_all(ckan))
    print(f"ckan_package_search={len(ids)} unique={len(set(ids))} seconds={seconds:.1f}")

    response, seconds = timed(lambda: requests.get(f"{base}/data.json", timeout=600))
    catalog = response.json()
    errors = len(catalog_errors(catalog))
    print(f"data_json_datasets={len(catalog['dataset'])} schema_errors={errors} seconds={seconds:.1f}")
    text, seconds = timed(lambda: requests.get(f"{base}/api/search.csv", timeout=600).text)
    print(f"csv_rows={len(list(csv.DictReader(io.StringIO(text))))} seconds={seconds:.1f}")
    count, seconds = timed(lambda: changes(base))
    print(f"changes_entries={count} seconds={seconds:.1f}")


if __name__ == "__main__":
    main()
