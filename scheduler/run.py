"""One harvest run over a set of sources: gather → map → classify → store → index.

Sources on different hosts run at the same time (a pool of workers); politeness per host is the
HTTP layer's business. One bad record never aborts a run; a failed gather marks its source failed
and withdraws nothing. Store writes are serialised; the index follows the store and, if it is
unavailable, catches up later with ``pdi reindex`` — the store is never held back by the index.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from multiprocessing import get_context
from typing import Any
from urllib.parse import urlsplit

from catalog.classify import classify_record
from catalog.freshness import PeriodicitySource, assess_record
from catalog.ids import record_id
from catalog.record import CatalogRecord
from catalog_seed.loader import SourcePlan
from harvesters import registry
from harvesters.base import GatherError, GatherStats, Harvester, Probe, ProbePolicy, RawRecord, SourceContext
from harvesters.fanout import ordered_map
from harvesters.http import RETRY_STATUSES, FetchError, HttpClient
from index.base import IndexUnavailable, SearchIndex
from index.documents import JurisdictionInfo, to_document
from index.sync import sync_index
from store.coverage import refresh_source_facts, snapshot_after_run
from store.store import ChangeKind, RunStatus, Stage, Store, StoreError, utcnow

INDEX_BATCH = 200


@dataclass
class SourceResult:
    source_id: str
    platform: str
    url: str
    status: RunStatus = RunStatus.RUNNING
    complete: bool = False
    pages: int = 0
    records_seen: int = 0
    records_new: int = 0
    records_changed: int = 0
    records_unchanged: int = 0
    records_withdrawn: int = 0
    records_failed: int = 0
    records_skipped: int = 0
    error: str | None = None
    duration_s: float = 0.0
    unchanged_by_probe: bool = False  # settled from a steady probe, without reading the catalog
    resumed_at: int = 0  # the catalog offset an unfinished earlier gather was resumed from


@dataclass
class HarvestSummary:
    run_id: int
    status: RunStatus
    sources_total: int = 0
    sources_ok: int = 0
    sources_failed: int = 0
    sources_skipped: int = 0  # already being harvested by another run
    records_new: int = 0
    records_changed: int = 0
    records_unchanged: int = 0
    records_withdrawn: int = 0
    records_failed: int = 0
    records_skipped: int = 0
    pages: int = 0
    requests: int = 0
    retries: int = 0
    errors: int = 0
    index_errors: int = 0
    index_synced: int = 0  # documents the end-of-run check found missing or stale in the index
    duration_s: float = 0.0
    sources: list[SourceResult] = field(default_factory=list)

    def as_dict(self, with_sources: bool = False) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        if with_sources:
            data["sources"] = [{**asdict(s), "status": s.status.value} for s in self.sources]
        else:
            data.pop("sources")
        return data


ProgressFn = Callable[[str, SourceResult], None]


@dataclass
class _Outcome:
    """What preparing one raw record found; ``action`` is store, unchanged, skipped or failed."""

    raw: RawRecord
    action: str
    seen_id: str | None = None
    record: CatalogRecord | None = None
    errors: list[tuple[Stage, str]] = field(default_factory=list)
    page_offset: int | None = None  # the offset of the page it came on (offset-paged catalogs)


OpenParts = Callable[[], tuple[Store, SearchIndex | None, HttpClient]]

#: records of a source prepared (mapped, classified, enriched) ahead of their commit, at most
PREPARED_AHEAD = 32


@dataclass(frozen=True)
class Shards:
    """Spread a run's sources over ``processes`` processes (this one included), by host.

    A harvest's work between requests (parsing, mapping, classifying, writing) holds Python's
    interpreter lock, so one process uses one core however many threads wait on the network.
    ``open`` builds, in each other process, its own store, index and HTTP client; it must be
    picklable (a module-level function or a ``functools.partial`` of one), as processes are
    spawned, not forked. Hosts are never split, so per-host politeness holds in each process.
    """

    processes: int
    open: OpenParts


@dataclass
class _ShardResult:
    results: list[SourceResult]
    stats: dict[str, dict[str, int]]  # HttpStats.counts()
    errors: int
    index_errors: int


_shard_events: Any = None


def _shard_init(events: Any) -> None:
    global _shard_events
    _shard_events = events
    # A shard must not outlive its run: if the harvest process dies (a SIGKILL gives it no time to
    # stop its pool), this process is handed to another parent and exits, as the harvest did.
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="pdi-shard-watch", daemon=True).start()


def _shard_progress(event: str, result: SourceResult) -> None:
    if _shard_events is not None:
        _shard_events.put((event, result))


def _harvest_shard(
    open_parts: OpenParts,
    jurisdictions: dict[str, JurisdictionInfo],
    run_id: int,
    plans: list[SourcePlan],
    withdraw_after: int,
    workers: int,
    probes: ProbePolicy,
) -> _ShardResult:
    """One shard of a run, in a process of its own (see :class:`Shards`)."""
    store, index, http = open_parts()
    try:
        run = HarvestRun(
            store,
            index,
            jurisdictions,
            http,
            withdraw_after=withdraw_after,
            workers=workers,
            progress=_shard_progress,
            probes=probes,
        )
        results = run.harvest_sources(run_id, plans)
        return _ShardResult(results, http.stats.counts(), run._errors, run._index_errors)
    finally:
        if index is not None:
            index.close()
        store.close()


class HarvestRun:
    def __init__(
        self,
        store: Store,
        index: SearchIndex | None,
        jurisdictions: Mapping[str, JurisdictionInfo],
        http: HttpClient,
        *,
        withdraw_after: int = 2,
        workers: int = 8,
        progress: ProgressFn | None = None,
        probes: ProbePolicy | None = None,
        shards: Shards | None = None,
        clock: Callable[[], datetime] = utcnow,  # "now" for freshness; tests pass the simulator's
    ) -> None:
        self.store = store
        self.index = index
        self.jurisdictions = jurisdictions
        self.http = http
        self.withdraw_after = withdraw_after
        self.workers = workers
        self.progress = progress
        self.probes = probes or ProbePolicy()
        self.checkpoint_every_s = 5.0  # at most one gather checkpoint per source this often
        self.shards = shards if shards is not None and shards.processes > 1 else None
        self.clock = clock
        self._write_lock = threading.Lock()
        self._index_errors = 0
        self._errors = 0
        self._counter_lock = threading.Lock()
        self._index_lock = threading.Lock()  # one source's index update at a time (see _reindex)

    def run(self, plans: list[SourcePlan], trigger: str = "cli") -> HarvestSummary:
        started = time.monotonic()
        run_id = self.store.start_run(trigger, len(plans))
        summary = HarvestSummary(run_id=run_id, status=RunStatus.RUNNING, sources_total=len(plans))
        status = RunStatus.INTERRUPTED
        try:
            summary.sources = self._harvest_all(run_id, self._longest_first(plans))
            self._sync_index(run_id, summary)
            ok = sum(1 for s in summary.sources if s.status in (RunStatus.SUCCEEDED, RunStatus.SKIPPED))
            if ok == len(plans):
                status = RunStatus.SUCCEEDED
            elif ok == 0:
                status = RunStatus.FAILED
            else:
                status = RunStatus.PARTIAL
        finally:
            summary.status = status
            summary.duration_s = round(time.monotonic() - started, 3)
            self._total(summary)
            stats = self.http.stats
            self.store.record_host_stats(
                run_id,
                {
                    host: {"requests": n, "retries": stats.retries.get(host, 0), "bytes": stats.bytes.get(host, 0)}
                    for host, n in stats.requests.items()
                },
            )
            self.store.finish_run(
                run_id,
                status,
                {
                    "sources_ok": summary.sources_ok,
                    "sources_failed": summary.sources_failed,
                    "records_new": summary.records_new,
                    "records_changed": summary.records_changed,
                    "records_unchanged": summary.records_unchanged,
                    "records_withdrawn": summary.records_withdrawn,
                    "records_failed": summary.records_failed,
                    "records_skipped": summary.records_skipped,
                },
                summary.duration_s,
            )
        snapshot_after_run(self.store, run_id, self.jurisdictions.values(), self.clock)
        return summary

    def harvest_sources(self, run_id: int, plans: list[SourcePlan]) -> list[SourceResult]:
        """Harvest ``plans`` (in this order) for run ``run_id`` on this process's worker threads."""
        results: list[SourceResult] = []
        with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(plans) or 1))) as pool:
            futures = [pool.submit(self._harvest_source, run_id, plan) for plan in plans]
            for future in as_completed(futures):
                results.append(future.result())
        return results

    def _harvest_all(self, run_id: int, plans: list[SourcePlan]) -> list[SourceResult]:
        """Every plan, on this process's threads and, with :attr:`shards`, on other processes: one
        shard of hosts each, so every host's politeness stays with one process's HTTP client."""
        groups = self._shard(plans) if self.shards is not None else [plans]
        if len(groups) == 1:
            return self.harvest_sources(run_id, plans)
        assert self.shards is not None
        context = get_context("spawn")  # never fork a process that runs threads
        events = context.Queue()
        relay = threading.Thread(target=self._relay, args=(events,), daemon=True)
        relay.start()
        try:
            with ProcessPoolExecutor(
                len(groups) - 1, mp_context=context, initializer=_shard_init, initargs=(events,)
            ) as processes:
                remote = [
                    processes.submit(
                        _harvest_shard,
                        self.shards.open,
                        dict(self.jurisdictions),
                        run_id,
                        group,
                        self.withdraw_after,
                        self.workers,
                        self.probes,
                    )
                    for group in groups[1:]
                ]
                results = self.harvest_sources(run_id, groups[0])
                for future in remote:
                    shard = future.result()
                    results += shard.results
                    self.http.stats.merge(shard.stats)
                    with self._counter_lock:
                        self._errors += shard.errors
                        self._index_errors += shard.index_errors
        finally:
            events.put(None)
            relay.join(timeout=5)
        return results

    def _relay(self, events: Any) -> None:
        """Pass the other processes' progress events to this run's progress callback."""
        while (item := events.get()) is not None:
            self._notify(*item)

    def _shard(self, plans: list[SourcePlan]) -> list[list[SourcePlan]]:
        """``plans`` in at most ``shards.processes`` groups of about equal expected time, every
        source of one host in one group, each group keeping the longest-first order."""
        assert self.shards is not None
        expected = self._expected()
        by_host: dict[str, list[SourcePlan]] = {}
        for plan in plans:
            by_host.setdefault(urlsplit(plan.url).netloc.lower(), []).append(plan)
        count = max(1, min(self.shards.processes, len(by_host)))
        groups: list[list[SourcePlan]] = [[] for _ in range(count)]
        load = [0.0] * count
        for hosted in sorted(by_host.values(), key=lambda ps: -sum(expected(p) for p in ps)):
            emptiest = load.index(min(load))
            groups[emptiest] += hosted
            load[emptiest] += sum(expected(p) for p in hosted)
        order = {plan.source_id: n for n, plan in enumerate(plans)}
        return [sorted(g, key=lambda p: order[p.source_id]) for g in groups if g]

    # Sources that walk a directory or crawl pages take longest when nothing is known yet.
    _PLATFORM_WEIGHT = {"arcgis_server": 3.0, "html": 2.0}

    def _expected(self) -> Callable[[SourcePlan], float]:
        """A source's expected harvest time: its last run's, or a guess by kind when unknown."""
        last = self.store.last_source_runs()

        def expected(plan: SourcePlan) -> float:
            run = last.get(plan.source_id)
            if run and run.get("finished_at") and run.get("started_at"):
                return float((run["finished_at"] - run["started_at"]).total_seconds())
            return self._PLATFORM_WEIGHT.get(plan.platform, 1.0) * 1000.0  # unknown: by kind, before known ones

        return expected

    def _longest_first(self, plans: list[SourcePlan]) -> list[SourcePlan]:
        """Start the sources that took longest last time (or are slow by kind) first, so the run
        ends close to its slowest source's own time rather than waiting for a late starter."""
        expected = self._expected()
        return sorted(plans, key=lambda p: -expected(p))

    def _sync_index(self, run_id: int, summary: HarvestSummary) -> None:
        """Catch the index up with the store (documents it missed while down or rejected)."""
        if self.index is None:
            return
        try:
            report = sync_index(self.store, self.index, self.jurisdictions, now=self.clock())
        except IndexUnavailable as exc:
            with self._counter_lock:
                self._errors += 1
                self._index_errors += 1
            with self._write_lock:
                self.store.record_error(run_id, "*", Stage.INDEX, f"index not synced with the store: {exc}")
            return
        summary.index_synced = report.indexed + report.deleted

    def _total(self, summary: HarvestSummary) -> None:
        summary.sources_ok = sum(1 for s in summary.sources if s.status is RunStatus.SUCCEEDED)
        summary.sources_skipped = sum(1 for s in summary.sources if s.status is RunStatus.SKIPPED)
        summary.sources_failed = len(summary.sources) - summary.sources_ok - summary.sources_skipped
        for name in (
            "records_new",
            "records_changed",
            "records_unchanged",
            "records_withdrawn",
            "records_failed",
            "records_skipped",
            "pages",
        ):
            setattr(summary, name, sum(getattr(s, name) for s in summary.sources))
        summary.requests = sum(self.http.stats.requests.values())
        summary.retries = sum(self.http.stats.retries.values())
        summary.errors = self._errors
        summary.index_errors = self._index_errors

    # ---- one source ------------------------------------------------------------------------

    def _error(
        self,
        run_id: int,
        plan: SourcePlan,
        stage: Stage,
        message: str,
        remote_id: str | None,
        url: str | None,
    ) -> None:
        with self._counter_lock:
            self._errors += 1
            if stage is Stage.INDEX:
                self._index_errors += 1
        with self._write_lock:
            self.store.record_error(run_id, plan.source_id, stage, message, remote_id=remote_id, url=url)

    def _harvest_source(self, run_id: int, plan: SourcePlan) -> SourceResult:
        started = time.monotonic()
        result = SourceResult(source_id=plan.source_id, platform=plan.platform, url=plan.url)
        with self._write_lock:
            source_run_id = self.store.claim_source_run(run_id, plan.source_id, plan.platform, plan.url)
        if source_run_id is None:
            # another run (this process or another sharing the store) is harvesting it now
            result.status = RunStatus.SKIPPED
            result.error = "skipped: a harvest of this source is already running"
            self._notify("done", result)
            return result
        self._notify("start", result)
        harvester = registry.get(plan.platform)
        ctx = SourceContext(
            source_id=plan.source_id,
            platform=plan.platform,
            url=plan.url,
            portal_url=plan.portal_url,
            portal_platform=plan.portal_platform,
            scope=plan.scope,
            jurisdictions=plan.jurisdictions,
        )
        stats = GatherStats()
        seen: set[str] = set()
        try:
            probe = self._probe(run_id, plan, harvester, ctx)
        except (GatherError, FetchError) as exc:
            probe, result.error = None, str(exc)
            self._error(run_id, plan, Stage.GATHER, str(exc), None, getattr(exc, "url", None))
        if result.error is None:  # else the portal did not answer the probe: nothing settled or withdrawn
            seen = self._read(run_id, plan, harvester, ctx, probe, stats, result)
        result.pages = stats.pages
        if result.complete and result.error is None:
            with self._write_lock:
                withdrawn = self.store.settle_source(
                    plan.source_id, seen, run_id=run_id, withdraw_after=self.withdraw_after
                )
            result.records_withdrawn = len(withdrawn)
            if withdrawn:
                self._unindex(run_id, plan, withdrawn)
            if result.records_new or result.records_changed or withdrawn:
                self._settle_freshness(run_id, plan)
            result.status = RunStatus.SUCCEEDED
        else:
            result.status = RunStatus.FAILED
            if result.error is None:
                result.error = "gather ended before the whole catalog was read"
                self._error(run_id, plan, Stage.GATHER, result.error, None, plan.url)
        result.duration_s = round(time.monotonic() - started, 3)
        with self._write_lock:
            self.store.finish_source_run(
                source_run_id,
                result.status,
                complete=result.complete,
                pages=result.pages,
                records_seen=result.records_seen,
                records_new=result.records_new,
                records_changed=result.records_changed,
                records_unchanged=result.records_unchanged,
                records_withdrawn=result.records_withdrawn,
                records_failed=result.records_failed,
                records_skipped=result.records_skipped,
                error=result.error,
            )
        self._notify("done", result)
        return result

    def _read(
        self,
        run_id: int,
        plan: SourcePlan,
        harvester: Harvester,
        ctx: SourceContext,
        probe: Probe | None,
        stats: GatherStats,
        result: SourceResult,
    ) -> set[str]:
        """Settle the source from a steady probe, or gather it (resuming where an unfinished read
        stopped); returns the ids seen at the source."""
        kept = self.store.source_probe(plan.source_id) if probe is not None else None
        if probe is not None and kept is not None and self.probes.steady(probe, kept, utcnow()):
            # Nothing came, went or (for a change-tracking probe) changed since the last whole read:
            # what that read saw is still there, and the source is settled as a complete harvest.
            seen = self.store.settled_ids(plan.source_id)
            result.records_unchanged = len(seen)
            result.complete = result.unchanged_by_probe = True
            with self._write_lock:
                self.store.save_probe(
                    plan.source_id,
                    probe.fingerprint,
                    probe.tracks_changes,
                    full_read_at=kept["full_read_at"],
                    probed_at=utcnow(),
                )
            return seen
        seen = set()
        read_at = utcnow()
        result.resumed_at = self._resume(plan, probe, stats, seen)
        self._gather(run_id, plan, harvester, ctx, stats, result, seen, probe)
        if probe is not None and result.complete and result.error is None:
            with self._write_lock:
                self.store.save_probe(
                    plan.source_id, probe.fingerprint, probe.tracks_changes, full_read_at=read_at, probed_at=read_at
                )
                self.store.drop_checkpoint(plan.source_id)
        return seen

    def _gather(
        self,
        run_id: int,
        plan: SourcePlan,
        harvester: Harvester,
        ctx: SourceContext,
        stats: GatherStats,
        result: SourceResult,
        seen: set[str],
        probe: Probe | None,
    ) -> None:
        """Read the whole catalog: records prepared (and enriched) as many at a time as the host
        allows, committed in order; ``result.complete`` only when the gather finished. With a
        probe, an offset-paged gather is checkpointed at page boundaries (see :meth:`_resume`)."""
        pending: list[CatalogRecord] = []
        page: int | None = None
        saved = time.monotonic()

        stored = self.store.record_ids(plan.source_id)  # the others have no stored copy to look up

        def prepare(item: tuple[RawRecord, int | None]) -> _Outcome:
            outcome = self._prepare(harvester, ctx, item[0], stored)
            outcome.page_offset = item[1]
            return outcome

        try:
            gathered = ((raw, stats.page_offset) for raw in harvester.gather(ctx, self.http, stats))
            width = self.http.settings.per_host_concurrency
            # prepared records wait, in order, while this thread commits: a commit that waits for
            # the store's lock (another process writing) must not leave the host's slots idle
            for outcome in ordered_map(prepare, gathered, width, ahead=PREPARED_AHEAD):
                if outcome.page_offset is not None and page is not None and outcome.page_offset > page:
                    # every record of the pages before this one is committed: a safe place to resume
                    if probe is not None and time.monotonic() - saved >= self.checkpoint_every_s:
                        with self._write_lock:
                            self.store.save_checkpoint(plan.source_id, probe.fingerprint, outcome.page_offset, seen)
                        saved = time.monotonic()
                page = outcome.page_offset
                result.records_seen += 1
                self._commit(run_id, plan, outcome, result, seen, pending)
                if len(pending) >= INDEX_BATCH:
                    self._index(run_id, plan, pending)
                    pending = []
                if result.records_seen % 100 == 0:
                    result.pages = stats.pages
                    self._notify("progress", result)
            result.complete = stats.complete
        except (GatherError, FetchError) as exc:
            url = getattr(exc, "url", None)
            result.error = str(exc)
            self._error(run_id, plan, Stage.GATHER, str(exc), None, url)
            if probe is not None and stats.page_offset and stats.page_offset > (page or 0):
                # the page that failed: every record before it was committed (ordered_map drains them)
                with self._write_lock:
                    self.store.save_checkpoint(plan.source_id, probe.fingerprint, stats.page_offset, seen)
        except Exception as exc:  # noqa: BLE001 - a harvester bug must fail its source, not the run
            result.error = f"{type(exc).__name__}: {exc}"
            self._error(run_id, plan, Stage.GATHER, result.error, None, plan.url)
        finally:
            self._index(run_id, plan, pending)

    def _resume(self, plan: SourcePlan, probe: Probe | None, stats: GatherStats, seen: set[str]) -> int:
        """Where to start reading an offset-paged catalog: at the checkpoint of an unfinished gather
        (interrupted, or failed on a page) when the catalog's probe is the one taken before that
        gather, so offsets still point at the same datasets, and it is less than a day old. What
        that gather committed counts as seen. Otherwise at 0 (and a stale checkpoint is dropped)."""
        if probe is None:
            return 0
        kept = self.store.checkpoint(plan.source_id)
        if kept is None:
            return 0
        if kept["fingerprint"] != probe.fingerprint or utcnow() - kept["saved_at"] > timedelta(days=1):
            with self._write_lock:
                self.store.drop_checkpoint(plan.source_id)
            return 0
        stats.resume_offset = int(kept["next_offset"])
        seen |= kept["seen"]
        return stats.resume_offset

    def _probe(self, run_id: int, plan: SourcePlan, harvester: Harvester, ctx: SourceContext) -> Probe | None:
        """The source's probe, or None: probes off, none for the platform, or it failed on the
        portal's side of the API (a 4xx, a body of another shape), where the gather may still
        succeed and otherwise reports the problem. A probe whose host did not answer after every
        retry (a timeout, a 5xx, a 429) raises: the source fails now rather than retry again."""
        if not self.probes.enabled:
            return None
        try:
            return harvester.probe(ctx, self.http)
        except (GatherError, FetchError) as exc:
            fetch = exc if isinstance(exc, FetchError) else exc.__cause__
            if isinstance(fetch, FetchError) and (fetch.status is None or fetch.status in RETRY_STATUSES):
                raise  # the host is down or refusing after every retry: the gather would only try again
            return None
        except Exception as exc:  # noqa: BLE001 - a probe bug must not stop the gather
            self._error(run_id, plan, Stage.GATHER, f"probe failed: {type(exc).__name__}: {exc}", None, plan.url)
            return None

    def _prepare(
        self, harvester: Harvester, ctx: SourceContext, raw: RawRecord, stored: set[str] | None = None
    ) -> _Outcome:
        """Map, classify and (unless the stored copy can be reused) enrich one raw record.

        Runs in the source's fan-out threads, so enrichment requests overlap with the gather's own
        paging; it writes nothing: what it found is committed in order by :meth:`_commit`.
        ``stored``: the ids stored for the source when its gather began (None: look every one up).
        """
        rid = record_id(ctx.source_id, raw.remote_id)
        try:
            record = classify_record(harvester.map_record(raw, ctx))
        except Exception as exc:  # noqa: BLE001 - one bad record never aborts a run
            # It was seen at the source, so it must not be withdrawn for failing to map.
            return _Outcome(raw, "failed", seen_id=rid, errors=[(Stage.MAP, f"{type(exc).__name__}: {exc}")])
        if not record.pdi.police_related:
            return _Outcome(raw, "skipped")
        errors: list[tuple[Stage, str]] = []
        known = stored is None or record.id in stored
        stored_raw = self.store.raw(record.id) if known else None
        reused = harvester.reuse(raw, stored_raw["content"], stored_raw["source_url"]) if stored_raw else None
        try:
            enriched = reused if reused is not None else harvester.enrich(raw, ctx, self.http)
        except Exception as exc:  # noqa: BLE001
            errors.append((Stage.ENRICH, f"{type(exc).__name__}: {exc}"))
            if known and self.store.get(record.id) is not None:
                # Keep the richer stored version rather than flapping to a record without columns.
                return _Outcome(raw, "unchanged", seen_id=record.id, errors=errors)
            enriched = raw
        if enriched is not raw:
            try:
                record = classify_record(harvester.map_record(enriched, ctx))
                raw = enriched
            except Exception as exc:  # noqa: BLE001
                errors.append((Stage.MAP, f"{type(exc).__name__}: {exc}"))
            if not record.pdi.police_related:
                return _Outcome(raw, "skipped", errors=errors)
        return _Outcome(raw, "store", seen_id=record.id, record=record, errors=errors)

    def _commit(
        self,
        run_id: int,
        plan: SourcePlan,
        outcome: _Outcome,
        result: SourceResult,
        seen: set[str],
        pending: list[CatalogRecord],
    ) -> None:
        """Record what :meth:`_prepare` found: errors, the seen id, counts and the store write."""
        raw = outcome.raw
        for stage, message in outcome.errors:
            self._error(run_id, plan, stage, message, raw.remote_id, raw.source_url)
        if outcome.seen_id is not None:
            seen.add(outcome.seen_id)
        if outcome.action == "failed":
            result.records_failed += 1
            return
        if outcome.action == "skipped":
            result.records_skipped += 1
            return
        if outcome.action == "unchanged" or outcome.record is None:
            result.records_unchanged += 1
            return
        record = outcome.record
        try:
            with self._write_lock:
                kind = self.store.upsert_record(
                    record,
                    source_url=raw.source_url,
                    raw_content=raw.content,
                    fetched_at=raw.fetched_at,
                    run_id=run_id,
                )
        except Exception as exc:  # noqa: BLE001
            result.records_failed += 1
            self._error(run_id, plan, Stage.STORE, f"{type(exc).__name__}: {exc}", raw.remote_id, raw.source_url)
            return
        if kind is ChangeKind.NEW:
            result.records_new += 1
        elif kind in (ChangeKind.CHANGED, ChangeKind.RESTORED):
            result.records_changed += 1
        else:
            result.records_unchanged += 1
        if kind is not ChangeKind.UNCHANGED:
            pending.append(record)

    def _index(self, run_id: int, plan: SourcePlan, records: list[CatalogRecord]) -> None:
        if records:
            self._reindex(run_id, plan, [r.id for r in records])

    def _unindex(self, run_id: int, plan: SourcePlan, ids: list[str]) -> None:
        self._reindex(run_id, plan, ids)

    def _settle_freshness(self, run_id: int, plan: SourcePlan) -> None:
        """After a source changed: its records' facts (series, update history) brought up to date,
        and the documents indexed with a status from the record alone that the facts correct
        (an undeclared period inferred from a series' cadence) indexed again with the right one,
        here in the source's thread rather than by the end-of-run index sync."""
        if self.index is None:
            return
        now = self.clock()
        try:
            with self._write_lock:
                facts = refresh_source_facts(self.store, plan.source_id, now)
        except StoreError as exc:  # the end-of-run sync will try again
            self._error(run_id, plan, Stage.INDEX, f"freshness facts not refreshed: {exc}", None, None)
            return
        # the record alone gives the same status unless the period was inferred (from a series or
        # the update history) or the record is an older release of a series
        differ = sorted(
            rid
            for rid, fact in facts.items()
            if fact.superseded or fact.periodicity_source in (PeriodicitySource.INFERRED, PeriodicitySource.SERIES)
        )
        statuses = {rid: facts[rid].assess(now).status for rid in differ}
        for start in range(0, len(differ), INDEX_BATCH):
            self._reindex(run_id, plan, differ[start : start + INDEX_BATCH], statuses)

    def _reindex(
        self, run_id: int, plan: SourcePlan, record_ids: list[str], statuses: Mapping[str, Any] | None = None
    ) -> None:
        """Index the datasets these records (just written or withdrawn) belong to now, and remove
        what must not be a hit: a record merged into another source's dataset is no hit of its
        own, a dataset every source dropped is none at all (store/merge.py). Indexed before
        removed, so a dataset whose primary record changes never drops out of search meanwhile.
        Reading the store and writing the index under one lock keeps a source that read a dataset
        before another source's record joined it from writing its stale view after that one."""
        if self.index is None or not record_ids:
            return
        try:
            with self._index_lock:
                datasets, gone = self.store.index_view(record_ids)
                # the status from ``statuses`` (the facts, see _settle_freshness) or else from the
                # record alone; the end-of-run index sync corrects what either misses
                now = self.clock()
                known = statuses or {}
                report = self.index.upsert(
                    to_document(r, self.jurisdictions, known.get(r.id) or assess_record(r, now).status)
                    for r in datasets
                )
                if gone:
                    self.index.delete(gone)
        except IndexUnavailable as exc:
            self._error(run_id, plan, Stage.INDEX, f"index unavailable, run `pdi reindex` later: {exc}", None, None)
            return
        for doc_id, reason in report.failed.items():
            self._error(run_id, plan, Stage.INDEX, reason, doc_id, None)

    def _notify(self, event: str, result: SourceResult) -> None:
        if self.progress is not None:
            self.progress(event, result)
