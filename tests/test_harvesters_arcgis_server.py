"""ArcGIS Server: the recorded layer's quirks, the converters, and gathers over the real simulator.

The golden test of the recorded layer document is in test_harvesters_mapping.py with the others.
Gathers here walk a seeded ``arcgis_server`` source of a :class:`PortalSimulator` on an ephemeral
port through the real :class:`HttpClient`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from catalog.dcat import dataset_errors
from catalog.ids import record_id
from harvesters import arcgis_server, registry
from harvesters.arcgis_server import esri_columns, geographic_extent, humanize, layer_title
from harvesters.base import GatherError, GatherStats, RawRecord, SourceContext
from harvesters.convert import NO_DESCRIPTION
from harvesters.http import HttpClient, HttpSettings
from pdi.runtime import jurisdiction_lookup
from scheduler.run import HarvestRun
from simulator.server import PortalSimulator
from store.store import RunStatus
from tests.conftest import reference_dir

SAMPLE = "arcgis/columbia_mo_arcgis_rest_layer_metadata_f-json.json"
HOST = "gis.charlottenc.gov"
ROOT = f"https://{HOST}/arcgis/rest/services"
FETCHED_AT = datetime(2024, 1, 1, tzinfo=UTC)
HARVESTER = registry.get("arcgis_server")


def _sample() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((reference_dir() / "portal-samples" / SAMPLE).read_text(encoding="utf-8"))
    return loaded


def _source(url: str = ROOT) -> SourceContext:
    return SourceContext(
        source_id=f"arcgis_server:{HOST}", platform="arcgis_server", url=url, portal_url=url, jurisdictions=("x-yy",)
    )


def _map(document: dict[str, Any], url: str) -> Any:
    (raw,) = HARVESTER.split_document(document, url, FETCHED_AT)
    return raw, HARVESTER.map_record(raw, _source())


# --------------------------------------------------------------------------------------------------
# the recorded layer document
# --------------------------------------------------------------------------------------------------


def test_columbia_layer_without_its_url() -> None:
    raw, record = _map(_sample(), "reference/portal-samples/" + SAMPLE)
    assert raw.remote_id == "city.COLUMBIA.addresses/2"  # no URL: name and id
    assert raw.content == {"layer": _sample()}  # untouched
    assert record.title == "Addresses"  # the SDE-qualified database.owner.table name, humanised
    assert record.description == NO_DESCRIPTION  # "description": ""
    assert record.publisher.name == HOST  # "copyrightText": "" is no publisher
    assert record.landingPage is None and record.distribution == []  # no URL to point at
    assert record.spatial is None  # its extent is in state plane feet (wkid 102697)
    assert record.modified is None and record.pdi.freshness.last_data_update is None  # no editingInfo
    columns = {c.field_name: c for c in record.pdi.columns}
    assert len(columns) == 26 and "Shape" not in columns  # the geometry is the shape, not a column
    assert columns["OBJECTID"].type == "integer" and columns["HOUSENO"].type == "integer"
    assert columns["XCOORD"].type == "number" and columns["PRE_DIR"].type == "string"
    assert columns["GlobalID"].type == "string"
    assert dataset_errors(record.to_dcat()) == []


def test_columbia_layer_read_from_its_url_gets_its_service_folder_and_links() -> None:
    url = "https://gis.example.gov/arcgis/rest/services/CMPD/Officer_Traffic_Stop/MapServer/2?f=json"
    raw, record = _map(_sample(), url)
    assert raw.remote_id == "/arcgis/rest/services/CMPD/Officer_Traffic_Stop/MapServer/2"
    assert raw.source_url == url
    assert raw.content["service"]["name"] == "CMPD/Officer_Traffic_Stop" and raw.content["folder"] == "CMPD"
    assert record.title == "Officer Traffic Stop - Addresses"
    assert record.theme == ["CMPD"]
    layer = url.removesuffix("?f=json")
    assert record.landingPage == record.identifier == layer  # the URL the document was read from
    (dist,) = record.distribution
    assert (dist.accessURL, dist.mediaType, dist.format, dist.downloadURL) == (
        layer,
        "application/json",
        "Esri REST",
        None,
    )
    assert dataset_errors(record.to_dcat()) == []


def test_edit_dates_are_epoch_milliseconds_and_data_edits_win() -> None:
    layer = {**_sample(), "editingInfo": {"lastEditDate": 1717243200000}}
    _, record = _map(layer, "x")
    assert record.modified == "2024-06-01T12:00:00Z"
    assert record.pdi.freshness.last_data_update == datetime(2024, 6, 1, 12, tzinfo=UTC)
    newer = {"lastEditDate": 1717243200000, "dataLastEditDate": 1717156800000, "schemaLastEditDate": 1717243200000}
    _, record = _map({**_sample(), "editingInfo": newer}, "x")
    assert record.pdi.freshness.last_data_update == datetime(2024, 5, 31, 12, tzinfo=UTC)  # a schema edit is no data
    assert record.pdi.freshness.last_metadata_update == datetime(2024, 6, 1, 12, tzinfo=UTC)


def test_html_description_and_copyright_text() -> None:
    layer = {**_sample(), "description": "<p>Traffic stops by <b>CMPD</b>&nbsp;officers.</p>", "copyrightText": "CMPD"}
    _, record = _map(layer, "x")
    assert record.description == "Traffic stops by CMPD officers."
    assert record.publisher.name == "CMPD"
    _, record = _map({**_sample(), "copyrightText": "Data are provided as is. " * 20}, "x")
    assert record.publisher.name == HOST  # a disclaimer is not a publisher


def _service_raw(layers: list[dict[str, Any]], keywords: str = "police,traffic stops") -> RawRecord:
    service = {
        "name": "PublicSafety/OpenData_PublicSafety",
        "type": "MapServer",
        "url": f"{ROOT}/PublicSafety/OpenData_PublicSafety/MapServer",
        "serviceDescription": "Public safety layers of the city.",
        "documentInfo": {"Keywords": keywords, "Author": "City GIS"},
        "layers": layers,
        "tables": [],
    }
    content = {"layer": {**_sample(), "name": "Parks"}, "service": service, "folder": "PublicSafety"}
    return RawRecord("/arcgis/rest/services/PublicSafety/OpenData_PublicSafety/MapServer/0", "x", FETCHED_AT, content)


def test_service_keywords_and_description_fill_a_layer_only_when_it_is_the_services_only_layer() -> None:
    shared = HARVESTER.map_record(_service_raw([{"id": 0, "name": "Parks"}, {"id": 1, "name": "Arrests"}]), _source())
    assert shared.keyword == [] and shared.description == NO_DESCRIPTION
    assert shared.title == "Open Data Public Safety - Parks"
    assert shared.theme == ["Public Safety"] and shared.publisher.name == "City GIS"
    group = {"id": 5, "name": "All", "subLayerIds": [0]}
    alone = HARVESTER.map_record(_service_raw([group, {"id": 0, "name": "Parks"}]), _source())
    assert alone.keyword == ["police", "traffic stops"]  # the group layer is no dataset
    assert alone.description == "Public safety layers of the city."


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("CMPD_Officer_Traffic_Stop", "CMPD Officer Traffic Stop"),
        ("CMPDOfficerInvolvedShootings_Incidents", "CMPD Officer Involved Shootings Incidents"),
        ("CMPD/CMPDIncidents", "CMPD Incidents"),
        ("RMS_Crime_Incidents", "RMS Crime Incidents"),
        ("city.COLUMBIA.addresses", "Addresses"),
        ("Use of Force (2019)", "Use of Force (2019)"),
        ("PublicSafety", "Public Safety"),
        ("", None),
        (None, None),
        (7, "7"),
    ],
)
def test_humanize(name: Any, shown: str | None) -> None:
    assert humanize(name) == shown


@pytest.mark.parametrize(
    ("layer", "service", "title"),
    [
        ("Officer_Traffic_Stop", "CMPD/CMPD_Officer_Traffic_Stop", "CMPD Officer Traffic Stop"),
        ("CMPD Officer Traffic Stops", "CMPD/CMPD_Officer_Traffic_Stops", "CMPD Officer Traffic Stops"),
        ("Incidents", "CMPD/CMPDOfficerInvolvedShootings_Incidents", "CMPD Officer Involved Shootings Incidents"),
        ("Individuals", "CMPD/OfficerInvolvedShootings", "Officer Involved Shootings - Individuals"),
        ("Use of Force (Archived)", "Use_of_Force_Archived", "Use of Force (Archived)"),
        (None, "ODP/CMPD_Calls_for_Service", "CMPD Calls for Service"),
        ("Arrests", None, "Arrests"),
    ],
)
def test_layer_title(layer: Any, service: Any, title: str) -> None:
    assert layer_title(layer, service) == title


def test_columns_read_json_field_descriptions_and_unknown_types() -> None:
    fields = [
        {
            "name": "INC_NO",
            "alias": "Incident number",
            "type": "esriFieldTypeString",
            "description": '{"value":"Case id","fieldValueType":"uniqueIdentifier"}',
        },
        {"name": "WHEN", "alias": "When", "type": "esriFieldTypeDateOnly", "description": "Day of the stop"},
        {"name": "ODD", "type": "esriFieldTypeSomethingNew"},
        {"name": "SHAPE", "type": "esriFieldTypeGeometry"},
        "junk",
    ]
    assert esri_columns(fields) == [
        {"name": "Incident number", "field_name": "INC_NO", "type": "string", "description": "Case id"},
        {"name": "When", "field_name": "WHEN", "type": "date", "description": "Day of the stop"},
        {"name": "ODD", "field_name": "ODD", "type": "somethingnew", "description": None},
    ]


def test_only_a_geographic_extent_is_a_bounding_box() -> None:
    wgs84 = {"xmin": -80.95, "ymin": 35.0, "xmax": -80.6, "ymax": 35.4, "spatialReference": {"wkid": 4326}}
    assert geographic_extent(wgs84) == "-80.9500,35.0000,-80.6000,35.4000"
    assert geographic_extent({**wgs84, "spatialReference": {"wkid": 102719, "latestWkid": 2264}}) is None
    assert geographic_extent({**wgs84, "xmin": "NaN"}) is None
    assert geographic_extent({**wgs84, "xmin": -200}) is None


def test_split_document_skips_group_layers_and_refuses_other_documents() -> None:
    group = {**_sample(), "type": "Group Layer", "fields": None, "subLayers": [{"id": 3}]}
    assert HARVESTER.recognizes(group) and list(HARVESTER.split_document(group, "x", FETCHED_AT)) == []
    with pytest.raises(ValueError):
        list(HARVESTER.split_document({"folders": [], "services": []}, "x", FETCHED_AT))
    assert not HARVESTER.recognizes({**_sample(), "id": True})
    assert not HARVESTER.recognizes({**_sample(), "type": "Feature Service"})


# --------------------------------------------------------------------------------------------------
# gathering over the portal simulator
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sim(seed: Any) -> Iterator[PortalSimulator]:
    with PortalSimulator(seed, seed_number=2015) as s:
        yield s


@pytest.fixture
def fresh(seed: Any) -> Iterator[PortalSimulator]:
    with PortalSimulator(seed, seed_number=2015, datasets_per_portal=(40, 60)) as s:
        yield s


def _http(sim: PortalSimulator) -> HttpClient:
    settings = HttpSettings(timeout_s=5.0, max_retries=1, backoff_base_s=0.0)
    return HttpClient(settings, route=sim.route, sleep=lambda _s: None)


def _gather(sim: PortalSimulator, url: str = ROOT) -> tuple[list[RawRecord], GatherStats]:
    stats = GatherStats()
    return list(HARVESTER.gather(_source(url), _http(sim), stats)), stats


def _gather_until_error(sim: PortalSimulator, url: str = ROOT) -> tuple[list[RawRecord], GatherStats, GatherError]:
    stats = GatherStats()
    records: list[RawRecord] = []
    with pytest.raises(GatherError) as info:
        for raw in HARVESTER.gather(_source(url), _http(sim), stats):
            records.append(raw)
    return records, stats, info.value


def test_gather_reads_every_layer_and_table_once_as_the_ground_truth_lists_them(sim: PortalSimulator) -> None:
    records, stats = _gather(sim)
    ids = [r.remote_id for r in records]
    assert len(ids) == len(set(ids))
    assert set(ids) == {d.remote_id for d in sim.datasets(HOST)}
    assert stats.complete and stats.errors == []
    assert stats.requests == stats.pages == sim.request_count(HOST, "f=json")
    first = records[0]
    layer_url = f"https://{HOST}{first.remote_id}"
    assert first.source_url == f"{layer_url}?f=json"
    served = _http(sim).get_json(layer_url, params={"f": "json"})
    assert first.content["layer"] == served  # untouched
    assert first.content["service"]["url"] == layer_url.rsplit("/", 1)[0]
    assert {"layers", "tables", "documentInfo"} <= set(first.content["service"])
    for raw in records:
        record = HARVESTER.map_record(raw, _source())
        assert dataset_errors(record.to_dcat()) == [], raw.remote_id
        assert record.landingPage == f"https://{HOST}{raw.remote_id}"


def test_a_mirrored_service_is_read_as_its_feature_server(sim: PortalSimulator) -> None:
    sim.clear_request_log()
    _gather(sim)
    services = [r.path.split("/")[-1] for r in sim.requests(HOST) if r.path.endswith(("Server", "Server/"))]
    assert "FeatureServer" in services and "MapServer" in services
    read = {r.path for r in sim.requests(HOST)}
    http = _http(sim)
    folders = ["", *http.get_json(ROOT, params={"f": "json"})["folders"]]
    listed = [e for f in folders for e in http.get_json(f"{ROOT}/{f}".rstrip("/"), params={"f": "json"})["services"]]
    both = {e["name"] for e in listed if e["type"] == "MapServer"} & {
        e["name"] for e in listed if e["type"] == "FeatureServer"
    }
    assert both
    for name in both:
        assert f"/arcgis/rest/services/{name}/MapServer" not in read
        assert f"/arcgis/rest/services/{name}/FeatureServer" in read


def test_feature_server_layers_carry_their_last_edit_date(sim: PortalSimulator) -> None:
    records, _ = _gather(sim)
    truth = {d.remote_id: d for d in sim.datasets(HOST)}
    feature = [r for r in records if "/FeatureServer/" in r.remote_id]
    assert feature
    for raw in feature:
        record = HARVESTER.map_record(raw, _source())
        assert record.pdi.freshness.last_data_update == truth[raw.remote_id].data_updated_at.replace(
            microsecond=truth[raw.remote_id].data_updated_at.microsecond // 1000 * 1000
        )


@pytest.mark.parametrize("where", ["/CMPD?", "/FeatureServer?", "/0?f=json", "/arcgis/rest/services?"])
def test_a_failed_directory_service_or_layer_read_is_a_gather_error(fresh: PortalSimulator, where: str) -> None:
    fresh.inject(HOST, "500", path_contains=where)
    records, stats, error = _gather_until_error(fresh)
    assert "HTTP 500" in str(error) and error.url and where.rstrip("?") in error.url
    assert not stats.complete
    truth = {d.remote_id for d in fresh.datasets(HOST)}
    assert {r.remote_id for r in records} < truth  # what was read before stays valid


@pytest.mark.parametrize("fault", ["malformed", "truncated", "schema_drift"])
def test_an_unreadable_or_drifted_document_is_a_gather_error(fresh: PortalSimulator, fault: str) -> None:
    fresh.inject(HOST, fault, path_contains="/ODP")
    _, stats, error = _gather_until_error(fresh)
    assert "ODP" in (error.url or "") and not stats.complete


def test_an_arcgis_error_body_is_a_gather_error(fresh: PortalSimulator) -> None:
    _, _, error = _gather_until_error(fresh, f"{ROOT}/NoSuchFolder")
    assert "ArcGIS error 404" in str(error) and "Folder not found" in str(error)


def test_a_folder_loop_is_cut_and_the_gather_completes(fresh: PortalSimulator) -> None:
    fresh.inject(HOST, "paging_loop", path_contains="/CMPD?")  # CMPD lists every folder, itself too
    records, stats = _gather(fresh)
    ids = [r.remote_id for r in records]
    assert len(ids) == len(set(ids)) and set(ids) == {d.remote_id for d in fresh.datasets(HOST)}
    assert stats.complete
    assert stats.errors and all("listed again in CMPD" in e for e in stats.errors)
    assert fresh.request_count(HOST, "/CMPD?") == 1  # read once


class _NestingDirectory:
    """A directory whose every folder holds one deeper folder (A, A/A, A/A/A …), never a service."""

    settings = HttpSettings()

    def get_json(self, url: str, params: dict[str, Any] | None = None) -> Any:
        folder = url.removeprefix(ROOT).strip("/")
        return {"folders": [f"{folder}/A".strip("/")], "services": []}


def test_a_directory_deeper_than_the_bound_is_a_gather_error() -> None:
    stats = GatherStats()
    with pytest.raises(GatherError, match="deeper than 3 levels"):
        list(HARVESTER.gather(_source(), _NestingDirectory(), stats))  # type: ignore[arg-type]
    assert stats.requests == 4 and not stats.complete


def test_more_services_than_the_bound_is_a_gather_error(
    fresh: PortalSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(arcgis_server, "MAX_SERVICES", 5)
    records, stats, error = _gather_until_error(fresh)
    assert "more than 5" in str(error) and not stats.complete
    assert records  # the first five services' layers were read


def test_enrich_adds_the_row_count(sim: PortalSimulator) -> None:
    records, _ = _gather(sim)
    raw = records[0]
    enriched = HARVESTER.enrich(raw, _source(), _http(sim))
    assert enriched.content["query"] == {"count": sim.dataset(HOST, raw.remote_id).row_count}
    assert enriched.content["layer"] == raw.content["layer"]
    assert HARVESTER.map_record(enriched, _source()).pdi.record_count == sim.dataset(HOST, raw.remote_id).row_count


def test_harvest_keeps_police_layers_and_a_second_harvest_changes_nothing(
    seed: Any, store: Any, embedded_index: Any
) -> None:
    with PortalSimulator(seed, seed_number=11, datasets_per_portal=(60, 90)) as sim:
        run = HarvestRun(store, embedded_index, jurisdiction_lookup(seed), _http(sim))
        plans = [p for p in seed.sources(only=["charlotte-mecklenburg-nc"]) if p.platform == "arcgis_server"]
        assert [p.url for p in plans] == [ROOT]
        first = run.run(plans, trigger="test")
        assert first.status is RunStatus.SUCCEEDED and first.records_new > 0
        truth = {d.remote_id: d for d in sim.datasets(HOST)}
        stored = [s.record for s in store.iter_records()]
        assert len(stored) == first.records_new
        police = sum(truth[r.pdi.source.remote_id].police for r in stored)
        assert police / len(stored) >= 0.9 and police / sum(d.police for d in truth.values()) >= 0.8
        assert any("/MapServer/" in r.pdi.source.remote_id for r in stored)
        for record in stored:
            assert record.pdi.categories and record.pdi.jurisdictions == ["charlotte-mecklenburg-nc"]
            assert record.pdi.columns and record.pdi.record_count == truth[record.pdi.source.remote_id].row_count
            assert record.id == record_id(plans[0].source_id, record.pdi.source.remote_id)
        second = run.run(plans, trigger="test")
        assert (second.records_new, second.records_changed, second.records_unchanged) == (0, 0, first.records_new)
