"""The program office's endpoints: coverage, its history, freshness; freshness in search and datasets."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from catalog.vocabulary import Category
from index.sync import sync_index
from pdi.runtime import jurisdiction_lookup
from store.coverage import snapshot_after_run
from store.store import RunStatus
from tests.factories import make_dated_record

NOW = datetime(2026, 11, 1, tzinfo=UTC)
DAY = timedelta(days=1)
RECORDS = [
    # Seattle committed to use_of_force, complaints, officer_involved_shootings, … (see its seed file)
    make_dated_record("uof", "Use of Force", last=NOW - 2 * DAY, period="R/P1W"),  # fresh
    make_dated_record("uof-old", "Use of Force Archive", last=NOW - 30 * DAY, period="R/P1W"),  # delinquent
    make_dated_record("cmp", "OPA Complaints", last=NOW - 16 * DAY, words="Weekly", categories=("complaints",)),
    *(
        make_dated_record(
            f"ois-{year}",
            f"Officer Involved Shootings {year}",
            last=datetime(year + 1, 1, 20, tzinfo=UTC),
            categories=("officer_involved_shootings",),
        )
        for year in (2024, 2025)
    ),
    make_dated_record(
        "atx",
        "APD Arrests",
        last=NOW - 430 * DAY,
        period="R/P1Y",
        categories=("arrests",),
        jurisdictions=("austin-tx",),
        source="socrata:data.austintexas.gov",
    ),
    make_dated_record(
        "stops",
        "Traffic Stops",
        last=NOW,
        categories=("traffic_stops",),
        jurisdictions=("austin-tx",),
        source="socrata:data.austintexas.gov",
    ),  # no period: unknown
]
SEATTLE_OIS = {"ois-2024", "ois-2025"}


@pytest.fixture
def app_parts(settings, store, embedded_index, seed):
    for r in RECORDS:
        store.upsert_record(r, source_url="https://x.invalid", raw_content={}, fetched_at=NOW, run_id=None)
    sync_index(store, embedded_index, jurisdiction_lookup(seed), now=NOW)
    return settings, store, embedded_index, seed


def client_at(parts, now: datetime) -> TestClient:
    settings, store, index, seed = parts
    return TestClient(create_app(settings, store, index, seed, clock=lambda: now))


@pytest.fixture
def client(app_parts):
    with client_at(app_parts, NOW) as c:
        yield c


def rid(remote: str) -> str:
    return next(r.id for r in RECORDS if r.pdi.source.remote_id == remote)


def test_coverage_lists_every_seeded_jurisdiction_with_its_cells(client, seed):
    r = client.get("/api/coverage")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"generated_at", "categories", "jurisdictions", "totals"}
    assert body["generated_at"].startswith("2026-11-01")
    assert [c["id"] for c in body["categories"]] == [c.value for c in Category]
    assert [j["id"] for j in body["jurisdictions"]] == [j.id for j in seed]
    rows = {j["id"]: j for j in body["jurisdictions"]}
    seattle = rows["seattle-wa"]
    committed = {c.value for c in seed.get("seattle-wa").committed_categories}
    assert seattle["committed"] == len(committed)
    assert {c for c, cell in seattle["cells"].items() if cell["committed"]} == committed
    assert seattle["cells"]["use_of_force"] == {
        "committed": True,
        "published": 2,
        "fresh": 1,
        "overdue": 0,
        "delinquent": 1,
    }
    assert seattle["cells"]["complaints"]["overdue"] == 1  # weekly, 16 days old
    # a series: two records published, the old release final (fresh), the 2025 one judged yearly
    assert seattle["cells"]["officer_involved_shootings"]["published"] == 2
    assert seattle["cells"]["officer_involved_shootings"]["fresh"] == 2
    assert (seattle["published"], seattle["fresh"]) == (5, 3)
    austin = rows["austin-tx"]
    assert austin["cells"]["arrests"]["published"] == 1 and austin["cells"]["arrests"]["fresh"] == 0
    assert austin["cells"]["traffic_stops"]["published"] == 1  # unknown freshness still counts as published
    overall = body["totals"]["overall"]
    assert overall["published"] == len(RECORDS)
    assert overall["committed"] == sum(len(j.committed_categories) for j in seed)
    assert overall["missing"] == overall["committed"] - overall["committed_published"]
    uof = body["totals"]["by_category"]["use_of_force"]
    assert uof["published"] == 2 and uof["jurisdictions_published"] == 1


def test_coverage_moves_with_the_clock(app_parts):
    # a month on, nothing re-harvested: Seattle's weekly use-of-force data is no longer fresh
    with client_at(app_parts, NOW + 30 * DAY) as c:
        cell = c.get("/api/coverage", params={"jurisdiction": "seattle-wa"}).json()["jurisdictions"][0]
    assert cell["cells"]["use_of_force"]["fresh"] == 0 and cell["cells"]["use_of_force"]["delinquent"] == 2


def test_coverage_filters_and_csv(client):
    body = client.get("/api/coverage", params={"jurisdiction": "seattle-wa,austin-tx", "category": "arrests"}).json()
    assert [j["id"] for j in body["jurisdictions"]] == ["austin-tx", "seattle-wa"]  # the seed's order
    assert [c["id"] for c in body["categories"]] == ["arrests"]
    assert body["totals"]["overall"]["published"] == 1
    r = client.get("/api/coverage", params={"format": "csv", "jurisdiction": "austin-tx"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == len(Category)
    arrests = next(row for row in rows if row["category"] == "arrests")
    assert arrests == {
        "jurisdiction": "austin-tx",
        "name": "Austin",
        "state": "TX",
        "category": "arrests",
        "committed": arrests["committed"],
        "published": "1",
        "fresh": "0",
        "overdue": "1",
        "delinquent": "0",
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"jurisdiction": "gotham-nj"}, "jurisdiction: unknown id(s) gotham-nj"),
        ({"category": "jaywalking"}, "category: unknown id(s) jaywalking"),
        ({"format": "xml"}, "format: expected json or csv"),
    ],
)
def test_coverage_bad_parameters(client, params, message):
    r = client.get("/api/coverage", params=params)
    assert r.status_code == 400 and r.json()["error"].startswith(message)


def test_coverage_history_keeps_a_snapshot_per_harvest(app_parts, seed):
    _, store, _, _ = app_parts
    run1 = store.start_run("test", 0)
    snapshot_after_run(store, run1, seed, clock=lambda: NOW)
    store.upsert_record(
        make_dated_record("new-cmp", "Complaints Received", last=NOW, period="R/P1M", categories=("complaints",)),
        source_url="https://x.invalid",
        raw_content={},
        fetched_at=NOW,
        run_id=None,
    )
    run2 = store.start_run("test", 0)
    snapshot_after_run(store, run2, seed, clock=lambda: NOW + 30 * DAY)
    with client_at(app_parts, NOW + 30 * DAY) as c:
        body = c.get("/api/coverage/history").json()
        assert [s["run_id"] for s in body["snapshots"]] == [run1, run2]  # oldest first
        first, second = body["snapshots"]
        assert set(first) == {"run_id", "taken_at", "overall", "by_category"}
        assert second["overall"]["published"] == first["overall"]["published"] + 1
        assert second["by_category"]["complaints"]["published"] == 2
        # what each snapshot saw then: the fresh weekly data of the first is delinquent in the second
        assert first["by_category"]["use_of_force"]["fresh"] == 1
        assert second["by_category"]["use_of_force"]["fresh"] == 0
        assert [s["run_id"] for s in c.get("/api/coverage/history", params={"limit": 1}).json()["snapshots"]] == [run2]
        since = c.get("/api/coverage/history", params={"since": "2026-11-15"}).json()["snapshots"]
        assert [s["run_id"] for s in since] == [run2]
        bad = c.get("/api/coverage/history", params={"since": "last week"})
        assert bad.status_code == 400 and bad.json()["error"].startswith("since:")


def test_freshness_lists_stale_first_with_filters_and_paging(client):
    body = client.get("/api/freshness").json()
    statuses = [x["status"] for x in body["results"]]
    assert statuses == ["delinquent", "overdue", "overdue", "fresh", "fresh", "fresh", "unknown"]
    assert body["total"] == len(RECORDS) and body["next_offset"] is None
    assert body["counts"] == {"delinquent": 1, "overdue": 2, "due": 0, "fresh": 3, "unknown": 1}
    overdue = body["results"][1:3]
    assert [x["days_overdue"] for x in overdue] == [65, 9]  # most days overdue first
    atx = body["results"][1]
    assert atx["id"] == rid("atx") and atx["periodicity"] == "R/P1Y"
    assert atx["periodicity_source"] == "declared" and atx["expected_next_update"].startswith("2026-08-28")
    cmp_ = body["results"][2]
    assert cmp_["declared_frequency"] == "Weekly" and cmp_["periodicity"] == "R/P1W"
    latest = next(x for x in body["results"] if x["id"] == rid("ois-2025"))
    assert latest["series_latest"] and latest["series_id"] and latest["periodicity_source"] == "series"
    assert latest["series_label"] == "2025"

    seattle_stale = client.get(
        "/api/freshness", params={"jurisdiction": "seattle-wa", "status": "overdue,delinquent"}
    ).json()
    assert [x["id"] for x in seattle_stale["results"]] == [rid("uof-old"), rid("cmp")]
    assert seattle_stale["counts"]["fresh"] == 3  # counts over the jurisdiction, before the status filter
    by_category = client.get("/api/freshness", params={"category": "arrests"}).json()
    assert [x["id"] for x in by_category["results"]] == [rid("atx")]
    page1 = client.get("/api/freshness", params={"limit": 3}).json()
    page2 = client.get("/api/freshness", params={"limit": 3, "offset": page1["next_offset"]}).json()
    assert page1["next_offset"] == 3 and len(page2["results"]) == 3
    assert [x["id"] for x in page1["results"] + page2["results"]] == [x["id"] for x in body["results"][:6]]
    bad = client.get("/api/freshness", params={"status": "stale"})
    assert bad.status_code == 400 and "status: unknown stale" in bad.json()["error"]


def test_dataset_carries_live_freshness_and_its_series(client, app_parts):
    body = client.get(f"/api/datasets/{rid('ois-2024')}").json()
    assert body["freshness"]["status"] == "fresh"  # superseded by 2025: final
    assert body["record"]["pdi"]["freshness"]["status"] == "fresh"
    assert body["record"]["pdi"]["categories"][0]["category"] == "officer_involved_shootings"
    series = body["series"]
    assert series["name"] == "Officer Involved Shootings"
    assert [(m["label"], m["latest"]) for m in series["members"]] == [("2024", False), ("2025", True)]
    uof = client.get(f"/api/datasets/{rid('uof-old')}").json()
    assert uof["freshness"]["status"] == "delinquent" and uof["freshness"]["days_overdue"] == 23
    assert uof["record"]["pdi"]["freshness"]["status"] == "delinquent"
    assert uof["series"] is None
    with client_at(app_parts, NOW + 6 * DAY) as later:
        fresh_one = later.get(f"/api/datasets/{rid('uof')}").json()["freshness"]
    assert fresh_one["status"] == "due" and fresh_one["expected_next_update"].startswith("2026-11-06")


def test_search_has_a_freshness_facet_filter_and_live_status(client, app_parts):
    body = client.get("/api/search").json()
    facet = {f["value"]: f["count"] for f in body["facets"]["freshness"]}
    assert facet == {"fresh": 3, "overdue": 2, "delinquent": 1, "unknown": 1}
    stale = client.get("/api/search", params={"freshness": "overdue,delinquent"}).json()
    assert stale["total"] == 3 and {x["freshness"] for x in stale["results"]} == {"overdue", "delinquent"}
    assert all(x["categories"] for x in stale["results"])
    assert client.get("/api/search", params={"freshness": "stale"}).status_code == 400
    # two weeks later, before any harvest: the facet is as of the last index sync, each hit is live
    with client_at(app_parts, NOW + 13 * DAY) as later:
        hit = next(
            x
            for x in later.get("/api/search", params={"freshness": "fresh"}).json()["results"]
            if x["id"] == rid("uof")
        )
    assert hit["freshness"] == "overdue"


def test_jurisdiction_detail_has_harvest_health_and_freshness(client, app_parts):
    _, store, _, _ = app_parts
    run = store.start_run("test", 1)
    ok = store.start_source_run(run, "socrata:data.seattle.gov", "socrata", "https://data.seattle.gov")
    store.finish_source_run(ok, RunStatus.SUCCEEDED)
    bad = store.start_source_run(run, "socrata:data.seattle.gov", "socrata", "https://data.seattle.gov")
    store.finish_source_run(bad, RunStatus.FAILED)
    body = client.get("/api/jurisdictions/seattle-wa").json()
    assert body["harvest"]["runs"] == 2 and body["harvest"]["success_rate"] == 0.5
    assert body["harvest"]["last_status"] == "failed" and body["harvest"]["last_success_at"]
    assert body["freshness"] == {"fresh": 3, "due": 0, "overdue": 1, "delinquent": 1, "unknown": 0}
    listed = {j["id"]: j for j in client.get("/api/jurisdictions").json()}
    assert listed["seattle-wa"]["harvest"]["success_rate"] == 0.5
    assert listed["austin-tx"]["harvest"] == {
        "runs": 0,
        "succeeded": 0,
        "success_rate": None,
        "last_success_at": None,
        "last_status": None,
        "last_run_at": None,
    }
    sources = {s["source_id"]: s for s in client.get("/api/harvests").json()["sources"]}
    assert sources["socrata:data.seattle.gov"]["success_rate"] == 0.5


def test_openapi_documents_the_program_office_endpoints(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/coverage", "/api/coverage/history", "/api/freshness"):
        assert paths[path]["get"]["description"], path
    assert "HDX" in paths["/api/freshness"]["get"]["description"]
