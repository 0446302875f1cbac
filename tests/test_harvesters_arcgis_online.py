"""ArcGIS Online / Enterprise portal search: the recorded sample's quirks, and gathers over the simulator.

The golden test of the recorded search response is in test_harvesters_mapping.py with the others.
Gathers here page through the ``sharing/rest/search`` of an ArcGIS Online organisation added to a
copy of the seed (``tests/seeds.py``), served by a :class:`PortalSimulator` on an ephemeral port.
The last test checks that the ``arcgis`` package (the optional extra) sees the same items.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from catalog.dcat import dataset_errors
from catalog_seed import Seed
from harvesters import registry
from harvesters._arcgis_items import type_query
from harvesters.base import GatherError, GatherStats, RawRecord, SourceContext
from harvesters.http import HttpClient, HttpSettings
from pdi.runtime import jurisdiction_lookup
from scheduler.run import HarvestRun
from simulator.platforms.arcgis_items import DATA_TYPES, item_id, item_type
from simulator.server import PortalSimulator
from store.store import RunStatus
from tests.conftest import reference_dir
from tests.seeds import AGOL_HOST, AGOL_ORG, AGOL_SOURCE, seed_with_arcgis

FETCHED_AT = datetime(2024, 1, 1, tzinfo=UTC)
HARVESTER = registry.get("arcgis_online")
SAMPLE = "arcgis/arcgis_online_sharing_rest_search_response_TRUNCATED-4-of-46-results.json"


def _load(relative: str = SAMPLE) -> Any:
    return json.loads((reference_dir() / "portal-samples" / relative).read_text(encoding="utf-8"))


def _source(url: str = AGOL_SOURCE) -> SourceContext:
    return SourceContext(source_id="arcgis_online:test", platform="arcgis_online", url=url, portal_url=url)


def _records(url: str = AGOL_SOURCE) -> list[Any]:
    raws = HARVESTER.split_document(_load(), SAMPLE, FETCHED_AT)
    return [HARVESTER.map_record(raw, _source(url)) for raw in raws]


# --------------------------------------------------------------------------------------------------
# the recorded sample
# --------------------------------------------------------------------------------------------------


def test_sample_items_map_with_their_arcgis_online_item_pages() -> None:
    records = {r.pdi.source.remote_id: r for r in _records()}
    assert list(records) == [
        "e4b8314a9ce74a0ab041157203a97b41",
        "ae589560d8374e459949ccfdd7d8ccd1",
        "3f83fe0657414a9d88e2fd627b7d6b0b",
        "7826f92e8145486ea0e25d3ca7ef43d7",
    ]
    boulder = records["7826f92e8145486ea0e25d3ca7ef43d7"]
    page = "https://www.arcgis.com/home/item.html?id=7826f92e8145486ea0e25d3ca7ef43d7"
    assert boulder.identifier == boulder.landingPage == page
    assert boulder.title == "City of Boulder, Colorado"
    assert boulder.license == "https://creativecommons.org/publicdomain/zero/1.0/"  # a link in licenseInfo HTML
    assert boulder.theme == ["People"]  # "/Categories/People"
    assert boulder.contactPoint.fn == "qinxs1_Boulder"
    assert boulder.issued == "2018-10-05T19:07:36Z" and boulder.modified == "2021-09-29T21:06:43Z"
    assert boulder.spatial is None  # the whole-world default extent says nothing
    # a Hub Site Application is no data item: its url is an access link, and its item date is no data date
    assert [d.accessURL for d in boulder.distribution] == ["https://data-Boulder.opendata.arcgis.com"]
    assert boulder.pdi.freshness.last_data_update is None
    assert boulder.pdi.freshness.last_metadata_update == datetime(2021, 9, 29, 21, 6, 43, tzinfo=UTC)
    for record in records.values():
        assert dataset_errors(record.to_dcat()) == []


def test_sample_html_null_licence_and_long_credits() -> None:
    records = {r.pdi.source.remote_id: r for r in _records()}
    massdot = records["e4b8314a9ce74a0ab041157203a97b41"]
    assert massdot.license is None and massdot.rights is None  # licenseInfo: "null"
    assert massdot.publisher.name == "www.arcgis.com"  # accessInformation: null
    assert massdot.description.startswith("DO NOT DELETE OR MODIFY THIS ITEM.")
    fdot = records["3f83fe0657414a9d88e2fd627b7d6b0b"]
    assert "<" not in fdot.description and "font-family" not in fdot.description
    assert fdot.publisher.name == "Florida Department of Transportation - Transportation Data and Analytics Office"
    assert fdot.rights is None  # a disclaimer longer than the schema allows
    assert fdot.keyword[:2] == ["Urban Boundaries", "Functional Classification"]


def test_an_enterprise_portal_keeps_its_own_item_pages_and_file_items_link_their_data() -> None:
    (entry, *_) = _load()["results"]
    csv_item = {**entry, "type": "CSV", "name": "use_of_force.csv", "url": None}
    raw = RawRecord(entry["id"], "x", FETCHED_AT, csv_item)
    record = HARVESTER.map_record(raw, _source("https://gis.example.gov/portal/sharing/rest/search?q=orgid:abc"))
    assert record.identifier == f"https://gis.example.gov/portal/home/item.html?id={entry['id']}"
    (dist,) = record.distribution
    assert dist.downloadURL == f"https://gis.example.gov/portal/sharing/rest/content/items/{entry['id']}/data"
    assert (dist.mediaType, dist.format) == ("text/csv", "CSV")
    assert record.pdi.freshness.last_data_update == datetime(2023, 3, 21, 16, 8, 40, tzinfo=UTC)  # a file item


def test_shapes_are_recognised_and_others_refused() -> None:
    item = _load()["results"][0]
    for document in ({"total": 0, "start": 1, "num": 100, "nextStart": -1, "results": []}, item):
        assert HARVESTER.recognizes(document), document
    for document in (
        {"total": 1, "results": [item]},  # no nextStart
        {"total": 1, "nextStart": -1, "results": [{**item, "id": "not-an-item-id"}]},
        {"results": [], "resultSetSize": 0},  # Socrata Discovery
        {**item, "id": 7},
        [],
    ):
        assert not HARVESTER.recognizes(document), document


# --------------------------------------------------------------------------------------------------
# gathering over the portal simulator
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def arcgis_seed(tmp_path_factory: pytest.TempPathFactory) -> Seed:
    return seed_with_arcgis(tmp_path_factory.mktemp("seed"))


@pytest.fixture
def sim(arcgis_seed: Seed) -> Iterator[PortalSimulator]:
    with PortalSimulator(arcgis_seed, seed_number=2015, datasets_per_portal=(230, 260)) as s:
        yield s


def _http(sim: PortalSimulator) -> HttpClient:
    settings = HttpSettings(timeout_s=5.0, max_retries=1, backoff_base_s=0.0)
    return HttpClient(settings, route=sim.route, sleep=lambda _s: None)


def _gather(sim: PortalSimulator, url: str = AGOL_SOURCE) -> tuple[list[RawRecord], GatherStats]:
    stats = GatherStats()
    return list(HARVESTER.gather(_source(url), _http(sim), stats)), stats


def _gather_until_error(
    sim: PortalSimulator, url: str = AGOL_SOURCE
) -> tuple[list[RawRecord], GatherStats, GatherError]:
    stats = GatherStats()
    records: list[RawRecord] = []
    with pytest.raises(GatherError) as info:
        for raw in HARVESTER.gather(_source(url), _http(sim), stats):
            records.append(raw)
    return records, stats, info.value


def _data_items(sim: PortalSimulator) -> list[str]:
    """The ground truth: item ids of the organisation's data items, oldest first."""
    datasets = sorted(sim.datasets(AGOL_HOST), key=lambda d: (d.created_at, item_id(d)))
    return [item_id(d) for d in datasets if item_type(d) in DATA_TYPES]


def test_the_test_seed_lists_the_arcgis_online_source(arcgis_seed: Seed) -> None:
    (plan,) = [p for p in arcgis_seed.sources() if p.platform == "arcgis_online"]
    assert plan.url == AGOL_SOURCE and plan.jurisdictions == ("burlington-vt",)
    assert plan.portal_platform == "arcgis_online"


def test_gather_pages_through_the_organisations_data_items_oldest_first(sim: PortalSimulator) -> None:
    records, stats = _gather(sim)
    truth = _data_items(sim)
    assert len(truth) < len(sim.datasets(AGOL_HOST))  # the organisation also has apps, left out
    assert [r.remote_id for r in records] == truth
    assert stats.complete and stats.pages == stats.requests == 3 and stats.total == len(truth)
    queries = [parse_qs(r.query) for r in sim.requests(AGOL_HOST)]
    assert [q["start"] for q in queries] == [["1"], ["101"], ["201"]]
    assert {q["q"][0] for q in queries} == {f"(orgid:{AGOL_ORG}) AND ({type_query()})"}
    assert all(q["num"] == ["100"] and q["sortField"] == ["created"] and q["f"] == ["json"] for q in queries)
    served = _http(sim).get_json(f"https://{AGOL_HOST}/sharing/rest/content/items/{records[0].remote_id}")
    assert records[0].content == served  # untouched
    truth_by_item = {item_id(d): d for d in sim.datasets(AGOL_HOST)}
    for raw in records:
        record = HARVESTER.map_record(raw, _source())
        assert dataset_errors(record.to_dcat()) == [], raw.remote_id
        assert record.identifier == f"https://www.arcgis.com/home/item.html?id={raw.remote_id}"
        assert record.title == truth_by_item[raw.remote_id].title
        assert record.keyword == (truth_by_item[raw.remote_id].tags or [])


def test_item_pages_services_and_files_resolve_on_the_simulator(sim: PortalSimulator) -> None:
    records, _ = _gather(sim)
    http = _http(sim)
    by_type: dict[str, Any] = {}
    for raw in records:
        by_type.setdefault(raw.content["type"], HARVESTER.map_record(raw, _source()))
    assert set(by_type) == set(DATA_TYPES)
    for kind, record in by_type.items():
        assert http.get(record.landingPage).status_code == 200, kind
        (dist,) = record.distribution
        url = dist.accessURL if kind == "Feature Service" else dist.downloadURL
        assert http.get(url).status_code == 200, (kind, url)
    layer = http.get_json(by_type["Feature Service"].distribution[0].accessURL, params={"f": "json"})
    assert layer["type"] in ("Feature Layer", "Table") and layer["fields"]


def test_an_organisation_root_is_read_through_its_portal_description(sim: PortalSimulator) -> None:
    records, stats = _gather(sim, f"https://{AGOL_HOST}")
    assert [r.remote_id for r in records] == _data_items(sim) and stats.complete
    first, *searches = sim.requests(AGOL_HOST)
    assert first.path == "/sharing/rest/portals/self"
    assert parse_qs(searches[0].query)["q"] == [f"(orgid:{AGOL_ORG}) AND ({type_query()})"]


def test_a_query_naming_its_own_types_or_owner_is_kept(sim: PortalSimulator) -> None:
    csv_only = f'https://{AGOL_HOST}/sharing/rest/search?q=orgid:{AGOL_ORG} AND type:"CSV"'
    records, stats = _gather(sim, csv_only)
    assert records and {r.content["type"] for r in records} == {"CSV"} and stats.complete
    owner = records[0].content["owner"]
    mine, _ = _gather(sim, f"https://{AGOL_HOST}/sharing/rest/search?q=owner:{owner}")
    assert mine and {r.content["owner"] for r in mine} == {owner}


def test_another_organisations_search_lists_nothing_of_this_one(sim: PortalSimulator) -> None:
    records, stats = _gather(sim, f"https://{AGOL_HOST}/sharing/rest/search?q=orgid:SomeOtherOrg0000")
    assert records == [] and stats.complete and stats.total == 0 and stats.requests == 1


def test_an_unrestricted_query_is_refused_before_any_request(sim: PortalSimulator) -> None:
    _, stats, error = _gather_until_error(sim, f"https://{AGOL_HOST}/sharing/rest/search?q=police")
    assert "names no orgid:" in str(error) and stats.requests == 0 and sim.request_count(AGOL_HOST) == 0


def test_a_failed_page_is_a_gather_error_after_the_records_already_read(sim: PortalSimulator) -> None:
    sim.inject(AGOL_HOST, "500", path_contains="start=101")
    records, stats, error = _gather_until_error(sim)
    assert len(records) == 100 and "start 101" in str(error) and "HTTP 500" in str(error)
    assert error.url and "start=101" in error.url and not stats.complete


@pytest.mark.parametrize(("fault", "message"), [("paging_loop", "paging loop"), ("schema_drift", "no 'results' list")])
def test_a_looping_or_drifted_page_is_a_gather_error(sim: PortalSimulator, fault: str, message: str) -> None:
    sim.inject(AGOL_HOST, fault, path_contains="start=101")
    records, stats, error = _gather_until_error(sim)
    assert message in str(error) and len(records) == 100 and not stats.complete


def test_a_malformed_or_truncated_page_is_a_gather_error(sim: PortalSimulator) -> None:
    for fault in ("malformed", "truncated"):
        sim.inject(AGOL_HOST, fault, count=2)
        _, stats, error = _gather_until_error(sim)
        assert "start 1" in str(error) and not stats.complete, fault


class _Canned:
    """An HTTP client answering every request with the same body (shapes the simulator never serves)."""

    settings = HttpSettings()

    def __init__(self, body: Any) -> None:
        self.body = body

    def get_json(self, url: str, params: dict[str, Any] | None = None) -> Any:
        return self.body


def _canned_gather(body: Any) -> tuple[list[RawRecord], GatherStats, GatherError | None]:
    stats = GatherStats()
    records: list[RawRecord] = []
    try:
        for raw in HARVESTER.gather(_source(), _Canned(body), stats):  # type: ignore[arg-type]
            records.append(raw)
    except GatherError as exc:
        return records, stats, exc
    return records, stats, None


def test_error_bodies_huge_searches_and_stuck_next_starts_are_gather_errors() -> None:
    item = _load()["results"][0]
    cases = [
        ({"error": {"code": 498, "message": "Invalid token."}}, "ArcGIS error 498: Invalid token."),
        ({"total": 25_000, "start": 1, "num": 100, "nextStart": 101, "results": [item]}, "25000 items"),
        ({"total": 300, "start": 1, "num": 100, "nextStart": 1, "results": [item]}, "does not move past"),
        ({"total": 300, "start": 1, "num": 100, "results": [item]}, "no integer 'nextStart'"),
        ({"total": 300, "start": 1, "num": 100, "nextStart": -1, "results": [item]}, "ended after 1 of the 300"),
    ]
    for body, message in cases:
        _, stats, error = _canned_gather(body)
        assert error is not None and message in str(error), body
        assert not stats.complete


def test_results_without_an_item_id_are_skipped_and_noted() -> None:
    item = _load()["results"][0]
    body = {"total": 2, "start": 1, "num": 100, "nextStart": -1, "results": [item, {**item, "id": None}]}
    records, stats, error = _canned_gather(body)
    assert error is None and stats.complete and [r.remote_id for r in records] == [item["id"]]
    assert len(stats.errors) == 1 and "without an item id" in stats.errors[0]


def test_a_harvest_run_keeps_the_organisations_police_items(
    sim: PortalSimulator, arcgis_seed: Seed, store, embedded_index
) -> None:  # type: ignore[no-untyped-def]
    http = HttpClient(HttpSettings(timeout_s=5.0, max_retries=1, backoff_base_s=0.0), route=sim.route)
    plans = [p for p in arcgis_seed.sources() if p.platform == "arcgis_online"]
    run = HarvestRun(store, embedded_index, jurisdiction_lookup(arcgis_seed), http).run(plans, trigger="test")
    assert run.status is RunStatus.SUCCEEDED and run.records_new > 10
    kept = {s.record.pdi.source.remote_id for s in store.iter_records()}
    police = {item_id(d) for d in sim.datasets(AGOL_HOST) if d.police and item_type(d) in DATA_TYPES}
    assert len(kept & police) >= 0.8 * len(police)
    for stored in store.iter_records():
        assert stored.record.pdi.jurisdictions == ["burlington-vt"]
        assert stored.record.pdi.source.portal_platform == "arcgis_online"
    again = HarvestRun(store, embedded_index, jurisdiction_lookup(arcgis_seed), http).run(plans, trigger="test")
    assert (again.records_new, again.records_changed, again.records_withdrawn) == (0, 0, 0)


# --------------------------------------------------------------------------------------------------
# the ArcGIS API for Python sees what we see
# --------------------------------------------------------------------------------------------------


def _arcgis_gis() -> Any:
    try:
        from arcgis.gis import GIS
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("CI must cross-check with the arcgis package: install the extra, pip install -e '.[arcgis]'")
        pytest.skip("the arcgis extra is not installed (pip install -e '.[arcgis]'; `make test` installs it)")
    return GIS


def test_the_arcgis_package_finds_the_same_items_as_the_harvester(sim: PortalSimulator) -> None:
    gis_class = _arcgis_gis()
    records, _ = _gather(sim)
    # The package insists on https and opens its own sessions; mounting our HTTP layer's adapter
    # sends its requests, unchanged, to the simulator (and through our politeness and retries).
    adapter = _http(sim).session.get_adapter(f"https://{AGOL_HOST}")
    sim.clear_request_log()
    gis = gis_class(f"https://{AGOL_HOST}", adapter={"https://": adapter, "http://": adapter})
    found = gis.content.advanced_search(f"orgid:{AGOL_ORG} AND ({type_query()})", max_items=-1)
    assert found["total"] == len(records)
    assert {item.id for item in found["results"]} == {r.remote_id for r in records}
    searched = gis.content.search(type_query(), max_items=1000)  # the package adds accountid:<org>
    assert {item.id for item in searched} == {r.remote_id for r in records}
    assert all(urlsplit(r.path).path.startswith("/sharing/") for r in sim.requests(AGOL_HOST))
    assert {r.host for r in sim.request_log} == {AGOL_HOST}
