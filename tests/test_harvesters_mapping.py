"""Golden tests: every recorded portal response, mapped, equals its committed expected records.

Each sample under ../shared/reference/portal-samples/{socrata,ckan,dcat,opendatasoft}/ (plus the
ArcGIS Hub DCAT-US feed, the ArcGIS Server layer document and the ArcGIS Online search response) is
detected, split and mapped with one fixed SourceContext; the records must equal
tests/golden/<platform>/<sample>.jsonl and be valid non-federal DCAT-US. A new sample file is a new
test. After an intended mapping change, regenerate with ``PDI_UPDATE_GOLDEN=1 pytest <this file>``
and review the diff.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from catalog.dcat import dataset_errors
from catalog.ids import source_id
from catalog.record import CatalogRecord
from harvesters import registry
from harvesters.base import RawRecord, SourceContext
from harvesters.convert import NO_DESCRIPTION, MappingTable
from harvesters.detect import detect_platform

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
SAMPLES = REFERENCE / "portal-samples"
GOLDEN = Path(__file__).resolve().parent / "golden"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]
EXTRA_SAMPLES = (
    "arcgis/sce_drpep_arcgis_hub_dcat-us-1.1_feed_TRUNCATED-5-datasets.json",
    "arcgis/columbia_mo_arcgis_rest_layer_metadata_f-json.json",
    "arcgis/arcgis_online_sharing_rest_search_response_TRUNCATED-4-of-46-results.json",
)
SAMPLE_DIRS = ("socrata", "ckan", "dcat", "opendatasoft")
UPDATE = os.environ.get("PDI_UPDATE_GOLDEN") == "1"
FETCHED_AT = datetime(2024, 1, 1, tzinfo=UTC)
PORTAL = "https://portal.example.gov"
MY_PLATFORMS = ("arcgis_hub_search", "arcgis_online", "arcgis_server", "ckan", "dcat_us", "opendatasoft", "socrata")
#: platforms whose raw content nests the portal's document one level down
NESTED = ("arcgis_hub_search", "arcgis_server", "opendatasoft", "socrata")
MISSING = "reference-samples-missing"


def _sample_ids() -> list[str]:
    if not SAMPLES.is_dir():
        return [MISSING]
    found = [p.relative_to(SAMPLES).as_posix() for d in SAMPLE_DIRS for p in (SAMPLES / d).glob("*.json")]
    return sorted(found) + list(EXTRA_SAMPLES)


def _require_samples() -> None:
    if not SAMPLES.is_dir():
        pytest.fail(
            f"the recorded portal samples are missing: expected {SAMPLES} "
            "(the shared reference folder next to the repository)"
        )


def _source(platform: str) -> SourceContext:
    return SourceContext(
        source_id=source_id(platform, PORTAL),
        platform=platform,
        url=PORTAL,
        portal_url=PORTAL,
        jurisdictions=("example-city-xx",),
    )


def _load(relative: str) -> Any:
    return json.loads((SAMPLES / relative).read_text(encoding="utf-8"))


def _map_sample(relative: str) -> tuple[str, list[RawRecord], list[CatalogRecord]]:
    document = _load(relative)
    platform = detect_platform(document)
    harvester = registry.get(platform)
    raws = list(harvester.split_document(document, f"reference/portal-samples/{relative}", FETCHED_AT))
    source = _source(platform)
    return platform, raws, [harvester.map_record(raw, source) for raw in raws]


def _canonical(record: CatalogRecord) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(record.to_dcat(), sort_keys=True, ensure_ascii=False))
    return loaded


@pytest.mark.parametrize("relative", _sample_ids())
def test_sample_maps_to_its_golden_records(relative: str) -> None:
    _require_samples()
    platform, raws, records = _map_sample(relative)
    assert records, f"{relative} gave no records"
    for raw, record in zip(raws, records, strict=True):
        assert record.title.strip(), raw.remote_id
        assert dataset_errors(record.to_dcat()) == [], raw.remote_id
        assert record.pdi.categories == []
    golden = GOLDEN / platform / f"{Path(relative).stem}.jsonl"
    actual = [_canonical(r) for r in records]
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        lines = (json.dumps(r, sort_keys=True, ensure_ascii=False) for r in actual)
        golden.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    if not golden.exists():
        pytest.fail(f"no golden file {golden}; create it with PDI_UPDATE_GOLDEN=1 and review it")
    expected = [json.loads(line) for line in golden.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert actual == expected


def test_every_golden_file_has_its_sample() -> None:
    _require_samples()
    expected = {f"{detect_platform(_load(rel))}/{Path(rel).stem}.jsonl" for rel in _sample_ids() if rel != MISSING}
    # platforms without a recorded portal sample keep theirs under tests/fixtures (tests/test_harvesters_html.py,
    # tests/test_harvesters_arcgis_hub_search.py)
    expected |= {p.relative_to(FIXTURES).as_posix() for p in FIXTURES.glob("*/*.jsonl")}
    expected |= {f"{p.parent.name}/{p.stem}.jsonl" for p in FIXTURES.glob("*/*.json")}
    present = {p.relative_to(GOLDEN).as_posix() for p in GOLDEN.glob("*/*.jsonl")}
    assert present == expected


# --------------------------------------------------------------------------------------------------
# the quirks of the recorded samples
# --------------------------------------------------------------------------------------------------


def _records(relative: str) -> list[CatalogRecord]:
    _require_samples()
    return _map_sample(relative)[2]


def test_seattle_views_document_columns_and_rows_updated_at() -> None:
    (record,) = _records("socrata/seattle_spd_911_incident_response_views_3k2p-39jp.json")
    assert len(record.pdi.columns) == 19
    assert record.pdi.columns[0].model_dump() == {
        "name": "CAD CDW ID",
        "field_name": "cad_cdw_id",
        "type": "text",
        "description": "CAD CDW ID",
    }
    assert record.pdi.columns[-1].name == "At Scene Time"
    assert record.pdi.columns[-1].type == "calendar_date"
    assert record.pdi.columns[-1].description is None
    assert record.pdi.freshness.last_data_update == datetime.fromtimestamp(1433350568, UTC)
    assert record.modified == "2015-06-03T16:56:08Z"
    assert record.pdi.freshness.last_metadata_update == datetime.fromtimestamp(1390334301, UTC)
    assert record.pdi.record_count == 1257418
    assert record.pdi.freshness.declared_frequency == "hourly"
    assert record.accrualPeriodicity == "R/PT1H"
    assert record.theme == ["Public Safety"]
    assert record.keyword == ["911", "police", "crime", "incident response"]
    assert record.license == "http://creativecommons.org/publicdomain/zero/1.0/legalcode"


def test_cetera_duplicate_results_are_read_once() -> None:
    _require_samples()
    document = _load("socrata/seattle_cetera_catalog_v1_search_results.json")
    assert len(document["results"]) == 5
    platform, raws, records = _map_sample("socrata/seattle_cetera_catalog_v1_search_results.json")
    assert platform == "socrata"
    assert [r.remote_id for r in raws] == ["3k2p-39jp", "y6ef-jf2w"]
    assert records[0].landingPage == "https://data.seattle.gov/d/3k2p-39jp"
    assert records[1].modified == "2016-01-28T00:57:00Z"
    # the old listing's updatedAt may be a metadata edit: not evidence of a data update
    assert records[1].pdi.freshness.last_data_update is None
    assert records[1].pdi.freshness.accrual_periodicity == "R/P1M"


def test_views_and_listing_of_one_dataset_get_the_same_id() -> None:
    views = _records("socrata/seattle_spd_911_incident_response_views_3k2p-39jp.json")[0]
    listing = _records("socrata/seattle_cetera_catalog_v1_search_results.json")[0]
    assert views.pdi.id == listing.pdi.id


def test_cftc_repeating_duration_modified() -> None:
    records = {r.identifier: r for r in _records("dcat/cftc_gov_data.json_dcat-us-1.1_datagov-harvester-fixture.json")}
    weekly = records["cftc-dc1"]
    assert weekly.modified == "R/P1W"
    assert weekly.pdi.freshness.accrual_periodicity == "R/P1W"
    assert weekly.pdi.freshness.last_data_update is None
    assert records["cftc-dc2"].pdi.freshness.accrual_periodicity == "R/P1M"
    dated = records["cftc-dc5"]
    assert dated.modified == "2011-06-30"
    assert dated.pdi.freshness.last_data_update == datetime(2011, 6, 30, tzinfo=UTC)
    assert dated.pdi.freshness.accrual_periodicity is None


def test_sce_hub_feed_bad_email_empty_spatial_and_theme_html() -> None:
    relative = "arcgis/sce_drpep_arcgis_hub_dcat-us-1.1_feed_TRUNCATED-5-datasets.json"
    _require_samples()
    first_raw = _load(relative)["dataset"][0]
    assert dataset_errors(first_raw) != []  # as served it is not valid: the mapping repairs it
    first, second = _records(relative)[:2]
    assert first.contactPoint.fn == "ESRI_SUPPORT1"
    assert first.contactPoint.hasEmail is None
    assert first.spatial is None and "spatial" not in first.to_dcat()
    assert first.theme == [] and "theme" not in first.to_dcat()
    assert first.license is None
    assert "<" not in first.description and "&nbsp;" not in first.description
    assert first.description.endswith("Note: ICA monthly refresh for June 2026 is completed.")
    assert second.spatial == "-120.1589,33.3985,-114.0215,38.2021"
    assert second.theme == ["geospatial"]
    assert first.pdi.freshness.last_data_update == datetime(2025, 6, 16, 13, 30, 3, tzinfo=UTC)


def test_redmond_pod_v10_array() -> None:
    relative = "socrata/redmond_wa_socrata_data.json_pod-v1.0_2013-08-28.json"
    records = _records(relative)
    assert len(records) == 6  # the entry describing data.json itself is not a dataset
    assert all("data.json" not in r.identifier for r in records)
    historic = next(r for r in records if r.identifier == "h54f-2ybz")
    assert historic.keyword == []  # keyword: "" is no keyword
    assert historic.accessLevel == "public"  # v1.0 wrote "Public"
    assert historic.description == NO_DESCRIPTION
    assert historic.publisher.name == "portal.example.gov"
    assert historic.issued == "2013-03-19"
    assert historic.license is None  # "Public Domain\nPlanning Department" is prose, not a URL
    downloads = {d.mediaType: d.downloadURL for d in historic.distribution if d.downloadURL}
    assert downloads["text/csv"] == "https://data.redmond.gov/api/views/h54f-2ybz/rows.csv?accessType=DOWNLOAD"
    assert any(d.accessURL == "https://data.redmond.gov/resource/h54f-2ybz" for d in historic.distribution)


def test_redmond_comma_string_keywords() -> None:
    _require_samples()
    relative = "socrata/redmond_wa_socrata_data.json_pod-v1.0_2013-08-28.json"
    document = _load(relative)
    document[3]["keyword"] = "police, use of force ,crime,, Police"
    harvester = registry.get("dcat_us")
    raws = [r for r in harvester.split_document(document, relative, FETCHED_AT) if r.remote_id == "h54f-2ybz"]
    record = harvester.map_record(raws[0], _source("dcat_us"))
    assert record.keyword == ["police", "use of force", "crime"]
    assert dataset_errors(record.to_dcat()) == []


def test_hud_extras_from_a_harvested_data_json() -> None:
    records = _records("ckan/catalog.data.gov_hud_package_dicts_3-datasets_datajson-harvested.json")
    hud = records[0]
    assert hud.identifier == "HUD001"  # the data.json identifier, not CKAN's uuid
    assert hud.pdi.source.remote_id == "8e81ab5c-d959-4401-8ac1-d73f1820c55d"
    assert hud.publisher.name == "US Department of Housing and Urban Development"
    assert hud.modified == "2006-12-01"
    assert hud.temporal == "1993/2005"
    assert hud.describedBy == "http://www.HUDuser.org/portal/datasets/manu.html"
    assert hud.accessLevel == "public"
    assert hud.contactPoint.fn == "Shula Markland"
    assert hud.contactPoint.hasEmail == "mailto:Shula.Markland@HUD.gov"
    assert hud.pdi.freshness.last_data_update == datetime(2006, 12, 1, tzinfo=UTC)
    assert hud.pdi.freshness.last_metadata_update == datetime(2015, 2, 25, 23, 14, 3, 663554, tzinfo=UTC)
    assert hud.theme == ["BusinessUSA", "Consumer", "Energy", "Finance"]
    assert "bureauCode" not in hud.to_dcat()
    (dist,) = hud.distribution
    assert dist.downloadURL == "http://www.HUDuser.org/portal/datasets/manu/subprime_2006_distributed.xls"
    assert dist.mediaType == "application/xls"


def test_demo_ckan_package_without_organization() -> None:
    (record,) = _records("ckan/demo.ckan.org_package_show_response.json")
    assert record.publisher.name == "portal.example.gov"
    assert record.contactPoint.fn == "TKKIM"
    assert record.landingPage == "https://portal.example.gov/dataset/100-validated-species-of-plants"
    assert record.distribution[0].mediaType == "text/csv"


# --------------------------------------------------------------------------------------------------
# robustness: malformed or missing fields never cost the record
# --------------------------------------------------------------------------------------------------

JUNK: tuple[Any, ...] = (None, "", "   ", 0, -1, True, [], {}, ["x", None], {"a": {"b": 1}}, "<p>&nbsp;</p>")


def _key_paths(content: dict[str, Any], depth: int = 2) -> Iterator[tuple[str, ...]]:
    for key, value in content.items():
        yield (key,)
        if depth > 1 and isinstance(value, dict):
            for sub in _key_paths(value, depth - 1):
                yield (key, *sub)


def _replaced(content: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(content)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


@pytest.mark.parametrize("relative", _sample_ids())
def test_junk_in_any_field_still_maps_to_a_valid_record(relative: str) -> None:
    _require_samples()
    platform, raws, _ = _map_sample(relative)
    harvester = registry.get(platform)
    raw = raws[0]
    depth = 3 if platform in NESTED else 2
    for path in _key_paths(raw.content, depth):
        for junk in JUNK:
            changed = RawRecord(raw.remote_id, raw.source_url, raw.fetched_at, _replaced(raw.content, path, junk))
            record = harvester.map_record(changed, _source(platform))
            assert record.title.strip(), (path, junk)
            assert dataset_errors(record.to_dcat()) == [], (path, junk)


@pytest.mark.parametrize("platform", MY_PLATFORMS)
def test_empty_content_maps_to_defaults(platform: str) -> None:
    harvester = registry.get(platform)
    record = harvester.map_record(RawRecord("abcd-1234", "x", FETCHED_AT, {}), _source(platform))
    assert record.title == "abcd-1234"
    assert record.description == NO_DESCRIPTION
    assert record.identifier == "abcd-1234"
    assert dataset_errors(record.to_dcat()) == []


@pytest.mark.parametrize("platform", MY_PLATFORMS)
def test_a_record_without_identity_is_a_mapping_error(platform: str) -> None:
    from harvesters.base import MappingError

    with pytest.raises(MappingError):
        registry.get(platform).map_record(RawRecord("", "x", FETCHED_AT, {}), _source(platform))


# --------------------------------------------------------------------------------------------------
# docs/mapping.md is generated from the same tables
# --------------------------------------------------------------------------------------------------


def _mapping_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mapping_docs", REPO / "scripts" / "mapping_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("platform", MY_PLATFORMS)
def test_platform_has_a_mapping_table(platform: str) -> None:
    table = getattr(registry.get(platform), "mapping", None)
    assert isinstance(table, MappingTable) and table.platform == platform


def test_docs_mapping_md_is_up_to_date() -> None:
    docs = REPO / "docs" / "mapping.md"
    assert docs.exists(), "docs/mapping.md is missing; run: python scripts/mapping_docs.py"
    assert docs.read_text(encoding="utf-8") == _mapping_docs().render(), (
        "docs/mapping.md is out of date; run: python scripts/mapping_docs.py"
    )
    for platform in MY_PLATFORMS:
        assert f"## `{platform}`" in docs.read_text(encoding="utf-8")
