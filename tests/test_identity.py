"""The dataset identity key (catalog/identity.py), on the real recorded portal responses."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from catalog.identity import RULES, dataset_key, normalise_url, platform_rank
from catalog.ids import source_id
from catalog.record import CatalogRecord, Distribution
from catalog.vocabulary import PortalPlatform
from harvesters import registry
from harvesters.base import SourceContext
from harvesters.detect import detect_platform
from tests.conftest import reference_dir
from tests.factories import make_record

FETCHED_AT = datetime(2024, 1, 1, tzinfo=UTC)
GOLDEN = Path(__file__).resolve().parent / "golden"


def _context(platform: str, url: str, portal_url: str, portal_platform: PortalPlatform | None) -> SourceContext:
    return SourceContext(
        source_id=source_id(platform, url),
        platform=platform,
        url=url,
        portal_url=portal_url,
        portal_platform=portal_platform,
        jurisdictions=("example-city-xx",),
    )


def _map(relative: str, ctx: SourceContext) -> list[CatalogRecord]:
    path = reference_dir() / "portal-samples" / relative
    document: Any = json.loads(path.read_text(encoding="utf-8"))
    harvester = registry.get(detect_platform(document))
    raws = harvester.split_document(document, ctx.url, FETCHED_AT)
    return [harvester.map_record(raw, ctx) for raw in raws]


SEATTLE = _context("socrata", "https://data.seattle.gov", "https://data.seattle.gov", PortalPlatform.SOCRATA)
REDMOND_DATA_JSON = _context(
    "dcat_us", "https://data.redmond.gov/data.json", "https://data.redmond.gov", PortalPlatform.SOCRATA
)


def test_a_socrata_catalog_entry_and_its_views_document_have_one_key() -> None:
    listing = _map("socrata/seattle_cetera_catalog_v1_search_results.json", SEATTLE)
    (views,) = _map("socrata/seattle_spd_911_incident_response_views_3k2p-39jp.json", SEATTLE)
    # the listing's landing page /d/<4x4>; the views document has none, its exports /api/views/<4x4>/rows.*
    assert listing[0].landingPage == "https://data.seattle.gov/d/3k2p-39jp"
    assert views.landingPage is None
    assert dataset_key(listing[0]) == dataset_key(views) == "socrata:data.seattle.gov/3k2p-39jp"
    assert dataset_key(listing[1]) == "socrata:data.seattle.gov/y6ef-jf2w"


def test_a_socrata_data_json_names_the_same_datasets_by_their_4x4() -> None:
    records = {r.identifier: r for r in _map("socrata/redmond_wa_socrata_data.json_pod-v1.0_2013-08-28.json",
                                             REDMOND_DATA_JSON)}  # fmt: skip
    # pod-v1.0: a bare 4x4 identifier, exports on /api/views/<4x4>/rows.* and a /resource/<4x4> API
    tabular = records["h54f-2ybz"]
    assert any("/api/views/h54f-2ybz/rows.csv" in (d.downloadURL or "") for d in tabular.distribution)
    assert dataset_key(tabular) == "socrata:data.redmond.gov/h54f-2ybz"
    # the same dataset as the Socrata catalog would list it (landing page /d/<4x4>) has the same key
    listed = tabular.model_copy(update={"landingPage": "https://data.redmond.gov/d/h54f-2ybz", "distribution": []})
    assert dataset_key(listed) == dataset_key(tabular)
    # a file asset's exports (/api/file_data/…) name no 4x4: the bare identifier on the Socrata portal does
    blob = records["t4s2-2j9i"]
    assert not any("t4s2-2j9i" in (d.downloadURL or d.accessURL or "") for d in blob.distribution)
    assert dataset_key(blob) == "socrata:data.redmond.gov/t4s2-2j9i"
    keys = [dataset_key(r) for r in records.values()]
    assert len(set(keys)) == len(keys) == 6


def test_a_bare_4x4_is_no_key_off_a_socrata_portal() -> None:
    ctx = _context("dcat_us", "https://portal.example.gov/data.json", "https://portal.example.gov", None)
    records = {r.identifier: r for r in _map("socrata/redmond_wa_socrata_data.json_pod-v1.0_2013-08-28.json", ctx)}
    assert dataset_key(records["h54f-2ybz"]) == "socrata:data.redmond.gov/h54f-2ybz"  # its URLs still say so
    # "t4s2-2j9i" could be any portal's id: its URL identity is unknown, so it merges with nothing
    assert dataset_key(records["t4s2-2j9i"]) is None


def test_the_same_4x4_on_another_socrata_site_is_another_dataset() -> None:
    (views,) = _map("socrata/seattle_spd_911_incident_response_views_3k2p-39jp.json", SEATTLE)
    elsewhere = _context("socrata", "https://data.cityofchicago.org", "https://data.cityofchicago.org",
                         PortalPlatform.SOCRATA)  # fmt: skip
    (other,) = _map("socrata/seattle_spd_911_incident_response_views_3k2p-39jp.json", elsewhere)
    assert dataset_key(views) != dataset_key(other) == "socrata:data.cityofchicago.org/3k2p-39jp"


def test_a_socrata_portal_served_under_a_path_keeps_the_path_in_its_site() -> None:
    # the demo's simulator serves https://data.seattle.gov/… at http://127.0.0.1:PORT/data.seattle.gov/…
    routed = make_record("3k2p-39jp", "Use of Force").model_copy(
        update={"landingPage": "http://127.0.0.1:8765/data.seattle.gov/d/3k2p-39jp"}
    )
    assert dataset_key(routed) == "socrata:127.0.0.1:8765/data.seattle.gov/3k2p-39jp"


def test_hub_feed_items_are_keyed_by_their_layer_or_item() -> None:
    ctx = _context("dcat_us", "https://drpep-sce2.opendata.arcgis.com/api/feed/dcat-us/1.1.json",
                   "https://drpep-sce2.opendata.arcgis.com", PortalPlatform.ARCGIS_HUB)  # fmt: skip
    records = _map("arcgis/sce_drpep_arcgis_hub_dcat-us-1.1_feed_TRUNCATED-5-datasets.json", ctx)
    keys = [dataset_key(r) for r in records]
    service = "arcgis-layer:services5.arcgis.com/z6hi6krjkhvhno0r/arcgis/rest/services/ica_layer/featureserver"
    # the whole service (its GeoService has no layer number) is its item; each sublayer is its layer
    assert keys == [
        "arcgis-item:23f48820904b46c38f0d4f2d75c69d23",
        f"{service}/0",
        f"{service}/1",
        f"{service}/2",
        f"{service}/3",
    ]
    # the ArcGIS Server record of layer 1 (its landing page is the layer URL) is the same dataset
    server = make_record("ICA_Layer/FeatureServer/1", "ICA").model_copy(
        update={
            "identifier": "https://services5.arcgis.com/z6hI6KRjKHvhNO0r/arcgis/rest/services/ICA_Layer/FeatureServer/1",
            "distribution": [],
        }
    )
    assert dataset_key(server) == keys[2]


def test_an_arcgis_item_is_one_dataset_on_any_hub() -> None:
    item = "23f48820904b46c38f0d4f2d75c69d23"
    city = make_record("a", "Calls").model_copy(
        update={"identifier": f"https://www.arcgis.com/home/item.html?id={item}&sublayer=2", "distribution": []}
    )
    county = make_record("b", "Calls").model_copy(
        update={
            "identifier": "county-calls",
            "landingPage": f"https://hub.arcgis.com/datasets/{item}_2",
            "distribution": [],
        }
    )
    download = make_record("c", "Calls").model_copy(
        update={
            "identifier": f"https://county.example.gov/api/download/v1/items/{item}/csv?layers=2",
            "distribution": [],
        }
    )
    assert dataset_key(city) == dataset_key(county) == dataset_key(download) == f"arcgis-item:{item}/2"


def test_ckan_packages_are_keyed_by_their_uuid() -> None:
    ctx = _context("ckan", "https://demo.ckan.org", "https://demo.ckan.org", PortalPlatform.CKAN)
    records = _map("ckan/demo.ckan.org_package_search_response_3-results.json", ctx)
    for record in records:
        assert dataset_key(record) == f"uuid:{record.identifier}"
    (shown,) = _map("ckan/demo.ckan.org_package_show_response.json", ctx)
    assert dataset_key(shown) in {dataset_key(r) for r in records}


def test_web_page_links_are_keyed_by_the_file_not_the_page() -> None:
    golden = GOLDEN / "html" / "rutlandcitypolice_open-data_simulated-crawl.jsonl"
    lines = golden.read_text(encoding="utf-8").splitlines()
    records = [CatalogRecord.model_validate(json.loads(line)) for line in lines if line.strip()]
    assert len({r.landingPage for r in records}) == 2 < len(records)  # the links sit on two pages
    keys = [dataset_key(r) for r in records]
    assert len(set(keys)) == len(keys)
    assert keys[0] == f"url:{normalise_url(records[0].identifier)}"


@pytest.mark.parametrize(
    ("relative", "keyed"),
    [
        # an agency data.json with local identifiers (cftc-dc1 …) and no landing pages: nothing to merge on
        ("dcat/cftc_gov_data.json_dcat-us-1.1_datagov-harvester-fixture.json", 0),
        ("opendatasoft/campbelltown-nsw_explore_v2.0_catalog_datasets_TRUNCATED-3-of-6-results.json", 3),
        ("ckan/catalog.data.gov_hud_package_dicts_3-datasets_datajson-harvested.json", 3),
    ],
)
def test_no_two_records_of_a_sample_share_a_key(relative: str, keyed: int) -> None:
    ctx = _context("dcat_us", "https://portal.example.gov", "https://portal.example.gov", None)
    keys = [k for k in (dataset_key(r) for r in _map(relative, ctx)) if k is not None]
    assert len(keys) == keyed
    assert len(set(keys)) == len(keys), keys


def test_never_a_key_from_a_title_or_a_site_home_page() -> None:
    def bare(remote_id: str, landing_page: str | None) -> CatalogRecord:
        record = make_record(remote_id, "Use of Force Incidents")
        return record.model_copy(update={"identifier": remote_id, "landingPage": landing_page, "distribution": []})

    # same title, no URL naming the dataset: nothing to know them by, so no key (never merged)
    assert dataset_key(bare("uof-1", None)) is None
    assert dataset_key(bare("uof-2", None)) is None
    # a site's home page is no dataset's page
    assert dataset_key(bare("uof-3", "https://www.city.example.gov/")) is None
    assert dataset_key(bare("uof-4", "https://www.city.example.gov/police/use-of-force")) == (
        "url:city.example.gov/police/use-of-force"
    )


def test_distributions_that_name_different_datasets_give_no_key() -> None:
    record = make_record("bundle", "Stops").model_copy(
        update={
            "identifier": "stops-bundle",
            "landingPage": None,
            "distribution": [
                Distribution(downloadURL="https://data.example.gov/api/views/aaaa-1111/rows.csv"),
                Distribution(downloadURL="https://data.example.gov/api/views/bbbb-2222/rows.csv"),
            ],
        }
    )
    assert dataset_key(record) is None


def test_url_normalisation() -> None:
    assert normalise_url("https://WWW.Example.gov:443/a/B/?y=2&x=1#top") == "example.gov/a/B?x=1&y=2"
    assert normalise_url("http://example.gov:8080/a") == "example.gov:8080/a"
    assert normalise_url("ftp://example.gov/a") is None
    assert normalise_url("not a url") is None
    long = make_record("long", "Long").model_copy(update={"identifier": "https://example.gov/" + "a" * 1000})
    key = dataset_key(long)
    assert key is not None and len(key) <= 300 and key.startswith("url:example.gov/aaa")


def test_rules_and_platform_ranks_are_documented() -> None:
    from catalog import identity

    doc = identity.__doc__ or ""
    for rule in RULES:
        assert f"``{rule.name}``" in doc, rule.name
    assert platform_rank("socrata") < platform_rank("dcat_us") < platform_rank("html")
    assert platform_rank("some_future_platform") == platform_rank("dcat_us")
