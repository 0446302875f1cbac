"""OpenDataSoft: the recorded samples' quirks (v2.0 and v2.1), and gathers over the real simulator.

The golden tests of the four recorded samples are in test_harvesters_mapping.py with the others.
Gathers here page through the v2.1 catalog of an OpenDataSoft source added to a copy of the seed
(the reference table has none), served by a :class:`PortalSimulator` on an ephemeral port.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from catalog.dcat import dataset_errors
from catalog_seed import Seed
from harvesters import registry
from harvesters.base import GatherError, GatherStats, RawRecord, SourceContext
from harvesters.convert import NO_DESCRIPTION
from harvesters.http import HttpClient, HttpSettings
from simulator.server import PortalSimulator
from tests.conftest import reference_dir
from tests.seeds import ODS_HOST, seed_with_opendatasoft

FETCHED_AT = datetime(2024, 1, 1, tzinfo=UTC)
PORTAL = f"https://{ODS_HOST}"
HARVESTER = registry.get("opendatasoft")
V20_ONE = "opendatasoft/campbelltown-nsw_explore_v2.0_catalog_dataset_weather-stations.json"
V20_PAGE = "opendatasoft/campbelltown-nsw_explore_v2.0_catalog_datasets_TRUNCATED-3-of-6-results.json"
V21_PAGE = "opendatasoft/data.economie.gouv.fr_explore_v2.1_catalog_datasets_1-result_include_app_metas.json"
SBB = "opendatasoft/data.sbb.ch_explore_v2.1_catalog_datasets_12-of-61-results_recorder-reduced.json"


def _load(relative: str) -> Any:
    return json.loads((reference_dir() / "portal-samples" / relative).read_text(encoding="utf-8"))


def _source(url: str = "https://portal.example.gov") -> SourceContext:
    return SourceContext(source_id="opendatasoft:test", platform="opendatasoft", url=url, portal_url=url)


def _records(relative: str) -> list[Any]:
    raws = HARVESTER.split_document(_load(relative), relative, FETCHED_AT)
    return [HARVESTER.map_record(raw, _source()) for raw in raws]


# --------------------------------------------------------------------------------------------------
# the recorded samples
# --------------------------------------------------------------------------------------------------


def test_v20_dataset_links_give_its_page_and_exports() -> None:
    (record,) = _records(V20_ONE)
    site = "https://www.campbelltownopendataportal.com.au"
    assert record.title == "Environmental sensors"
    assert record.landingPage == f"{site}/explore/dataset/weather-stations/"
    exports = {d.mediaType: d.downloadURL for d in record.distribution}
    assert exports == {
        "text/csv": f"{site}/api/v2/catalog/datasets/weather-stations/exports/csv",
        "application/json": f"{site}/api/v2/catalog/datasets/weather-stations/exports/json",
        "application/geo+json": f"{site}/api/v2/catalog/datasets/weather-stations/exports/geojson",  # "geo" feature
    }
    assert record.description.startswith("Two environmental monitoring stations") and "<" not in record.description
    assert record.description.endswith("ambient noise.")  # the trailing &nbsp;<br/> is gone
    assert record.keyword == ["weather"] and record.theme == ["Environmental Protection"]
    assert record.license == "https://creativecommons.org/licenses/by/4.0/"
    assert record.spatial == "Ingleburn; Campbelltown (NSW)"
    assert record.publisher.name == "Campbelltown City Council"
    assert record.modified == "2020-12-07T05:27:41+00:00"
    assert record.pdi.freshness.last_data_update == datetime(2021, 6, 18, 5, 50, 48, tzinfo=UTC)
    assert record.pdi.freshness.last_metadata_update == datetime(2021, 6, 18, 6, 0, 13, 31000, tzinfo=UTC)
    assert record.pdi.record_count == 100
    assert len(record.pdi.columns) == 36
    assert record.pdi.columns[0].model_dump() == {
        "name": "Device name",
        "field_name": "device_name",
        "type": "text",
        "description": None,
    }


def test_v20_page_and_v20_dataset_of_one_dataset_get_the_same_id() -> None:
    one = _records(V20_ONE)[0]
    page = {r.identifier: r for r in _records(V20_PAGE)}
    assert list(page) == ["campbelltown-heat-aggregated-measures", "weather-stations", "campelltown-business-directory"]
    assert page["weather-stations"].pdi.id == one.pdi.id
    heat = page["campbelltown-heat-aggregated-measures"]
    assert heat.license is None  # license_url: null
    assert "font-family" not in heat.description and "<span" not in heat.description


def test_v21_entry_without_links_uses_the_source_host() -> None:
    (record,) = _records(V21_PAGE)
    assert record.identifier == "my-dataset"
    assert record.landingPage == "https://portal.example.gov/explore/dataset/my-dataset/"
    assert [d.downloadURL for d in record.distribution] == [
        "https://portal.example.gov/api/explore/v2.1/catalog/datasets/my-dataset/exports/csv",
        "https://portal.example.gov/api/explore/v2.1/catalog/datasets/my-dataset/exports/json",
    ]  # no "geo" feature: no GeoJSON
    assert record.language == ["fr"] and record.publisher.name == "DGFIP"
    assert record.pdi.columns == [] and record.pdi.record_count == 7690338
    assert record.keyword == [] and record.theme == []  # theme: null, keyword: null
    assert record.accrualPeriodicity is None  # metas.dcat is all nulls
    assert record.contactPoint.hasEmail is None


def test_sbb_reduced_entries_are_titles_and_counts_only_and_still_valid() -> None:
    records = {r.identifier: r for r in _records(SBB)}
    assert len(records) == 12
    daily = records["anzahl-sbb-bahnhofbenutzer-wochentag"]
    assert daily.title == "Amount of Trainstation User (Daily)"
    assert daily.accrualPeriodicity == "R/P1Y" and daily.pdi.freshness.declared_frequency == "annual"
    assert records["dashboard_behig_tu"].pdi.record_count == 0
    for record in records.values():
        assert record.description == NO_DESCRIPTION
        assert dataset_errors(record.to_dcat()) == []


def test_dcat_metas_contact_issued_and_temporal_coverage() -> None:
    (entry,) = _load(V21_PAGE)["results"]
    dcat = {
        **entry["metas"]["dcat"],
        "contact_name": "Mission Etalab",
        "contact_email": "contact@data.gouv.fr",
        "issued": "2023-07-01T00:00:00+00:00",
        "temporal_coverage_start": "2023-07-01",
        "temporal_coverage_end": "2024-02-01",
        "accrualperiodicity": "http://publications.europa.eu/resource/authority/frequency/MONTHLY",
    }
    raw = RawRecord("my-dataset", "x", FETCHED_AT, {**entry, "metas": {**entry["metas"], "dcat": dcat}})
    record = HARVESTER.map_record(raw, _source())
    assert record.contactPoint.fn == "Mission Etalab"
    assert record.contactPoint.hasEmail == "mailto:contact@data.gouv.fr"
    assert record.issued == "2023-07-01T00:00:00+00:00"
    assert record.temporal == "2023-07-01/2024-02-01"
    assert record.accrualPeriodicity == "R/P1M"
    assert dataset_errors(record.to_dcat()) == []


def test_attachments_become_distributions_and_a_dataset_without_records_has_no_exports() -> None:
    (entry,) = _load(V21_PAGE)["results"]
    attachment = {
        "id": "dico.pdf",
        "mimetype": "application/pdf",
        "title": "Dictionary",
        "url": "https://x.gov/dico.pdf",
    }
    odsfile = {"id": "a.csv", "mimetype": "text/csv", "title": "A", "url": "odsfile://a.csv"}
    raw = RawRecord(
        "my-dataset", "x", FETCHED_AT, {**entry, "has_records": False, "attachments": [attachment, odsfile]}
    )
    (dist,) = HARVESTER.map_record(raw, _source()).distribution
    assert (dist.downloadURL, dist.mediaType, dist.title) == ("https://x.gov/dico.pdf", "application/pdf", "Dictionary")


def test_shapes_are_recognised_and_others_refused() -> None:
    for document in (
        {"total_count": 0, "results": []},
        {"total_count": 0, "datasets": []},
        {"dataset_id": "a", "metas": {}},
        {"links": [], "dataset": {"dataset_id": "a", "metas": {}}},
    ):
        assert HARVESTER.recognizes(document), document
    for document in (
        {"results": [{"dataset_id": "a", "metas": {}}]},  # no total_count
        {"total_count": 1, "results": [{"resource": {"id": "abcd-1234"}}]},
        {"dataset_id": " ", "metas": {}},
        [],
    ):
        assert not HARVESTER.recognizes(document), document


# --------------------------------------------------------------------------------------------------
# gathering over the portal simulator
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ods_seed(tmp_path_factory: pytest.TempPathFactory) -> Seed:
    return seed_with_opendatasoft(tmp_path_factory.mktemp("seed"))


@pytest.fixture
def sim(ods_seed: Seed) -> Iterator[PortalSimulator]:
    with PortalSimulator(ods_seed, seed_number=2015, datasets_per_portal=(230, 260)) as s:
        yield s


def _http(sim: PortalSimulator) -> HttpClient:
    settings = HttpSettings(timeout_s=5.0, max_retries=1, backoff_base_s=0.0)
    return HttpClient(settings, route=sim.route, sleep=lambda _s: None)


def _gather(sim: PortalSimulator) -> tuple[list[RawRecord], GatherStats]:
    stats = GatherStats()
    return list(HARVESTER.gather(_source(PORTAL), _http(sim), stats)), stats


def _gather_until_error(sim: PortalSimulator) -> tuple[list[RawRecord], GatherStats, GatherError]:
    stats = GatherStats()
    records: list[RawRecord] = []
    with pytest.raises(GatherError) as info:
        for raw in HARVESTER.gather(_source(PORTAL), _http(sim), stats):
            records.append(raw)
    return records, stats, info.value


def test_the_test_seed_lists_the_opendatasoft_source(ods_seed: Seed) -> None:
    (plan,) = [p for p in ods_seed.sources() if p.platform == "opendatasoft"]
    assert plan.url == PORTAL and plan.jurisdictions == ("burlington-vt",)


def test_gather_pages_through_the_v21_catalog_in_dataset_id_order(sim: PortalSimulator) -> None:
    records, stats = _gather(sim)
    truth = sorted(d.remote_id for d in sim.datasets(ODS_HOST))
    assert [r.remote_id for r in records] == truth  # every dataset once, in dataset_id order
    assert stats.complete and stats.pages == stats.requests == 3 and stats.total == len(truth)
    queries = [r.query for r in sim.requests(ODS_HOST)]
    assert queries == [f"limit=100&offset={n}&order_by=dataset_id" for n in (0, 100, 200)]
    served = _http(sim).get_json(f"{PORTAL}/api/explore/v2.1/catalog/datasets/{records[0].remote_id}")
    assert records[0].content == served  # untouched
    for raw in records:
        record = HARVESTER.map_record(raw, _source(PORTAL))
        assert dataset_errors(record.to_dcat()) == [], raw.remote_id
        assert record.landingPage == f"{PORTAL}/explore/dataset/{raw.remote_id}/"
        truth_ds = sim.dataset(ODS_HOST, raw.remote_id)
        assert record.pdi.record_count == truth_ds.row_count
        assert [c.field_name for c in record.pdi.columns] == [c.field_name for c in truth_ds.columns]


def test_landing_pages_and_exports_resolve_on_the_simulator(sim: PortalSimulator) -> None:
    records, _ = _gather(sim)
    record = HARVESTER.map_record(records[0], _source(PORTAL))
    http = _http(sim)
    for url in [record.landingPage, *(d.downloadURL for d in record.distribution)]:
        assert http.get(url).status_code == 200, url


def test_a_failed_page_is_a_gather_error_after_the_records_already_read(sim: PortalSimulator) -> None:
    sim.inject(ODS_HOST, "500", path_contains="offset=100")
    records, stats, error = _gather_until_error(sim)
    assert len(records) == 100 and "offset 100" in str(error) and "HTTP 500" in str(error)
    assert error.url and "offset=100" in error.url and not stats.complete


@pytest.mark.parametrize(("fault", "message"), [("paging_loop", "paging loop"), ("schema_drift", "no 'results' list")])
def test_a_looping_or_drifted_page_is_a_gather_error(sim: PortalSimulator, fault: str, message: str) -> None:
    sim.inject(ODS_HOST, fault, path_contains="offset=100")
    records, stats, error = _gather_until_error(sim)
    assert message in str(error) and len(records) == 100 and not stats.complete


def test_a_malformed_or_truncated_page_is_a_gather_error(sim: PortalSimulator) -> None:
    for fault in ("malformed", "truncated"):
        sim.inject(ODS_HOST, fault, count=2)
        _, stats, error = _gather_until_error(sim)
        assert "offset 0" in str(error) and not stats.complete, fault


class _HugeCatalog:
    settings = HttpSettings()

    def get_json(self, url: str, params: dict[str, Any] | None = None) -> Any:
        return {"total_count": 25_000, "results": [{"dataset_id": "a", "metas": {}}]}


def test_a_catalog_larger_than_v21_paging_reaches_is_a_gather_error() -> None:
    stats = GatherStats()
    with pytest.raises(GatherError, match="25000 datasets"):
        list(HARVESTER.gather(_source(PORTAL), _HugeCatalog(), stats))  # type: ignore[arg-type]
    assert not stats.complete
