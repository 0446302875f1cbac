"""The scheduler service: persisted jobs, backoff of a failing source, others unaffected."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from catalog_seed.loader import Seed
from harvesters.http import HttpClient, HttpSettings
from pdi.runtime import jurisdiction_lookup
from scheduler.run import HarvestRun
from scheduler.service import SchedulePolicy, SchedulerService, next_runs
from simulator.server import PortalSimulator


def _seed_of(seed, ids):
    return Seed(directory=seed.directory, jurisdictions=tuple(j for j in seed if j.id in ids))


def test_backoff_is_exponential_and_capped():
    p = SchedulePolicy(backoff_base=timedelta(minutes=15), backoff_cap=timedelta(hours=2))
    assert [p.backoff(n) for n in range(6)] == [
        timedelta(0),
        timedelta(minutes=15),
        timedelta(minutes=30),
        timedelta(hours=1),
        timedelta(hours=2),
        timedelta(hours=2),
    ]
    assert p.period("hourly") == timedelta(hours=1) and p.period(None) == timedelta(days=1)


def test_jobs_are_persisted_in_the_store_and_survive_a_restart(store, seed):
    small = _seed_of(seed, {"seattle-wa", "hampton-va"})
    later = datetime.now(UTC) + timedelta(days=3)
    first = SchedulerService(store, small, lambda: None)  # type: ignore[arg-type,return-value]
    first.start(first_run=later)
    ids = sorted(j.id for j in first.scheduler.get_jobs())
    first.shutdown()
    assert ids == sorted(p.source_id for p in small.sources())
    stored = next_runs(store)
    assert set(stored) == set(ids)
    assert all(abs((t - later).total_seconds()) < 2 for t in stored.values())
    # a restart keeps the stored times instead of rescheduling from scratch
    second = SchedulerService(store, small, lambda: None)  # type: ignore[arg-type,return-value]
    second.start(first_run=datetime.now(UTC))
    try:
        jobs = second.scheduler.get_jobs()
        assert len(jobs) == len(stored)
        assert all(abs((j.next_run_time - stored[j.id]).total_seconds()) < 1 for j in jobs)
    finally:
        second.shutdown()


def test_a_failing_source_backs_off_while_the_others_stay_fresh(store, embedded_index, seed):
    small = _seed_of(seed, {"seattle-wa", "atlanta-ga", "dallas-tx"})
    failing = "socrata:data.seattle.gov"
    with PortalSimulator(small, seed_number=3, datasets_per_portal=(20, 30)) as sim:
        sim.inject("data.seattle.gov", "500")  # throughout

        def make_run() -> HarvestRun:
            http = HttpClient(HttpSettings(max_retries=0, timeout_s=5), route=sim.route)
            return HarvestRun(store, embedded_index, jurisdiction_lookup(small), http, workers=2)

        policy = SchedulePolicy(
            default_period=timedelta(seconds=2),
            jitter_s=0,
            backoff_base=timedelta(seconds=1),
            backoff_cap=timedelta(seconds=4),
        )
        service = SchedulerService(store, small, make_run, policy=policy, workers=3)
        service.start(first_run=datetime.now(UTC))
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                health = store.source_health()
                others_ok = all(
                    health.get(p.source_id, {}).get("runs", 0) - health.get(p.source_id, {}).get("failed", 0) >= 3
                    for p in small.sources()
                    if p.source_id != failing
                )
                if others_ok and health.get(failing, {}).get("failed", 0) >= 3:
                    break
                time.sleep(0.5)
        finally:
            service.shutdown()
    health = store.source_health()
    assert health[failing]["failed"] >= 3 and health[failing]["last_ok"] is None
    assert store.consecutive_failures(failing) == health[failing]["failed"]
    for plan in small.sources():
        if plan.source_id != failing:
            assert health[plan.source_id]["failed"] == 0
            assert health[plan.source_id]["runs"] >= 3  # never held up by the failing one
    assert embedded_index.count() == store.count() > 0
