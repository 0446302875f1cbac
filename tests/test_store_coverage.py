"""Freshness facts, coverage snapshots and harvest health in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from catalog.coverage import Commitments
from catalog.freshness import PeriodicitySource
from catalog.record import CatalogRecord
from catalog.vocabulary import FreshnessStatus, RecordStatus
from store import Store
from store.coverage import (
    combined_health,
    current_coverage,
    load_facts,
    refresh_facts,
    save_snapshot,
    series_members,
    snapshot_after_run,
    snapshots,
    source_harvest_health,
)
from store.store import RunStatus
from tests.factories import make_dated_record, make_record
from tests.test_store import BACKENDS, backend_url

NOW = datetime(2026, 11, 1, tzinfo=UTC)
SEATTLE = "socrata:data.seattle.gov"


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with backend_url(request.param, tmp_path) as url:
        s = Store(url)
        s.create_schema()
        yield s
        s.close()


def put(store: Store, rec: CatalogRecord) -> None:
    store.upsert_record(rec, source_url="https://x.invalid", raw_content={}, fetched_at=NOW, run_id=None)


def by_title(store: Store) -> dict[str, object]:
    return {f.title: f for f in load_facts(store)}


def test_facts_carry_period_series_and_status(store: Store) -> None:
    put(store, make_dated_record("w", "Weekly Use of Force", last=NOW - timedelta(days=15), period="R/P1W"))
    put(
        store, make_dated_record("m", "Arrests", last=NOW - timedelta(days=3), words="Monthly", categories=("arrests",))
    )
    put(store, make_dated_record("i", "Complaints", last=NOW - timedelta(days=900), words="As needed"))
    put(store, make_dated_record("u", "Stops", last=NOW - timedelta(days=2)))
    for year in (2023, 2024, 2025):  # a yearly series; the latest declares nothing of its own
        put(
            store,
            make_dated_record(
                f"y{year}", f"Officer Involved Shootings {year}", last=datetime(year + 1, 2, 1, tzinfo=UTC)
            ),
        )
    report = refresh_facts(store, NOW)
    assert report.sources == 1 and report.records == 7
    facts = by_title(store)
    weekly = facts["Weekly Use of Force"]
    assert (weekly.periodicity, weekly.periodicity_source) == ("R/P1W", PeriodicitySource.DECLARED)
    assert weekly.assess(NOW).status is FreshnessStatus.OVERDUE  # 15 days: past 14
    assert weekly.assess(NOW).days_overdue == 8
    assert facts["Arrests"].periodicity == "R/P1M" and facts["Arrests"].declared == "Monthly"
    assert facts["Arrests"].assess(NOW).status is FreshnessStatus.FRESH
    assert facts["Complaints"].assess(NOW).status is FreshnessStatus.FRESH  # as needed: HDX fresh
    assert facts["Stops"].assess(NOW).status is FreshnessStatus.UNKNOWN
    oldest, middle, latest = (facts[f"Officer Involved Shootings {y}"] for y in (2023, 2024, 2025))
    assert oldest.series_id == middle.series_id == latest.series_id is not None
    assert latest.series_latest and not oldest.series_latest
    assert (latest.periodicity, latest.periodicity_source) == ("R/P1Y", PeriodicitySource.SERIES)
    assert latest.assess(NOW).status is FreshnessStatus.FRESH  # 2025's release came out 2026-02-01
    assert oldest.assess(NOW).status is FreshnessStatus.FRESH  # superseded: final, not stale
    assert [m.series_label for m in series_members(store, latest.series_id)] == ["2023", "2024", "2025"]
    # 430 days after the 2025 release the 2026 one has not come: the series is overdue (its latest
    # release, once), its older releases still are not
    later = datetime(2026, 2, 1, tzinfo=UTC) + timedelta(days=430)
    assert latest.assess(later).status is FreshnessStatus.OVERDUE
    assert oldest.assess(later).status is FreshnessStatus.FRESH


def test_refresh_is_incremental_and_follows_changes_and_withdrawals(store: Store) -> None:
    put(store, make_dated_record("a", "Use of Force", last=NOW - timedelta(days=1), period="R/P1D"))
    put(
        store,
        make_dated_record("b", "Arrests", last=NOW, source="ckan:data.virginia.gov", jurisdictions=("hampton-va",)),
    )
    assert refresh_facts(store, NOW).sources == 2
    assert refresh_facts(store, NOW).sources == 0  # nothing changed: nothing recomputed
    put(store, make_dated_record("a", "Use of Force", last=NOW, period="R/P1D"))  # a new data update
    again = refresh_facts(store, NOW)
    assert (again.sources, again.records) == (1, 1)
    assert by_title(store)["Use of Force"].last_update == NOW
    store.settle_source(SEATTLE, [], run_id=None, withdraw_after=1, now=NOW)  # "a" is gone at the source
    assert store.get(make_record("a", "x").id).status is RecordStatus.WITHDRAWN
    gone = refresh_facts(store, NOW)
    assert gone.removed == 1
    assert set(by_title(store)) == {"Arrests"}


def test_a_period_is_inferred_from_the_updates_harvests_saw(store: Store) -> None:
    first = NOW - timedelta(days=21)
    put(store, make_dated_record("h", "Calls for Service", last=first))
    refresh_facts(store, NOW)
    for week in (1, 2):  # two more weekly updates, each seen by a refresh
        put(store, make_dated_record("h", "Calls for Service", last=first + timedelta(days=7 * week)))
        refresh_facts(store, NOW)
    facts = by_title(store)["Calls for Service"]
    assert len(facts.update_times) == 3
    assert (facts.periodicity, facts.periodicity_source) == ("R/P1W", PeriodicitySource.INFERRED)
    assert facts.assess(NOW).status is FreshnessStatus.DUE  # last update 7 days ago


def test_update_times_are_read_from_history_when_facts_are_new(store: Store) -> None:
    first = NOW - timedelta(days=90)
    for month in range(3):  # three versions stored before any refresh (an upgraded store)
        put(store, make_dated_record("c", "Crime Incidents", last=first + timedelta(days=30 * month)))
    refresh_facts(store, NOW)
    facts = by_title(store)["Crime Incidents"]
    assert (facts.periodicity, facts.periodicity_source) == ("R/P1M", PeriodicitySource.INFERRED)


def test_current_coverage_and_snapshots(store: Store) -> None:
    put(store, make_dated_record("w", "Use of Force", last=NOW - timedelta(days=30), period="R/P1W"))  # delinquent
    put(store, make_dated_record("f", "Use of Force Incidents", last=NOW - timedelta(days=1), period="R/P1W"))
    put(store, make_dated_record("v", "Traffic Stops", last=NOW, period="R/P1D", categories=("traffic_stops",)))
    jurisdictions = [
        Commitments("seattle-wa", "Seattle", "WA", ("use_of_force", "complaints")),
        Commitments("austin-tx", "Austin", "TX", ("use_of_force",)),
    ]
    matrix = current_coverage(store, jurisdictions, NOW)
    seattle = matrix["jurisdictions"][0]
    assert seattle["cells"]["use_of_force"] == {
        "committed": True,
        "published": 2,
        "fresh": 1,
        "overdue": 0,
        "delinquent": 1,
    }
    assert seattle["cells"]["complaints"]["committed"] and seattle["cells"]["complaints"]["published"] == 0
    assert seattle["missing"] == 1 and matrix["jurisdictions"][1]["missing"] == 1
    first = save_snapshot(store, matrix, run_id=None, taken_at=NOW)
    put(store, make_dated_record("c", "Complaints", last=NOW, period="R/P1M", categories=("complaints",)))
    later = current_coverage(store, jurisdictions, NOW + timedelta(days=1))
    save_snapshot(store, later, run_id=None, taken_at=NOW + timedelta(days=1))
    history = snapshots(store)
    assert [s["id"] for s in history][0] == first and len(history) == 2  # oldest first
    assert [s["overall"]["missing"] for s in history] == [2, 1]
    assert history[1]["by_category"]["complaints"]["committed_published"] == 1
    assert [s["taken_at"] for s in snapshots(store, limit=1)] == [NOW + timedelta(days=1)]
    assert len(snapshots(store, since=NOW + timedelta(hours=1))) == 1
    kept = snapshots(store, with_jurisdictions=True)[1]["by_jurisdiction"]["seattle-wa"]
    assert set(kept["cells"]) == {"use_of_force", "complaints", "traffic_stops"}  # cells holding something


def test_harvest_health_per_source_and_combined(store: Store) -> None:
    run = store.start_run("test", 2)
    for status in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.SUCCEEDED, RunStatus.FAILED):
        sr = store.start_source_run(run, "a", "socrata", "https://a.invalid")
        store.finish_source_run(sr, status)
    sr = store.start_source_run(run, "b", "ckan", "https://b.invalid")
    store.finish_source_run(sr, RunStatus.SUCCEEDED)
    store.start_source_run(run, "b", "ckan", "https://b.invalid")  # still running: not counted
    health = source_harvest_health(store)
    assert (health["a"].runs, health["a"].succeeded, health["a"].success_rate) == (4, 2, 0.5)
    assert health["a"].last_status == "failed" and health["a"].last_success_at is not None
    assert (health["b"].runs, health["b"].success_rate) == (1, 1.0)
    both = combined_health([health["a"], health["b"]])
    assert (both.runs, both.succeeded, both.success_rate) == (5, 3, 0.6)
    assert both.last_success_at == min(health["a"].last_success_at, health["b"].last_success_at)
    assert combined_health([health["a"], None]).last_success_at is None  # a source never harvested
    assert combined_health([]).success_rate is None


def test_a_snapshot_that_cannot_be_taken_is_an_error_of_the_run(store: Store) -> None:
    run = store.start_run("test", 0)

    def broken_clock() -> datetime:
        raise ValueError("no clock")

    assert snapshot_after_run(store, run, [], broken_clock) is None
    assert [e["message"] for e in store.errors(run)] == ["coverage snapshot not taken: no clock"]
    assert snapshots(store) == []
    assert snapshot_after_run(store, run, [], lambda: NOW) is not None
    assert [s["run_id"] for s in snapshots(store)] == [run]
