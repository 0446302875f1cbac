"""The portal simulator over real HTTP on loopback: shapes, determinism, paging, changes, faults."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from catalog.dcat import dataset_errors
from catalog.vocabulary import Category
from catalog_seed import load_seed
from simulator import Fault, PortalSimulator
from simulator.dates import DEFAULT_NOW
from simulator.spec import specs_from_seed
from simulator.world import SimWorld
from tests.seeds import ODS_HOST, seed_with_opendatasoft

SAMPLES = Path(__file__).parents[2] / "shared" / "reference" / "portal-samples"
SEATTLE = "data.seattle.gov"  # Socrata
SAN_JOSE = "data.sanjoseca.gov"  # CKAN
VIRGINIA = "data.virginia.gov"  # CKAN, statewide, shared by four jurisdictions
INDY = "data.indy.gov"  # ArcGIS Hub DCAT-US feed
CHARLOTTE_GIS = "gis.charlottenc.gov"  # ArcGIS Server REST directory
REST = f"https://{CHARLOTTE_GIS}/arcgis/rest/services"
ODS = ODS_HOST  # OpenDataSoft, only in the test seed below
HUB_FEED = "/api/feed/dcat-us/1.1.json"
SERVED = ["socrata", "ckan", "dcat_us", "arcgis_server", "opendatasoft", "html"]
CATEGORY_IDS = {c.value for c in Category}


def sample(relative: str) -> object:
    return json.loads((SAMPLES / relative).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sim_seed():
    return load_seed(platforms=SERVED)


@pytest.fixture(scope="module")
def sim(sim_seed):
    """A shared simulator for read-only tests."""
    with PortalSimulator(sim_seed, seed_number=2015) as s:
        yield s


@pytest.fixture
def fresh(sim_seed):
    """A simulator of its own, for tests that change it or arm faults."""
    with PortalSimulator(sim_seed, seed_number=2015) as s:
        s.fault_delay_s = 2.0
        yield s


def get(s: PortalSimulator, url: str, **kwargs) -> requests.Response:
    kwargs.setdefault("timeout", 10)
    return requests.get(s.route(url), **kwargs)


def cetera(s: PortalSimulator, host: str = SEATTLE, headers=None, timeout=10, **params) -> requests.Response:
    return get(
        s, f"https://{host}/api/catalog/v1", params={"domains": host, **params}, headers=headers, timeout=timeout
    )


def ckan(s: PortalSimulator, action: str, host: str = SAN_JOSE, **params) -> requests.Response:
    return get(s, f"https://{host}/api/3/action/{action}", params=params)


def rest(s: PortalSimulator, url: str, **params) -> dict:
    """An ArcGIS REST document (``?f=json``)."""
    body = get(s, url, params={"f": "json", **params}).json()
    assert isinstance(body, dict)
    return body


def _walk_rest(s: PortalSimulator, root: str) -> list[str]:
    """Every layer path of a REST directory, walked as a client would (a service listed as both
    types read once, as the FeatureServer; group layers skipped)."""
    root = root.rstrip("/")
    paths: list[str] = []
    for folder in ["", *rest(s, root)["folders"]]:
        listing = rest(s, f"{root}/{folder}" if folder else root)
        kinds: dict[str, set[str]] = {}
        for entry in listing["services"]:
            kinds.setdefault(entry["name"], set()).add(entry["type"])
        for name, types in kinds.items():
            kind = "FeatureServer" if "FeatureServer" in types else "MapServer" if "MapServer" in types else None
            if kind is None:
                continue
            service = rest(s, f"{root}/{name}/{kind}")
            for layer in service["layers"] + service["tables"]:
                if not layer.get("subLayerIds"):
                    paths.append(f"{urlsplit(root).path}/{name}/{kind}/{layer['id']}")
    return paths


@pytest.fixture(scope="module")
def ods_seed(tmp_path_factory):
    """The bundled seed plus an OpenDataSoft portal for Burlington (none is in the reference table)."""
    return seed_with_opendatasoft(tmp_path_factory.mktemp("seed"))


@pytest.fixture(scope="module")
def ods_sim(ods_seed):
    with PortalSimulator(ods_seed, seed_number=2015) as s:
        yield s


def ods(s: PortalSimulator, path: str = "/api/explore/v2.1/catalog/datasets", **params) -> requests.Response:
    return get(s, f"https://{ODS}{path}", params=params)


# --- addressing ---------------------------------------------------------------------------------


def test_route_maps_a_real_portal_url_onto_the_simulator(sim):
    base = sim.base_url
    assert base.startswith("http://127.0.0.1:") and sim.port > 0
    assert sim.route("https://data.seattle.gov/api/catalog/v1?x=1") == f"{base}/data.seattle.gov/api/catalog/v1?x=1"
    assert sim.route("https://Data.Seattle.gov") == f"{base}/data.seattle.gov/"
    assert sim.route(f"{base}/data.seattle.gov/d/abcd-1234") == f"{base}/data.seattle.gov/d/abcd-1234"
    with pytest.raises(ValueError):
        sim.route("ftp://data.seattle.gov/")


def test_unknown_host_or_path_is_a_json_404(sim):
    for url in ("https://nowhere.example/api/catalog/v1", f"https://{SEATTLE}/no/such/path"):
        r = get(sim, url)
        assert r.status_code == 404 and r.headers["Content-Type"].startswith("application/json")
        assert r.json()["error"] == "not_found"
    assert requests.get(sim.base_url + "/_sim", timeout=5).json()["seed_number"] == 2015


# --- determinism ----------------------------------------------------------------------------------


def _bodies(s: PortalSimulator) -> list[bytes]:
    urls = [
        f"https://{SEATTLE}/api/catalog/v1?domains={SEATTLE}&limit=1000",
        f"https://{SAN_JOSE}/api/3/action/package_search?rows=1000",
        f"https://{INDY}{HUB_FEED}",
        f"https://{SEATTLE}/data.json",
    ]
    bodies = [get(s, u, headers={"Host": "sim.test"}).content for u in urls]
    first = json.loads(bodies[0])["results"][0]["resource"]["id"]
    bodies.append(get(s, f"https://{SEATTLE}/api/views/{first}.json", headers={"Host": "sim.test"}).content)
    return bodies


def test_same_seed_number_serves_identical_bytes_and_another_differs(sim_seed):
    with PortalSimulator(sim_seed, seed_number=2015) as a, PortalSimulator(sim_seed, seed_number=2015) as b:
        assert a.port != b.port
        assert _bodies(a) == _bodies(b)
    with PortalSimulator(sim_seed, seed_number=2016) as c, PortalSimulator(sim_seed, seed_number=2015) as d:
        assert all(x != y for x, y in zip(_bodies(c), _bodies(d), strict=True))


def test_generating_every_portal_is_lazy_and_sized(sim_seed):
    # how long generation takes is for bench/, not a test: here, that nothing is generated before
    # it is asked for, and that each portal then holds the configured number of datasets
    specs = specs_from_seed(sim_seed)
    assert {s.platform for s in specs} == {"socrata", "ckan", "dcat_us", "arcgis_server", "html"}
    world = SimWorld(specs, 2015, (150, 350), DEFAULT_NOW)
    assert world._catalogs == {}
    first = next(h for h in world.hosts() if world.spec(h).platform != "html")
    world.datasets(first)
    assert set(world._catalogs) == {first}
    total = sum(len(world.datasets(h)) for h in world.hosts() if world.spec(h).platform != "html")
    portals = [s for s in specs if s.platform != "html"]  # a department page lists 10-18 files
    assert 150 * len(portals) <= total <= 350 * len(portals)


# --- shapes -----------------------------------------------------------------------------------------


def test_every_seeded_source_is_served_with_its_platform_shape(sim, sim_seed):
    portals = sim.portals()
    assert {j for p in portals for j in (x.id for x in p.jurisdictions)} >= {
        j for plan in sim_seed.sources() for j in plan.jurisdictions
    }
    for portal in portals:
        truth = {d.remote_id for d in sim.datasets(portal.host)}
        if portal.platform == "socrata":
            body = get(
                sim, f"{portal.source_url}/api/catalog/v1", params={"domains": portal.host, "limit": 1000}
            ).json()
            assert body["resultSetSize"] == len(truth)
            served = {r["resource"]["id"] for r in body["results"]}
        elif portal.platform == "ckan":
            body = get(sim, f"{portal.source_url}/api/3/action/package_search", params={"rows": 1000}).json()
            assert body["success"] is True and body["result"]["count"] == len(truth)
            served = {p["id"] for p in body["result"]["results"]}
        elif portal.platform == "arcgis_server":
            served = set(_walk_rest(sim, portal.source_url))
        elif portal.platform == "html":
            served = _html_links(sim, portal.source_url)
        else:
            body = get(sim, portal.source_url).json()
            assert body["@type"] == "dcat:Catalog"
            served = {d["identifier"] for d in body["dataset"]}
        assert served == truth, portal.host


def _html_links(sim: PortalSimulator, page_url: str) -> set[str]:
    """The file links of a department page and its sub-page, as real-site URLs."""
    parts = urlsplit(page_url)
    routed_site, real_site = (
        sim.route(f"{parts.scheme}://{parts.netloc}/").rstrip("/"),
        f"{parts.scheme}://{parts.netloc}",
    )
    sub = urljoin(page_url, "earlier-releases/")
    links: set[str] = set()
    for url in (page_url, sub):
        text = requests.get(sim.route(url), timeout=10).text
        links |= {h.replace(routed_site, real_site) for h in re.findall(r'href="([^"]+/files/[^"]+)"', text)}
    return links


def test_socrata_catalog_and_views_carry_the_recorded_samples_keys(sim):
    recorded = sample("socrata/seattle_cetera_catalog_v1_search_results.json")
    body = cetera(sim, limit=1000).json()
    assert set(body) == set(recorded)
    want = recorded["results"][0]
    for result in body["results"]:
        assert set(result) >= set(want)
        assert set(result["resource"]) >= set(want["resource"])
        assert set(result["classification"]) >= set(want["classification"])
        assert result["resource"]["id"][4] == "-" and len(result["resource"]["id"]) == 9
    modern = {"attribution", "metadata_updated_at", "data_updated_at", "columns_datatype", "page_views"}
    assert modern <= set(body["results"][0]["resource"]) and "owner" in body["results"][0]

    views = sample("socrata/seattle_spd_911_incident_response_views_3k2p-39jp.json")
    police = next(
        d for d in sim.datasets(SEATTLE) if d.police and d.asset_type == "dataset" and d.license and d.frequency
    )
    doc = get(sim, f"https://{SEATTLE}/api/views/{police.remote_id}.json").json()
    assert set(doc) >= set(views)
    assert set(doc["columns"][0]) >= set(views["columns"][0])
    assert isinstance(doc["createdAt"], int) and isinstance(doc["rowsUpdatedAt"], int)
    assert doc["rowsUpdatedAt"] == int(police.data_updated_at.timestamp())
    assert [c["fieldName"] for c in doc["columns"]] == [c.field_name for c in police.columns]
    fieldset = next(iter(doc["metadata"]["custom_fields"].values()))
    assert next(iter(fieldset.values())) in {"Daily", "Weekly", "Monthly", "Quarterly", "Annually", "As needed"}
    count = get(sim, f"https://{SEATTLE}/resource/{police.remote_id}.json", params={"$select": "count(*)"}).json()
    assert count == [{"count": str(police.row_count)}]
    assert get(sim, f"https://{SEATTLE}/api/views/zzzz-zzzz.json").status_code == 404


def test_ckan_actions_carry_the_recorded_samples_keys(sim):
    recorded = sample("ckan/demo.ckan.org_package_search_response_3-results.json")
    body = ckan(sim, "package_search", rows=5, **{"facet.field": '["organization","res_format","groups"]'}).json()
    assert set(body) == set(recorded) and set(body["result"]) == set(recorded["result"])
    assert set(body["result"]["search_facets"]) == set(recorded["result"]["search_facets"])
    package = body["result"]["results"][0]
    assert set(package) >= set(recorded["result"]["results"][0])
    assert set(package["resources"][0]) >= set(recorded["result"]["results"][0]["resources"][0])
    assert set(package["organization"]) >= set(recorded["result"]["results"][2]["organization"])
    assert all(set(e) == {"key", "value"} for e in package["extras"])

    show = sample("ckan/demo.ckan.org_package_show_response.json")
    for path in ("api/3/action", "api/action"):
        got = get(sim, f"https://{SAN_JOSE}/{path}/package_show", params={"id": package["name"]}).json()
        assert set(got) == set(show) and got["result"]["id"] == package["id"]
    # ckanapi POSTs JSON bodies
    posted = requests.post(
        sim.route(f"https://{SAN_JOSE}/api/action/package_search"), json={"rows": 3, "start": 1}, timeout=10
    ).json()
    assert [p["id"] for p in posted["result"]["results"]] == [
        p["id"] for p in ckan(sim, "package_search", rows=4).json()["result"]["results"]
    ][1:]
    assert ckan(sim, "package_list").json()["result"] == sorted(d.slug for d in sim.datasets(SAN_JOSE))


def test_ckan_errors_use_ckans_envelope_and_status_codes(sim):
    missing = ckan(sim, "package_show", id="no-such-package")
    assert missing.status_code == 404
    assert missing.json()["success"] is False and missing.json()["error"]["__type"] == "Not Found Error"
    for params in ({"rows": "many"}, {"start": "-1"}, {"sort": "colour asc"}):
        bad = ckan(sim, "package_search", **params)
        assert bad.status_code == 409 and bad.json()["success"] is False, params
    assert ckan(sim, "package_show").status_code == 409
    unknown = ckan(sim, "resource_hack")
    assert unknown.status_code == 400 and unknown.json()["success"] is False


def test_ckanapi_reads_the_simulator(sim):
    import ckanapi

    portal = ckanapi.RemoteCKAN(sim.route(f"https://{VIRGINIA}"))
    result = portal.action.package_search(rows=7, start=0, sort="metadata_created asc, id asc")
    assert result["count"] == len(sim.datasets(VIRGINIA)) and len(result["results"]) == 7
    with pytest.raises(ckanapi.NotFound):
        portal.action.package_show(id="no-such-package")


def test_hub_feed_has_the_samples_keys_and_hub_quirks(sim):
    recorded = sample("arcgis/sce_drpep_arcgis_hub_dcat-us-1.1_feed_TRUNCATED-5-datasets.json")
    body = get(sim, f"https://{INDY}{HUB_FEED}").json()
    assert set(body) == set(recorded)
    keys = set(recorded["dataset"][0])
    for dataset in body["dataset"]:
        assert set(dataset) >= keys
        assert dataset["identifier"].startswith("https://www.arcgis.com/home/item.html?id=")
        assert dataset["landingPage"].startswith(f"{sim.base_url}/{INDY}/")
        for dist in dataset["distribution"]:
            assert {"@type", "title", "format", "mediaType"} <= set(dist)
            assert ("accessURL" in dist) or ("downloadURL" in dist)
    # Hub's quirks appear somewhere in a feed of this size
    everything = [d for p in sim.portals() if p.platform == "dcat_us" for d in get(sim, p.source_url).json()["dataset"]]
    assert any(d["spatial"] == "" for d in everything) and any(d["theme"] == "" for d in everything)
    assert any("@" not in d["contactPoint"]["hasEmail"] for d in everything)
    assert any("accrualPeriodicity" in d for d in everything)
    assert any(d["description"].startswith("<p>") for d in everything)
    formats = {dist["format"] for d in everything for dist in d["distribution"]}
    assert {"CSV", "GeoJSON", "ArcGIS GeoServices REST API"} <= formats


def test_data_json_of_socrata_and_ckan_hosts_is_valid_dcat_us(sim):
    recorded = sample("dcat/cftc_gov_data.json_dcat-us-1.1_datagov-harvester-fixture.json")
    for host in (SEATTLE, SAN_JOSE):
        body = get(sim, f"https://{host}/data.json").json()
        assert set(body) == set(recorded)
        assert body["dataset"], host
        for dataset in body["dataset"][:60]:
            assert dataset_errors(dataset) == [], (host, dataset["identifier"])


def test_links_point_at_the_simulator_and_resolve(sim):
    result = cetera(sim, limit=1).json()["results"][0]
    assert result["permalink"].startswith(f"{sim.base_url}/{SEATTLE}/d/")
    for url in (result["permalink"], result["link"]):
        page = requests.get(url, timeout=5)
        assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    package = ckan(sim, "package_search", rows=1).json()["result"]["results"][0]
    download = requests.get(package["resources"][0]["url"], timeout=5)
    assert download.status_code == 200 and download.text.splitlines()[0].count(",") >= 1
    hub = get(sim, f"https://{INDY}{HUB_FEED}").json()["dataset"][0]
    for dist in hub["distribution"]:
        url = dist.get("accessURL") or dist.get("downloadURL")
        assert requests.get(url, timeout=5).status_code == 200, url


def test_hostile_text_is_served_raw_in_json_and_escaped_in_pages(sim):
    for portal in sim.portals():
        assert any("<script>" in d.description for d in sim.datasets(portal.host)), portal.host
    hostile = next(d for d in sim.datasets(SEATTLE) if d.extra.get("hostile") == "description")
    served = cetera(sim, ids=hostile.remote_id).json()["results"][0]
    assert "<script>alert(1)</script>" in served["resource"]["description"]
    page = requests.get(served["permalink"], timeout=5).text
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    titled = [
        d
        for p in sim.portals()
        for d in sim.datasets(p.host)
        if d.extra.get("hostile") == "title" and "<img" in d.title
    ]
    assert titled
    page = requests.get(sim.route(f"https://{titled[0].host}/d/{titled[0].slug}"), timeout=5).text
    assert "<img" not in page and "&lt;img" in page


def test_conditional_get_answers_304(sim):
    first = cetera(sim, limit=5)
    again = cetera(sim, limit=5, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""


def test_arcgis_server_directory_has_folders_services_and_utility_services(sim):
    root = rest(sim, REST)
    assert set(root) == {"currentVersion", "folders", "services"}
    assert {"CMPD", "ODP", "PublicSafety", "Utilities"} <= set(root["folders"])
    assert {"name": "Locator", "type": "GeocodeServer"} in root["services"]
    tools = rest(sim, f"{REST}/Utilities")
    assert {e["type"] for e in tools["services"]} == {"GeometryServer", "GPServer"} and tools["folders"] == []
    cmpd = rest(sim, f"{REST}/CMPD")["services"]
    assert cmpd and all(e["name"].startswith("CMPD/") for e in cmpd)
    listings = [root["services"]] + [rest(sim, f"{REST}/{f}")["services"] for f in root["folders"]]
    types_by_name: dict[str, set[str]] = {}
    for entry in (e for listing in listings for e in listing):
        types_by_name.setdefault(entry["name"], set()).add(entry["type"])
    assert any(t == {"FeatureServer", "MapServer"} for t in types_by_name.values())  # published as both
    assert any(t == {"MapServer"} for t in types_by_name.values())
    # police layers sit in the police folders, with ground truth per layer
    truth = sim.datasets(CHARLOTTE_GIS)
    police_folders = {d.remote_id.split("/")[4] for d in truth if d.police}
    assert police_folders <= {"CMPD", "PublicSafety", "ODP"} and "CMPD" in police_folders
    assert all(d.remote_id.startswith("/arcgis/rest/services/") for d in truth)
    assert any(d.police for d in truth) and any(not d.police for d in truth)


def test_arcgis_server_layers_carry_the_recorded_samples_keys(sim):
    recorded = sample("arcgis/columbia_mo_arcgis_rest_layer_metadata_f-json.json")
    truth = {d.remote_id: d for d in sim.datasets(CHARLOTTE_GIS)}
    seen_kinds, groups = set(), 0
    for path, ds in list(truth.items())[:80]:
        service_path, _, n = path.rpartition("/")
        service = rest(sim, f"https://{CHARLOTTE_GIS}{service_path}")
        groups += sum(1 for layer in service["layers"] if layer.get("subLayerIds"))
        doc = rest(sim, f"https://{CHARLOTTE_GIS}{path}")
        kind = service_path.rsplit("/", 1)[1]
        seen_kinds.add((kind, doc["type"]))
        spatial_only = {"geometryType", "extent", "drawingInfo"}
        assert set(doc) >= set(recorded) - (set() if ds.spatial else spatial_only), path
        assert doc["id"] == int(n) and doc["type"] == ("Feature Layer" if ds.spatial else "Table")
        assert {f["type"] for f in doc["fields"]} <= {
            "esriFieldTypeOID",
            "esriFieldTypeString",
            "esriFieldTypeInteger",
            "esriFieldTypeDouble",
            "esriFieldTypeDate",
            "esriFieldTypeSmallInteger",
            "esriFieldTypeGlobalID",
            "esriFieldTypeGeometry",
        }
        assert all(set(f) >= {"name", "type", "alias", "domain"} for f in doc["fields"])
        if kind == "FeatureServer":
            edit = doc["editingInfo"].get("dataLastEditDate", doc["editingInfo"]["lastEditDate"])
            assert edit == int(ds.data_updated_at.timestamp() * 1000)
        else:
            assert "editingInfo" not in doc
        count = rest(sim, f"https://{CHARLOTTE_GIS}{path}/query", where="1=1", returnCountOnly="true")
        assert count == {"count": ds.row_count}
    assert {k for k, _ in seen_kinds} == {"FeatureServer", "MapServer"}
    assert {t for _, t in seen_kinds} == {"Feature Layer", "Table"}
    assert groups > 0  # multi-layer map services group their layers


def test_arcgis_server_pages_and_errors(sim):
    layer = sim.datasets(CHARLOTTE_GIS)[0].remote_id
    page = get(sim, f"https://{CHARLOTTE_GIS}{layer}")  # without f=json: the layer's HTML page
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    for url in (f"{REST}/NoSuchFolder", f"{REST}/CMPD/Nothing/MapServer", f"https://{CHARLOTTE_GIS}{layer}9"):
        r = get(sim, url, params={"f": "json"})
        assert r.status_code == 200 and set(r.json()) == {"error"}, url  # ArcGIS answers errors with 200


def test_opendatasoft_catalog_carries_the_recorded_samples_keys(ods_sim):
    recorded = sample(
        "opendatasoft/data.economie.gouv.fr_explore_v2.1_catalog_datasets_1-result_include_app_metas.json"
    )
    want = recorded["results"][0]
    body = ods(ods_sim, limit=100).json()
    assert set(body) == set(recorded) and body["total_count"] == len(ods_sim.datasets(ODS))
    for entry in body["results"]:
        assert set(entry) == set(want)
        assert {"default", "dcat"} <= set(entry["metas"])
        assert set(entry["metas"]["default"]) == set(want["metas"]["default"])
        assert set(entry["metas"]["dcat"]) == set(want["metas"]["dcat"])
        assert entry["metas"]["default"]["modified"].endswith("+00:00")
    truth = ods_sim.dataset(ODS, body["results"][0]["dataset_id"])
    assert body["results"][0]["metas"]["default"]["records_count"] == truth.row_count
    police = [d for d in ods_sim.datasets(ODS) if d.police]
    assert police and all(d.categories for d in police)
    one = ods(ods_sim, f"/api/explore/v2.1/catalog/datasets/{truth.remote_id}").json()
    assert one == body["results"][0]
    for fmt in ("csv", "json"):
        assert ods(ods_sim, f"/api/explore/v2.1/catalog/datasets/{truth.remote_id}/exports/{fmt}").status_code == 200
    assert "text/html" in ods(ods_sim, f"/explore/dataset/{truth.remote_id}/").headers["Content-Type"]
    assert ods(ods_sim, "/api/explore/v2.1/catalog/datasets/no-such-dataset").status_code == 404


def test_opendatasoft_paging_covers_every_dataset_once_and_enforces_its_limits(ods_sim):
    truth = sorted(d.remote_id for d in ods_sim.datasets(ODS))
    ids: list[str] = []
    offset = 0
    while page := ods(ods_sim, limit=40, offset=offset, order_by="dataset_id").json()["results"]:
        ids += [r["dataset_id"] for r in page]
        offset += len(page)
    assert ids == truth
    assert len(ods(ods_sim).json()["results"]) == 10  # the default limit
    for params in (
        {"limit": 101},
        {"limit": "x"},
        {"offset": -1},
        {"offset": 9950, "limit": 100},
        {"order_by": "colour"},
    ):
        r = ods(ods_sim, **params)
        assert r.status_code == 400 and "error_code" in r.json(), params


def test_new_endpoints_serve_the_named_faults(sim_seed, ods_seed):
    with PortalSimulator(ods_seed, seed_number=2015) as s:
        s.inject(CHARLOTTE_GIS, "500", count=1, path_contains="/CMPD?")
        assert get(s, f"{REST}/CMPD", params={"f": "json"}).status_code == 500
        # a folder that lists the directory's folders again, itself included
        s.inject(CHARLOTTE_GIS, "paging_loop", count=1, path_contains="/CMPD?")
        looped = rest(s, f"{REST}/CMPD")
        assert "CMPD" in looped["folders"] and looped["services"] == rest(s, f"{REST}/CMPD")["services"]
        s.inject(CHARLOTTE_GIS, "schema_drift", count=1)
        assert "services" not in rest(s, REST)
        first = ods(s, limit=20, order_by="dataset_id").json()
        s.inject(ODS, "paging_loop", count=1)
        assert ods(s, limit=20, offset=40, order_by="dataset_id").json() == first
        s.inject(ODS, "schema_drift", count=1)
        assert "results" not in ods(s, limit=5).json()
        s.inject(ODS, "malformed", count=1)
        with pytest.raises(ValueError):
            ods(s).json()
        assert [r.fault for r in s.requests(ODS)][-4:] == [None, "paging_loop", "schema_drift", "malformed"]


# --- paging -----------------------------------------------------------------------------------------


def test_socrata_paging_covers_every_dataset_exactly_once(sim):
    truth = sorted(d.remote_id for d in sim.datasets(SEATTLE))
    for order in ("dataset_id", None):
        ids: list[str] = []
        offset = 0
        while True:
            params = {"limit": 37, "offset": offset, **({"order": order} if order else {})}
            page = cetera(sim, **params).json()
            if not page["results"]:
                break
            ids += [r["resource"]["id"] for r in page["results"]]
            offset += len(page["results"])
        assert sorted(ids) == truth and len(ids) == len(set(ids)), order
        if order == "dataset_id":
            assert ids == truth
    scrolled: list[str] = []
    last = ""
    while page := cetera(sim, limit=50, scroll_id=last, order="dataset_id").json()["results"]:
        scrolled += [r["resource"]["id"] for r in page]
        last = scrolled[-1]
    assert scrolled == truth
    assert cetera(sim, limit="lots").status_code == 400
    assert cetera(sim, order="colour").status_code == 400
    only = cetera(sim, limit=1000, only="dataset").json()
    assert only["resultSetSize"] == sum(d.asset_type == "dataset" for d in sim.datasets(SEATTLE))


def test_ckan_paging_covers_every_dataset_exactly_once(sim):
    truth = sorted(d.remote_id for d in sim.datasets(VIRGINIA))
    for sort in ("metadata_created asc, id asc", "name asc", None):
        ids: list[str] = []
        start = 0
        while True:
            params = {"rows": 45, "start": start, **({"sort": sort} if sort else {})}
            results = ckan(sim, "package_search", host=VIRGINIA, **params).json()["result"]["results"]
            if not results:
                break
            ids += [p["id"] for p in results]
            start += len(results)
        assert sorted(ids) == truth and len(ids) == len(set(ids)), sort


def test_page_size_limits(sim_seed):
    with PortalSimulator(sim_seed, datasets_per_portal=(1100, 1150)) as big:
        assert len(cetera(big, limit=5000).json()["results"]) == 1000
        assert len(cetera(big).json()["results"]) == 100
        assert len(ckan(big, "package_search", rows=5000).json()["result"]["results"]) == 1000
        assert len(ckan(big, "package_search").json()["result"]["results"]) == 10


# --- content and ground truth -------------------------------------------------------------------------


def test_police_share_and_ground_truth(sim):
    titles: list[str] = []
    for portal in sim.portals():
        datasets = sim.datasets(portal.host)
        police = [d for d in datasets if d.police]
        if portal.platform == "html":  # a department page: a handful of files, mostly police releases
            assert 10 <= len(datasets) <= 18 and 0.5 <= len(police) / len(datasets) <= 0.8, portal.host
        else:
            assert 150 <= len(datasets) <= 350
            assert 0.15 <= len(police) / len(datasets) <= 0.30, portal.host
        assert all(d.categories and set(d.categories) <= CATEGORY_IDS for d in police)
        assert all(d.categories == [] for d in datasets if not d.police)
        assert len({d.remote_id for d in datasets}) == len(datasets)
        for j in portal.jurisdictions:  # every committed category is published somewhere
            published = {c for d in police if d.jurisdiction == j.id for c in d.categories}
            if not portal.shared and portal.platform != "html":  # a page lists a handful, not all
                assert set(j.committed) <= published, (portal.host, j.id)
        titles += [d.title for d in datasets]
    joined = "\n".join(titles)
    for name in ("Use of Force", "Officer Involved Shootings", "Terry Stops", "Calls for Service", "Field Interviews"):
        assert name in joined
    for near_miss in ("Fire Department Calls for Service", "Street Stop Signs", "Court Citations of Building Code"):
        assert near_miss in joined
    assert any(t.startswith("Use of Force 20") or t.startswith("Response to Resistance 20") for t in titles)
    virginia = {d.jurisdiction for d in sim.datasets(VIRGINIA) if d.police}
    assert {"bedford-va", "danville-va", "hampton-va", "newport-news-va"} <= virginia


def test_dates_frequencies_and_counts_are_plausible(sim):
    datasets = [d for p in sim.portals() for d in sim.datasets(p.host)]
    assert sim.now == DEFAULT_NOW
    assert all(d.created_at <= d.data_updated_at <= sim.now for d in datasets)
    assert all(d.created_at <= d.metadata_updated_at <= sim.now for d in datasets)
    assert {d.frequency for d in datasets} == {"daily", "weekly", "monthly", "quarterly", "annually", "irregular", None}
    assert all(d.row_count > 0 for d in datasets)
    assert any(not d.updating for d in datasets) and any(d.updating for d in datasets)
    daily = [d for d in datasets if d.frequency == "daily" and d.updating]
    assert all(sim.now - d.data_updated_at <= timedelta(days=1) for d in daily)


# --- changes over time --------------------------------------------------------------------------------


def _views(s: PortalSimulator, remote_id: str) -> dict:
    return get(s, f"https://{SEATTLE}/api/views/{remote_id}.json").json()


def test_advance_refreshes_datasets_on_their_schedule_except_stale_ones(fresh):
    daily = [d for d in fresh.datasets(SEATTLE) if d.frequency == "daily" and d.updating and d.asset_type == "dataset"]
    keeps, stale = daily[0], daily[1]
    fresh.stop_updating(SEATTLE, stale.remote_id)
    before = {d.remote_id: _views(fresh, d.remote_id) for d in (keeps, stale)}
    assert fresh.advance(3) == DEFAULT_NOW + timedelta(days=3)
    after = {d.remote_id: _views(fresh, d.remote_id) for d in (keeps, stale)}
    assert after[keeps.remote_id]["rowsUpdatedAt"] > before[keeps.remote_id]["rowsUpdatedAt"]
    assert fresh.now - fresh.dataset(SEATTLE, keeps.remote_id).data_updated_at <= timedelta(days=1)
    assert fresh.dataset(SEATTLE, keeps.remote_id).row_count > keeps.row_count
    assert after[stale.remote_id]["rowsUpdatedAt"] == before[stale.remote_id]["rowsUpdatedAt"]
    listed = cetera(fresh, ids=keeps.remote_id).json()["results"][0]["resource"]
    assert listed["data_updated_at"].startswith(
        fresh.dataset(SEATTLE, keeps.remote_id).data_updated_at.strftime("%Y-%m-%dT%H")
    )
    with pytest.raises(ValueError):
        fresh.advance(-1)


def test_advance_in_steps_equals_one_step(sim_seed):
    with PortalSimulator(sim_seed) as a, PortalSimulator(sim_seed) as b:
        for _ in range(10):
            a.advance(0.7)
        b.advance(7)
        assert a.datasets(SEATTLE) == b.datasets(SEATTLE)


def test_update_add_remove(fresh):
    target = next(d for d in fresh.datasets(SAN_JOSE) if d.police)
    fresh.update_dataset(
        SAN_JOSE, target.remote_id, title="Use of Force (revised)", columns=["Incident ID", "Force Type"]
    )
    shown = ckan(fresh, "package_show", id=target.remote_id).json()["result"]
    assert shown["title"] == "Use of Force (revised)"
    assert fresh.dataset(SAN_JOSE, target.remote_id).metadata_updated_at == fresh.now
    with pytest.raises(TypeError):
        fresh.update_dataset(SAN_JOSE, target.remote_id, remote_id="x")

    added = fresh.add_dataset(SEATTLE, title="Vehicle Pursuits 2026", categories=["vehicle_pursuits"])
    assert len(added) == 9 and added[4] == "-"
    truth = fresh.dataset(SEATTLE, added)
    assert truth.police and truth.categories == ["vehicle_pursuits"] and truth.created_at == fresh.now
    assert cetera(fresh, ids=added).json()["results"][0]["resource"]["name"] == "Vehicle Pursuits 2026"
    hub_added = fresh.add_dataset(INDY, title="Street Light Outages")
    assert not fresh.dataset(INDY, hub_added).police
    assert hub_added in {d["identifier"] for d in get(fresh, f"https://{INDY}{HUB_FEED}").json()["dataset"]}
    with pytest.raises(ValueError):
        fresh.add_dataset(SEATTLE, title="x", categories=["not_a_category"])

    fresh.remove_dataset(SEATTLE, added)
    assert cetera(fresh, ids=added).json()["resultSetSize"] == 0
    assert get(fresh, f"https://{SEATTLE}/api/views/{added}.json").status_code == 404
    fresh.remove_dataset(SAN_JOSE, target.remote_id)
    assert ckan(fresh, "package_show", id=target.remote_id).status_code == 404
    with pytest.raises(KeyError):
        fresh.remove_dataset(SAN_JOSE, target.remote_id)


def test_concurrent_requests_while_the_catalog_changes(fresh):
    errors: list[str] = []

    def reader() -> None:
        with requests.Session() as session:
            for _ in range(10):
                r = session.get(fresh.route(f"https://{SEATTLE}/api/catalog/v1?limit=100"), timeout=10)
                if r.status_code != 200 or "results" not in r.json():
                    errors.append(r.text[:200])

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for t in threads:
        t.start()
    for n in range(20):
        rid = fresh.add_dataset(SEATTLE, title=f"Arrests batch {n}", categories=["arrests"])
        fresh.advance(0.5)
        fresh.remove_dataset(SEATTLE, rid)
    for t in threads:
        t.join()
    assert errors == []
    assert fresh.request_count(SEATTLE, "/api/catalog/v1") == 8 * 10


# --- faults -----------------------------------------------------------------------------------------


def test_500_and_429_for_a_counted_number_of_requests(fresh):
    fresh.inject(SEATTLE, "500", count=1)
    first = cetera(fresh)
    assert first.status_code == 500 and "text/html" in first.headers["Content-Type"]
    assert cetera(fresh).status_code == 200
    fresh.inject(SEATTLE, "429", count=2)
    limited = cetera(fresh)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    assert cetera(fresh).status_code == 429 and cetera(fresh).status_code == 200
    assert [r.fault for r in fresh.requests(SEATTLE)] == ["500", None, "429", "429", None]


def test_timeout_fault_answers_after_the_client_gave_up(fresh):
    fresh.fault_delay_s = 1.0
    fresh.inject(SEATTLE, Fault.TIMEOUT, count=1)
    started = time.perf_counter()
    with pytest.raises(requests.Timeout):
        cetera(fresh, timeout=0.3)
    assert time.perf_counter() - started < 1.0
    assert cetera(fresh).status_code == 200


def test_malformed_and_truncated_bodies(fresh):
    fresh.inject(SEATTLE, "malformed", count=1)
    bad = cetera(fresh)
    assert bad.status_code == 200
    with pytest.raises(ValueError):
        bad.json()
    fresh.inject(SEATTLE, "truncated", count=1)
    with pytest.raises(requests.RequestException):
        cetera(fresh)
    assert cetera(fresh).json()["results"]


def test_paging_loop_serves_the_first_page_for_every_page(fresh):
    first = cetera(fresh, limit=50, offset=0, order="dataset_id").json()
    fresh.inject(SEATTLE, "paging_loop")
    assert cetera(fresh, limit=50, offset=100, order="dataset_id").json() == first
    ckan_first = ckan(fresh, "package_search", host=VIRGINIA, rows=20).json()
    fresh.inject(VIRGINIA, "paging_loop")
    looped = requests.post(
        fresh.route(f"https://{VIRGINIA}/api/action/package_search"), json={"rows": 20, "start": 40}, timeout=10
    ).json()
    assert looped["result"]["results"] == ckan_first["result"]["results"]
    fresh.clear_faults()
    assert cetera(fresh, limit=50, offset=100, order="dataset_id").json() != first


def test_oversize_streams_without_content_length(fresh):
    assert fresh.oversize_bytes >= 64 * 1024 * 1024  # bigger than the harvesters' default cap
    fresh.oversize_bytes = 3 * 1024 * 1024
    fresh.inject(SEATTLE, "oversize", count=1)
    with requests.get(fresh.route(f"https://{SEATTLE}/api/catalog/v1"), stream=True, timeout=10) as r:
        assert r.status_code == 200 and "Content-Length" not in r.headers
        total = sum(len(chunk) for chunk in r.iter_content(64 * 1024))
    assert total >= 3 * 1024 * 1024 - 300 * 1024
    assert cetera(fresh).status_code == 200


def test_schema_drift_renames_and_drops_fields(fresh):
    fresh.inject("*", "schema_drift")
    drifted = cetera(fresh).json()
    assert "results" not in drifted and "data" in drifted
    search = ckan(fresh, "package_search").json()
    assert search["success"] is True and "results" not in search["result"]
    feed = get(fresh, f"https://{INDY}{HUB_FEED}").json()
    assert "dataset" not in feed
    rid = fresh.datasets(SEATTLE)[0].remote_id
    assert "columns" not in get(fresh, f"https://{SEATTLE}/api/views/{rid}.json").json()


def test_faults_by_path_by_url_and_clearing(fresh):
    fresh.inject(SEATTLE, "500", path_contains="offset=100")
    assert cetera(fresh, offset=0).status_code == 200
    assert cetera(fresh, offset=100).status_code == 500
    assert get(fresh, f"https://{SAN_JOSE}/api/3/action/package_search?offset=100").status_code == 200
    fresh.clear_faults()
    assert cetera(fresh, offset=100).status_code == 200
    picked = requests.get(f"{fresh.base_url}/_fault/429/{SEATTLE}/api/catalog/v1", timeout=5)
    assert picked.status_code == 429
    with pytest.raises(ValueError):
        fresh.inject(SEATTLE, "meltdown")
    assert fresh.request_count(SEATTLE, "offset=100") == 2
    assert fresh.request_count(SAN_JOSE) == 1 and fresh.request_count() == 5


def test_latency_is_added_to_every_response(sim_seed):
    with PortalSimulator(sim_seed, latency_ms=150) as slow:
        started = time.perf_counter()
        assert cetera(slow, limit=1).status_code == 200
        assert time.perf_counter() - started >= 0.15


# --- standalone process ---------------------------------------------------------------------------------


def test_python_m_simulator_prints_its_base_url(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--port", "0", "--seed-number", "9"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        info = requests.get(url + "/_sim", timeout=5).json()
        assert info["seed_number"] == 9 and len(info["portals"]) == 71
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_socrata_portal_listed_with_its_data_json_serves_both_and_can_hide_from_data_json(tmp_path):
    from tests.seeds import SOCRATA_HOST, seed_with_socrata_data_json

    # the host keeps its Socrata API whichever of its two sources the seed lists first
    for first in (True, False):
        seed = seed_with_socrata_data_json(tmp_path / str(first), data_json_first=first)
        assert [p.platform for p in seed.sources(only=["seattle-wa"])][:2] == (
            ["dcat_us", "socrata"] if first else ["socrata", "dcat_us"]
        )
        spec = next(s for s in specs_from_seed(seed) if s.host == SOCRATA_HOST)
        assert spec.platform == "socrata"
    with PortalSimulator(seed, seed_number=2015, datasets_per_portal=(20, 30)) as s:

        def listed() -> tuple[set[str], set[str]]:
            catalog = requests.get(s.route(f"https://{SOCRATA_HOST}/api/catalog/v1?limit=1000"), timeout=10).json()
            feed = requests.get(s.route(f"https://{SOCRATA_HOST}/data.json"), timeout=10).json()
            return (
                {r["resource"]["id"] for r in catalog["results"]},
                {d["identifier"].rsplit("/", 1)[-1] for d in feed["dataset"]},
            )

        api, feed = listed()
        assert feed and feed <= api  # the data.json lists the catalog's datasets (but charts and stories)
        hidden = sorted(feed)[0]
        s.update_dataset(SOCRATA_HOST, hidden, hide_from_data_json=True)
        api_after, feed_after = listed()
        assert api_after == api and feed_after == feed - {hidden}
        views = requests.get(s.route(f"https://{SOCRATA_HOST}/api/views/{hidden}.json"), timeout=10).json()
        assert views["hideFromDataJson"] is True
