"""The harvest scheduler: one APScheduler (3.x) job per source, persisted in the store's database.

- Each source harvests on its seed schedule hint (``harvest_schedule``: hourly, daily, weekly;
  default daily), with jitter so fifty portals are not hit in the same second.
- At most one run per source at a time (``max_instances=1`` in this process; the store's claim of a
  source run across processes), and misfired runs are coalesced into one.
- A source whose harvest fails is retried sooner than its period but backs off exponentially
  (capped), and only its own job moves: the others keep their times.
- Jobs live in the ``scheduler_jobs`` table of the store, so a restart keeps every next-run time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Column, Float, MetaData, String, Table, select

from catalog_seed import Seed
from catalog_seed.loader import SourcePlan
from scheduler.run import HarvestRun, HarvestSummary
from store import Store
from store.store import RunStatus

log = logging.getLogger("pdi.scheduler")

JOB_TABLE = "scheduler_jobs"
SCHEDULE_HINTS = {"hourly": timedelta(hours=1), "daily": timedelta(days=1), "weekly": timedelta(days=7)}


@dataclass(frozen=True)
class SchedulePolicy:
    default_period: timedelta = timedelta(days=1)
    jitter_s: int = 1800
    backoff_base: timedelta = timedelta(minutes=15)
    backoff_cap: timedelta = timedelta(hours=12)
    misfire_grace_s: int = 6 * 3600

    def period(self, hint: str | None) -> timedelta:
        return SCHEDULE_HINTS.get((hint or "").lower(), self.default_period)

    def backoff(self, failures: int) -> timedelta:
        """Delay before retrying a source that failed ``failures`` times in a row."""
        if failures <= 0:
            return timedelta(0)
        return min(self.backoff_cap, self.backoff_base * (2 ** (failures - 1)))


# APScheduler stores a job's function by its import path, so the job entry point is a module
# function; it finds the running service here. One service per process.
_SERVICE: SchedulerService | None = None


def harvest_source_job(source_id: str) -> None:
    """The persisted job: harvest one source now (called by APScheduler)."""
    if _SERVICE is None:
        raise RuntimeError("no scheduler service is running in this process")
    _SERVICE.harvest_source(source_id)


class SchedulerService:
    def __init__(
        self,
        store: Store,
        seed: Seed,
        make_run: Callable[[], HarvestRun],
        *,
        policy: SchedulePolicy | None = None,
        workers: int = 4,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.seed = seed
        self.make_run = make_run
        self.policy = policy or SchedulePolicy()
        self.clock = clock
        self.plans = {p.source_id: p for p in seed.sources()}
        jobstore = SQLAlchemyJobStore(engine=store.engine, tablename=JOB_TABLE)
        options: dict[str, Any] = {
            "jobstores": {"default": jobstore},
            "executors": {"default": ThreadPoolExecutor(max_workers=workers)},
            "job_defaults": {"coalesce": True, "max_instances": 1, "misfire_grace_time": self.policy.misfire_grace_s},
            "timezone": UTC,
        }
        # Always a background scheduler; a service process waits on it (see `pdi scheduler`).
        self.scheduler: BaseScheduler = BackgroundScheduler(**options)
        self.last_summaries: dict[str, HarvestSummary] = {}

    # ---- jobs ------------------------------------------------------------------------------

    def _hint(self, plan: SourcePlan) -> str | None:
        hints = [j.harvest_schedule for jid in plan.jurisdictions if (j := self.seed.get(jid)) and j.harvest_schedule]
        return hints[0] if hints else None

    def sync_jobs(self, first_run: datetime | None = None) -> None:
        """One job per seeded source; keeps the stored next-run time of jobs that already exist,
        adds new sources (first run at ``first_run``, default one period from now) and removes jobs
        of sources no longer in the seed."""
        existing = {job.id: job for job in self.scheduler.get_jobs()}
        for sid, plan in self.plans.items():
            period = self.policy.period(self._hint(plan))
            trigger = IntervalTrigger(seconds=int(period.total_seconds()), jitter=self.policy.jitter_s, timezone=UTC)
            if sid in existing:
                job = existing[sid]
                if getattr(job.trigger, "interval", None) != trigger.interval:
                    job.reschedule(trigger)
                continue
            self.scheduler.add_job(
                harvest_source_job,
                trigger=trigger,
                args=[sid],
                id=sid,
                name=f"harvest {sid}",
                next_run_time=first_run or (self.clock() + period),
                replace_existing=True,
            )
        for sid in set(existing) - set(self.plans):
            self.scheduler.remove_job(sid)

    def start(self, first_run: datetime | None = None) -> None:
        """Start scheduling in background threads."""
        global _SERVICE
        _SERVICE = self
        self.scheduler.start(paused=True)  # paused: sync the jobs before any of them runs
        self.sync_jobs(first_run)
        self.scheduler.resume()

    def shutdown(self, wait: bool = True) -> None:
        global _SERVICE
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
        if _SERVICE is self:
            _SERVICE = None

    def run_now(self, source_ids: list[str] | None = None) -> list[str]:
        """Move the given sources' (default: all) next run to now; returns the ids moved."""
        now = self.clock()
        moved = []
        for sid in source_ids or list(self.plans):
            if self.scheduler.get_job(sid) is not None:
                self.scheduler.modify_job(sid, next_run_time=now)
                moved.append(sid)
        return moved

    # ---- one harvest -------------------------------------------------------------------------

    def harvest_source(self, source_id: str) -> HarvestSummary | None:
        plan = self.plans.get(source_id)
        if plan is None:
            log.warning("scheduled source %s is no longer in the seed", source_id)
            return None
        summary = self.make_run().run([plan], trigger="scheduler")
        self.last_summaries[source_id] = summary
        result = summary.sources[0] if summary.sources else None
        if result is not None and result.status is RunStatus.FAILED:
            failures = self.store.consecutive_failures(source_id)
            retry_at = self.clock() + self.policy.backoff(failures)
            job = self.scheduler.get_job(source_id)
            if job is not None and (job.next_run_time is None or retry_at < job.next_run_time):
                # retry sooner than the period, later each time; other sources are untouched
                self.scheduler.modify_job(source_id, next_run_time=retry_at)
            log.warning("source %s failed (%d in a row); next try at %s", source_id, failures, retry_at)
        return summary


def next_runs(store: Store) -> dict[str, datetime]:
    """Next scheduled run per source, read from the persisted job table (any process may ask)."""
    table = Table(JOB_TABLE, MetaData(), Column("id", String(191), primary_key=True), Column("next_run_time", Float))
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(select(table.c.id, table.c.next_run_time)).all()
    except Exception:  # noqa: BLE001 - no scheduler has run yet: no table
        return {}
    return {r.id: datetime.fromtimestamp(r.next_run_time, UTC) for r in rows if r.next_run_time is not None}
