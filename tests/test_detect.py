"""detect_platform: exactly one harvester must recognize a recorded response."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest

from catalog.record import CatalogRecord
from harvesters import registry
from harvesters.base import GatherStats, Harvester, RawRecord, SourceContext
from harvesters.detect import detect_platform
from harvesters.http import HttpClient

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "reference" / "portal-samples"

# Where a sample lives is not always what reads it: Redmond's data.json was written by Socrata but
# is a DCAT-US (POD v1.0) document, and the Hub feed is DCAT-US too.
EXPECTED = {
    "socrata/seattle_cetera_catalog_v1_search_results.json": "socrata",
    "socrata/seattle_spd_911_incident_response_views_3k2p-39jp.json": "socrata",
    "socrata/redmond_wa_socrata_data.json_pod-v1.0_2013-08-28.json": "dcat_us",
    "ckan/demo.ckan.org_package_search_response_3-results.json": "ckan",
    "ckan/demo.ckan.org_package_show_response.json": "ckan",
    "ckan/catalog.data.gov_hud_package_dicts_3-datasets_datajson-harvested.json": "ckan",
    "dcat/cftc_gov_data.json_dcat-us-1.1_datagov-harvester-fixture.json": "dcat_us",
    "arcgis/sce_drpep_arcgis_hub_dcat-us-1.1_feed_TRUNCATED-5-datasets.json": "dcat_us",
    "arcgis/columbia_mo_arcgis_rest_layer_metadata_f-json.json": "arcgis_server",
    "arcgis/arcgis_online_sharing_rest_search_response_TRUNCATED-4-of-46-results.json": "arcgis_online",
    "opendatasoft/campbelltown-nsw_explore_v2.0_catalog_dataset_weather-stations.json": "opendatasoft",
    "opendatasoft/campbelltown-nsw_explore_v2.0_catalog_datasets_TRUNCATED-3-of-6-results.json": "opendatasoft",
    "opendatasoft/data.economie.gouv.fr_explore_v2.1_catalog_datasets_1-result_include_app_metas.json": "opendatasoft",
    "opendatasoft/data.sbb.ch_explore_v2.1_catalog_datasets_12-of-61-results_recorder-reduced.json": "opendatasoft",
}


@pytest.mark.parametrize(("relative", "platform"), sorted(EXPECTED.items()))
def test_each_recorded_sample_is_detected(relative: str, platform: str) -> None:
    path = SAMPLES / relative
    if not path.exists():
        pytest.fail(f"recorded sample {path} is missing (expected /work/shared/reference next to the repo)")
    assert detect_platform(json.loads(path.read_text(encoding="utf-8"))) == platform


def test_every_recorded_sample_is_listed() -> None:
    if not SAMPLES.is_dir():
        pytest.fail(f"recorded samples missing: {SAMPLES}")
    present = {p.relative_to(SAMPLES).as_posix() for p in SAMPLES.glob("*/*.json")}
    assert present == set(EXPECTED)  # every recorded response is read by one harvester


def _envelope_variants() -> Iterator[tuple[str, Any, str]]:
    package = {"id": "p-1", "name": "use-of-force", "resources": [], "title": "Use of force"}
    yield "package_show envelope", {"success": True, "result": package}, "ckan"
    yield "bare package", package, "ckan"
    yield "package array", [package, {**package, "id": "p-2"}], "ckan"
    yield "package_search envelope", {"success": True, "result": {"count": 1, "results": [package]}}, "ckan"
    yield "empty Cetera page", {"results": [], "resultSetSize": 0}, "socrata"
    yield "empty data.json", {"@type": "dcat:Catalog", "dataset": []}, "dcat_us"
    yield "pod v1.0 array", [{"identifier": "abcd-1234", "title": "Stops"}], "dcat_us"
    layer = {"id": 0, "name": "CMPD_Officer_Traffic_Stop", "type": "Feature Layer", "fields": []}
    yield "ArcGIS layer", layer, "arcgis_server"
    yield "ArcGIS table", {**layer, "type": "Table"}, "arcgis_server"
    yield "ArcGIS group layer", {**layer, "type": "Group Layer", "fields": None}, "arcgis_server"
    yield "empty ODS v2.1 page", {"total_count": 0, "results": []}, "opendatasoft"
    yield "empty ODS v2.0 page", {"total_count": 0, "links": [], "datasets": []}, "opendatasoft"
    yield "ODS v2.1 dataset", {"dataset_id": "use-of-force", "metas": {"default": {}}}, "opendatasoft"
    yield "ODS v2.0 dataset", {"links": [], "dataset": {"dataset_id": "use-of-force", "metas": {}}}, "opendatasoft"
    item = {"id": "7826f92e8145486ea0e25d3ca7ef43d7", "type": "CSV", "owner": "opendata", "title": "Arrests"}
    yield "empty ArcGIS search", {"total": 0, "start": 1, "num": 100, "nextStart": -1, "results": []}, "arcgis_online"
    yield "ArcGIS search", {"total": 1, "start": 1, "num": 100, "nextStart": -1, "results": [item]}, "arcgis_online"
    yield "ArcGIS item", {**item, "typeKeywords": []}, "arcgis_online"
    feature = {"type": "Feature", "id": item["id"], "geometry": None, "properties": item}
    hub_page = {
        "type": "FeatureCollection",
        "numberMatched": 1,
        "numberReturned": 1,
        "links": [],
        "features": [feature],
    }
    yield "Hub Search API page", hub_page, "arcgis_hub_search"
    yield "Hub Search API record", feature, "arcgis_hub_search"


@pytest.mark.parametrize(("name", "document", "platform"), list(_envelope_variants()))
def test_small_documents_of_each_shape(name: str, document: Any, platform: str) -> None:
    assert detect_platform(document) == platform, name


@pytest.mark.parametrize(
    "document",
    [
        {},
        [],
        "text",
        3,
        None,
        {"results": "nope"},
        [1, 2],
        {"success": False, "error": {"message": "x"}},
        {"folders": ["CMPD"], "services": []},  # an ArcGIS directory holds no dataset itself
        {"error": {"code": 400, "message": "Invalid URL", "details": []}},
        {"id": 0, "name": "x", "type": "Feature Layer"},  # no fields key
        {"results": [{"dataset_id": "a", "metas": {}}]},  # no total_count
        {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"a": 1}}]},  # a GeoJSON file
        {"total": 1, "results": [{"id": "7826f92e8145486ea0e25d3ca7ef43d7", "type": "CSV"}]},  # no nextStart
    ],
)
def test_unknown_shapes_raise_a_clear_error(document: Any) -> None:
    with pytest.raises(ValueError, match="no harvester recognizes this document") as info:
        detect_platform(document)
    assert "known platforms:" in str(info.value)


class _Greedy(Harvester):
    platform: ClassVar[str] = "greedy"
    title: ClassVar[str] = "recognizes everything"

    def gather(self, source: SourceContext, http: HttpClient, stats: GatherStats) -> Iterator[RawRecord]:
        yield from ()

    @staticmethod
    def map_record(raw: RawRecord, source: SourceContext) -> CatalogRecord:
        raise NotImplementedError

    @staticmethod
    def recognizes(document: Any) -> bool:
        return True

    @staticmethod
    def split_document(document: Any, source_url: str, fetched_at: datetime) -> Iterator[RawRecord]:
        yield from ()


def test_two_claimants_raise_naming_both() -> None:
    harvesters = [*registry.all_harvesters(), _Greedy()]
    with pytest.raises(ValueError, match="several harvesters recognize this document: dcat_us, greedy"):
        detect_platform({"dataset": []}, harvesters)
