"""Inventories sync the whole demo catalog from a real server, with real clients: ckanapi's
RemoteCKAN, the requests CKAN's own harvester sends, a DCAT-US data.json reader and a CSV reader.
Once per index backend; every count must equal what /api/search says."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator

import ckanapi
import pytest
import requests
import uvicorn

from api.app import create_app
from catalog.dcat import catalog_errors
from catalog.vocabulary import RecordStatus
from index.base import SearchIndex
from pdi.runtime import jurisdiction_lookup, rebuild_index
from tests.conftest import elasticsearch_url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _open_index(backend: str, tmp_path) -> SearchIndex:  # type: ignore[no-untyped-def]
    if backend == "sqlite-fts5":
        from index.sqlite_fts import SqliteFtsIndex

        return SqliteFtsIndex(tmp_path / "index.sqlite")
    from index.elasticsearch import ElasticsearchIndex

    return ElasticsearchIndex(elasticsearch_url(), alias=f"pdi-sync-{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="module", params=["sqlite-fts5", "elasticsearch"])
def server(request, demo_catalog, seed, tmp_path_factory) -> Iterator[str]:
    """A uvicorn server on a free port over the demo catalog, with the given index backend."""
    from pdi.settings import load_settings

    data = tmp_path_factory.mktemp(f"sync-{request.param}")
    index = _open_index(request.param, data)
    indexed, failed, _ = rebuild_index(demo_catalog, index, jurisdiction_lookup(seed))
    assert failed == 0 and indexed == demo_catalog.count(RecordStatus.ACTIVE)
    app = create_app(load_settings(data_dir=data), demo_catalog, index, seed)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=30)
        if request.param == "elasticsearch":
            index.client.indices.delete(  # type: ignore[attr-defined]
                index=f"{index.alias}-*",  # type: ignore[attr-defined]
                ignore_unavailable=True,
                allow_no_indices=True,
            )
        index.close()


def _total(base: str, **params: str) -> int:
    r = requests.get(f"{base}/api/search", params={**params, "size": 1}, timeout=60)
    assert r.status_code == 200, r.text
    return int(r.json()["total"])


def test_ckanapi_syncs_the_whole_catalog(server, demo_catalog):
    total = _total(server)
    assert total == demo_catalog.count(RecordStatus.ACTIVE) > 1000
    ckan = ckanapi.RemoteCKAN(server)
    names = ckan.action.package_list()
    assert len(names) == len(set(names)) == total
    assert all(len(n) <= 100 for n in names)  # CKAN's limit on names

    seen: list[dict] = []
    start = 0
    while True:
        page = ckan.action.package_search(rows=1000, start=start, sort="id asc")
        assert page["count"] == total
        if not page["results"]:
            break
        seen += page["results"]
        start += len(page["results"])
    ids = [p["id"] for p in seen]
    assert len(ids) == len(set(ids)) == total
    assert ids == sorted(ids)
    assert {p["name"] for p in seen} == set(names)

    # rows above CKAN's maximum are capped at 1000, as CKAN does
    assert len(ckan.action.package_search(rows=5000)["results"]) == 1000
    # every package_show by name gives the same dataset as the search did, shortened names too
    by_name = {p["name"]: p for p in seen}
    long_names = [p["name"] for p in seen if p["name"] != p["id"]]
    assert long_names, "the demo has ids longer than 100 characters"
    for name in long_names[:5] + names[:: max(1, total // 20)]:
        shown = ckan.action.package_show(id=name)
        assert shown == by_name[name]
    with pytest.raises(ckanapi.NotFound):
        ckan.action.package_show(id="no-such-dataset")
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.package_search(fq="license_id:cc-by")

    orgs = ckan.action.organization_list(all_fields=True)
    listed = requests.get(f"{server}/api/jurisdictions", timeout=60).json()
    assert {o["name"]: o["package_count"] for o in orgs} == {j["id"]: j["datasets"] for j in listed}


def _harvester_pages(base: str, fq: str | None) -> list[dict]:
    """What ckanext-harvest's CKANHarvester._search_for_datasets sends: GET package_search,
    rows=100, sort=id asc, start advanced by rows until a page is empty."""
    params = {"rows": "100", "start": "0", "sort": "id asc"}
    if fq:
        params["fq"] = fq
    found: list[dict] = []
    while True:
        r = requests.get(f"{base}/api/3/action/package_search", params=params, timeout=60)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["success"] is True and body["help"].endswith("help_show?name=package_search")
        page = body["result"]["results"]
        if not page:
            return found
        found += page
        params["start"] = str(int(params["start"]) + int(params["rows"]))


def test_ckan_harvester_requests_incremental_and_filtered(server):
    total = _total(server)
    # incremental: metadata_modified since a time, as the harvester writes it (UTC, a Z added)
    middle = requests.get(
        f"{server}/api/3/action/package_search",
        params={"rows": 1, "start": total // 2, "sort": "metadata_modified desc"},
        timeout=60,
    ).json()["result"]["results"][0]
    since = middle["metadata_modified"]
    changed = _harvester_pages(server, f"metadata_modified:[{since}Z TO *]")
    assert len({p["id"] for p in changed}) == len(changed) == _total(server, modified_after=since)
    assert total // 2 <= len(changed) < total
    assert all(p["metadata_modified"] >= since for p in changed)
    # organization and group filters, in the harvester's form
    fq = "organization:seattle-wa OR organization:austin-tx"
    some = _harvester_pages(server, fq)
    assert len(some) == _total(server, jurisdiction="seattle-wa,austin-tx") > 0
    assert all({"seattle-wa", "austin-tx"} & set(_extra(p, "pdi_jurisdictions").split(", ")) for p in some)
    grouped = _harvester_pages(server, "groups:use_of_force")
    assert len(grouped) == _total(server, category="use_of_force") > 0
    assert all("use_of_force" in [g["name"] for g in p["groups"]] for p in grouped)


def _extra(package: dict, key: str) -> str:
    return next((e["value"] for e in package["extras"] if e["key"] == key), "")


def test_data_json_is_valid_dcat_us_and_complete(server):
    r = requests.get(f"{server}/data.json", timeout=120)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    catalog = r.json()
    assert catalog_errors(catalog) == []
    assert catalog["conformsTo"] == "https://resources.data.gov/schemas/dcat-us/v1.1/schema"
    assert catalog["@type"] == "dcat:Catalog" and catalog["@id"] == f"{server}/data.json"
    assert len(catalog["dataset"]) == _total(server)
    assert len({d["pdi"]["id"] for d in catalog["dataset"]}) == len(catalog["dataset"])
    assert all(d["pdi"]["status"] == "active" for d in catalog["dataset"])

    for params in (
        {"jurisdiction": "seattle-wa"},
        {"category": "use_of_force"},
        {"jurisdiction": "seattle-wa", "category": "use_of_force"},
    ):
        sub = requests.get(f"{server}/data.json", params=params, timeout=60).json()
        assert catalog_errors(sub) == []
        assert len(sub["dataset"]) == _total(server, **params) > 0, params
        for d in sub["dataset"]:
            if "jurisdiction" in params:
                assert params["jurisdiction"] in d["pdi"]["jurisdictions"]
            if "category" in params:
                assert params["category"] in [c["category"] for c in d["pdi"]["categories"]]


def test_csv_export_has_one_row_per_result(server):
    r = requests.get(f"{server}/api/search.csv", timeout=120)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == _total(server)
    assert len({row["id"] for row in rows}) == len(rows)
    params = {"q": "use of force", "state": "TX"}
    r = requests.get(f"{server}/api/search.csv", params=params, timeout=60)
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == _total(server, **params) > 0
    assert all("TX" in row["states"].split(";") for row in rows)


def test_the_ckanapi_command_line_tool(server, tmp_path):
    # ckanapi's CLI runs its workers as `ckanapi` from PATH: the one beside this Python
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}"}
    ckanapi_cli = os.path.join(os.path.dirname(sys.executable), "ckanapi")
    out = subprocess.run(
        [ckanapi_cli, "search", "datasets", "-r", server, "fq=organization:seattle-wa", "q=police"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    found = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(found) == len({p["id"] for p in found}) == _total(server, jurisdiction="seattle-wa", q="police") > 0
    orgs = tmp_path / "orgs.jsonl"
    out = subprocess.run(
        [ckanapi_cli, "dump", "organizations", "--all", "-q", "-r", server, "-O", str(orgs)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    dumped = [json.loads(line) for line in orgs.read_text().splitlines()]
    assert len(dumped) == 53 and {"seattle-wa", "austin-tx"} <= {o["name"] for o in dumped}
