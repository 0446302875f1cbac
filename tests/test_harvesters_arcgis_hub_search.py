"""ArcGIS Hub Search API: the golden page, the mapping's agreement with the Hub DCAT-US feed, and
gathers over the simulator.

No response of the Hub Search API is recorded in ``reference/portal-samples``. The golden sample
is ``tests/fixtures/arcgis_hub_search/*.json``: a page the simulator served for Baltimore's Hub
site (``…/collections/dataset/items?limit=6&startindex=1&q=police``), saved as served with the
simulator's address in links replaced by the site's. Regenerate its golden records with
``PDI_UPDATE_GOLDEN=1 pytest <this file>`` and review the diff.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from catalog.dcat import dataset_errors
from catalog_seed import Seed
from harvesters import registry
from harvesters.base import GatherError, GatherStats, RawRecord, SourceContext
from harvesters.detect import detect_platform
from harvesters.http import HttpClient, HttpSettings
from pdi.runtime import jurisdiction_lookup
from scheduler.run import HarvestRun
from simulator.platforms.arcgis_items import DATA_TYPES, item_id, item_type
from simulator.server import PortalSimulator
from store.store import RunStatus
from tests.seeds import HUB_HOST, seed_with_arcgis

FETCHED_AT = datetime(2024, 1, 1, tzinfo=UTC)
HARVESTER = registry.get("arcgis_hub_search")
SITE = f"https://{HUB_HOST}"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "arcgis_hub_search"
GOLDEN = Path(__file__).resolve().parent / "golden" / "arcgis_hub_search"
UPDATE = os.environ.get("PDI_UPDATE_GOLDEN") == "1"
ITEMS = "/api/search/v1/collections/dataset/items"


def _source(url: str = SITE) -> SourceContext:
    return SourceContext(source_id="arcgis_hub_search:test", platform="arcgis_hub_search", url=url, portal_url=url)


def _fixtures() -> list[str]:
    return sorted(p.name for p in FIXTURES.glob("*.json"))


def _page(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------------
# the golden page
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", _fixtures())
def test_page_maps_to_its_golden_records(name: str) -> None:
    document = _page(name)
    assert detect_platform(document) == "arcgis_hub_search"
    raws = list(HARVESTER.split_document(document, f"tests/fixtures/arcgis_hub_search/{name}", FETCHED_AT))
    records = [HARVESTER.map_record(raw, _source()) for raw in raws]
    assert len(records) == len(document["features"]) == 6
    for record in records:
        assert dataset_errors(record.to_dcat()) == [], record.identifier
        assert record.pdi.categories == []
    actual = [json.loads(json.dumps(r.to_dcat(), sort_keys=True, ensure_ascii=False)) for r in records]
    golden = GOLDEN / f"{Path(name).stem}.jsonl"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text("".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in actual), "utf-8")
    expected = [json.loads(line) for line in golden.read_text("utf-8").splitlines() if line.strip()]
    assert actual == expected


def test_page_records_carry_the_item_page_identifier_and_the_hub_page() -> None:
    (name,) = _fixtures()
    document = _page(name)
    records = [HARVESTER.map_record(r, _source()) for r in HARVESTER.split_document(document, name, FETCHED_AT)]
    first, feature = records[0], document["features"][0]
    assert first.identifier == f"https://www.arcgis.com/home/item.html?id={feature['id']}"
    assert first.landingPage == f"{SITE}/datasets/{feature['id']}"
    assert first.publisher.name == feature["properties"]["source"]
    assert first.distribution[0].accessURL == first.landingPage and first.distribution[0].mediaType == "text/html"
    excel = next(
        r for r, f in zip(records, document["features"], strict=True) if f["properties"]["type"] == "Microsoft Excel"
    )
    download = excel.distribution[-1]
    assert download.downloadURL and download.downloadURL.startswith(
        "https://www.arcgis.com/sharing/rest/content/items/"
    )
    assert excel.pdi.freshness.last_data_update is not None  # a file item's date is its data's
    assert all(r.pdi.freshness.last_data_update is None for r in records if r is not excel)  # services: unknown


JUNK: tuple[Any, ...] = (None, "", "   ", 0, -1, True, [], {}, ["x", None], {"a": {"b": 1}}, "<p>&nbsp;</p>", "null")


def test_junk_in_any_field_still_maps_to_a_valid_record() -> None:
    (name,) = _fixtures()
    feature = _page(name)["features"][0]
    paths = [(k,) for k in feature] + [("properties", k) for k in feature["properties"]]
    for path in paths:
        for junk in JUNK:
            content = copy.deepcopy(feature)
            node = content
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = junk
            record = HARVESTER.map_record(RawRecord(feature["id"], "x", FETCHED_AT, content), _source())
            assert record.title.strip() and dataset_errors(record.to_dcat()) == [], (path, junk)


def test_shapes_are_recognised_and_others_refused() -> None:
    (name,) = _fixtures()
    page = _page(name)
    for document in (page, page["features"][0], {**page, "features": []}):
        assert HARVESTER.recognizes(document)
    for document in (
        {k: v for k, v in page.items() if k != "numberMatched"},  # any GeoJSON, e.g. a download
        {"type": "FeatureCollection", "numberMatched": 1, "features": [{"type": "Feature", "properties": {"a": 1}}]},
        {**page["features"][0], "id": "x", "properties": {**page["features"][0]["properties"], "id": "y"}},
    ):
        assert not HARVESTER.recognizes(document)


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


def _gather(sim: PortalSimulator, url: str = SITE) -> tuple[list[RawRecord], GatherStats]:
    stats = GatherStats()
    return list(HARVESTER.gather(_source(url), _http(sim), stats)), stats


def _gather_until_error(sim: PortalSimulator) -> tuple[list[RawRecord], GatherStats, GatherError]:
    stats = GatherStats()
    records: list[RawRecord] = []
    with pytest.raises(GatherError) as info:
        for raw in HARVESTER.gather(_source(), _http(sim), stats):
            records.append(raw)
    return records, stats, info.value


def _data_items(sim: PortalSimulator) -> list[str]:
    datasets = sorted(sim.datasets(HUB_HOST), key=lambda d: (d.created_at, item_id(d)))
    return [item_id(d) for d in datasets if item_type(d) in DATA_TYPES]


def test_the_test_seed_reads_baltimores_hub_through_the_search_api(arcgis_seed: Seed) -> None:
    (plan,) = [p for p in arcgis_seed.sources() if p.platform == "arcgis_hub_search"]
    assert plan.url == SITE and plan.jurisdictions == ("baltimore-md",) and plan.portal_platform == "arcgis_hub"
    assert not [p for p in arcgis_seed.sources() if p.url.startswith(f"{SITE}/api/feed")]


def test_gather_follows_the_next_links_through_the_dataset_collection(sim: PortalSimulator) -> None:
    records, stats = _gather(sim)
    truth = _data_items(sim)
    assert len(truth) < len(sim.datasets(HUB_HOST))  # apps are not in the dataset collection
    assert [r.remote_id for r in records] == truth
    assert stats.complete and stats.pages == stats.requests == 3 and stats.total == len(truth)
    queries = [parse_qs(r.query) for r in sim.requests(HUB_HOST)]
    assert [q["startindex"] for q in queries] == [["1"], ["101"], ["201"]]
    assert all(q["limit"] == ["100"] and q["sortBy"] == ["properties.created"] for q in queries)
    served = _http(sim).get_json(f"{SITE}{ITEMS}/{records[0].remote_id}")
    assert records[0].content == served  # untouched
    for raw in records:
        assert dataset_errors(HARVESTER.map_record(raw, _source()).to_dcat()) == [], raw.remote_id


def test_a_source_url_naming_a_collection_and_query_is_read_as_given(sim: PortalSimulator) -> None:
    records, stats = _gather(sim, f"{SITE}/api/search/v1/collections/all/items?q=police&limit=5&startindex=9")
    queries = [parse_qs(r.query) for r in sim.requests(HUB_HOST)]
    assert all(r.path == "/api/search/v1/collections/all/items" for r in sim.requests(HUB_HOST))
    assert queries[0]["q"] == ["police"] and queries[0]["limit"] == ["100"] and queries[0]["startindex"] == ["1"]
    assert stats.complete and records and len(records) == stats.total
    assert all("police" in json.dumps(r.content["properties"]).lower() for r in records)


def test_one_site_read_through_its_feed_and_its_search_gives_the_same_items(sim: PortalSimulator) -> None:
    """The feed lists a dataset per layer (``…?id=<item>&sublayer=<n>``); the search, per item."""
    http = _http(sim)
    searched = {r.remote_id: HARVESTER.map_record(r, _source()) for r in _gather(sim)[0]}
    feed_source = SourceContext(source_id="dcat_us:test", platform="dcat_us", url=f"{SITE}/api/feed/dcat-us/1.1.json")
    dcat = registry.get("dcat_us")
    fed = [dcat.map_record(r, feed_source) for r in dcat.gather(feed_source, http, GatherStats())]
    by_item = {parse_qs(r.identifier.split("?", 1)[1])["id"][0]: r for r in fed}
    assert set(searched) <= set(by_item)  # the feed also lists the apps
    for ident, record in searched.items():
        other = by_item[ident]
        assert record.identifier == other.identifier.split("&sublayer=")[0]
        assert record.title == other.title and record.keyword == other.keyword
        assert record.publisher.name == other.publisher.name
        assert record.issued is not None and other.issued is not None
        assert record.issued[:19] == other.issued[:19]
    record = next(iter(searched.values()))
    for url in (record.landingPage, record.distribution[1].accessURL):
        assert http.get(url).status_code == 200, url


def test_a_failed_page_is_a_gather_error_after_the_records_already_read(sim: PortalSimulator) -> None:
    sim.inject(HUB_HOST, "500", path_contains="startindex=101")
    records, stats, error = _gather_until_error(sim)
    assert len(records) == 100 and "startindex 101" in str(error) and "HTTP 500" in str(error)
    assert error.url and "startindex=101" in error.url and not stats.complete


@pytest.mark.parametrize(
    ("fault", "message"), [("paging_loop", "repeats the previous page"), ("schema_drift", "no 'features' list")]
)
def test_a_looping_or_drifted_page_is_a_gather_error(sim: PortalSimulator, fault: str, message: str) -> None:
    sim.inject(HUB_HOST, fault, path_contains="startindex=101")
    records, stats, error = _gather_until_error(sim)
    assert message in str(error) and len(records) == 100 and not stats.complete


def test_a_malformed_or_truncated_page_is_a_gather_error(sim: PortalSimulator) -> None:
    for fault in ("malformed", "truncated"):
        sim.inject(HUB_HOST, fault, count=2)
        _, stats, error = _gather_until_error(sim)
        assert "startindex 1" in str(error) and not stats.complete, fault


class _Canned:
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


def test_an_early_end_a_stuck_next_link_and_records_without_ids() -> None:
    (name,) = _fixtures()
    page = _page(name)
    feature = page["features"][0]
    stuck = {**page, "links": [{"rel": "next", "href": f"{SITE}{ITEMS}?limit=100&startindex=1"}]}
    short = {**page, "numberMatched": 50, "links": []}
    cases = [(stuck, "does not move past 1 (paging loop)"), (short, "ended after 6 of the 50")]
    for body, message in cases:
        _, stats, error = _canned_gather(body)
        assert error is not None and message in str(error) and not stats.complete
    anonymous = copy.deepcopy(feature)
    anonymous["id"] = None
    anonymous["properties"]["id"] = None
    body = {**page, "features": [feature, anonymous], "numberMatched": 2, "links": []}
    records, stats, error = _canned_gather(body)
    assert error is None and stats.complete and [r.remote_id for r in records] == [feature["id"]]
    assert len(stats.errors) == 1 and "without an item id" in stats.errors[0]


def test_a_harvest_run_keeps_the_sites_police_items(
    sim: PortalSimulator, arcgis_seed: Seed, store, embedded_index
) -> None:  # type: ignore[no-untyped-def]
    http = HttpClient(HttpSettings(timeout_s=5.0, max_retries=1, backoff_base_s=0.0), route=sim.route)
    plans = [p for p in arcgis_seed.sources() if p.platform == "arcgis_hub_search"]
    run = HarvestRun(store, embedded_index, jurisdiction_lookup(arcgis_seed), http).run(plans, trigger="test")
    assert run.status is RunStatus.SUCCEEDED and run.records_new > 10
    kept = {s.record.pdi.source.remote_id for s in store.iter_records()}
    police = {item_id(d) for d in sim.datasets(HUB_HOST) if d.police and item_type(d) in DATA_TYPES}
    assert len(kept & police) >= 0.8 * len(police)
    removed = next(d for d in sim.datasets(HUB_HOST) if item_id(d) in kept)
    sim.remove_dataset(HUB_HOST, removed.remote_id)
    lookup = jurisdiction_lookup(arcgis_seed)
    for _ in range(2):
        again = HarvestRun(store, embedded_index, lookup, http, withdraw_after=2).run(plans, trigger="test")
        assert again.status is RunStatus.SUCCEEDED and again.records_new == again.records_changed == 0
    assert again.records_withdrawn == 1
