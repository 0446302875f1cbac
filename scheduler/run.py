"""One harvest run over a set of sources: gather → map → classify → store → index.

Sources on different hosts run at the same time (a pool of workers); politeness per host is the
HTTP layer's business. One bad record never aborts a run; a failed gather marks its source failed
and withdraws nothing. Store writes are serialised; the index follows the store and, if it is
unavailable, catches up later with ``pdi reindex`` — the store is never held back by the index.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from typing import Any

from catalog.classify import classify_record
from catalog.ids import record_id
from catalog.record import CatalogRecord
from catalog_seed.loader import SourcePlan
from harvesters import registry
from harvesters.base import GatherError, GatherStats, Harvester, RawRecord, SourceContext
from harvesters.http import FetchError, HttpClient
from index.base import IndexUnavailable, SearchIndex
from index.documents import JurisdictionInfo, to_document
from index.sync import sync_index
from store.store import ChangeKind, RunStatus, Stage, Store

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
    ) -> None:
        self.store = store
        self.index = index
        self.jurisdictions = jurisdictions
        self.http = http
        self.withdraw_after = withdraw_after
        self.workers = workers
        self.progress = progress
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
            with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(plans) or 1))) as pool:
                futures = [pool.submit(self._harvest_source, run_id, plan) for plan in self._longest_first(plans)]
                for future in as_completed(futures):
                    summary.sources.append(future.result())
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
        return summary

    # Sources that walk a directory or crawl pages take longest when nothing is known yet.
    _PLATFORM_WEIGHT = {"arcgis_server": 3.0, "html": 2.0}

    def _longest_first(self, plans: list[SourcePlan]) -> list[SourcePlan]:
        """Start the sources that took longest last time (or are slow by kind) first, so the run
        ends close to its slowest source's own time rather than waiting for a late starter."""
        last = self.store.last_source_runs()

        def expected(plan: SourcePlan) -> float:
            run = last.get(plan.source_id)
            if run and run.get("finished_at") and run.get("started_at"):
                return float((run["finished_at"] - run["started_at"]).total_seconds())
            return self._PLATFORM_WEIGHT.get(plan.platform, 1.0) * 1000.0  # unknown: by kind, before known ones

        return sorted(plans, key=lambda p: -expected(p))

    def _sync_index(self, run_id: int, summary: HarvestSummary) -> None:
        """Catch the index up with the store (documents it missed while down or rejected)."""
        if self.index is None:
            return
        try:
            report = sync_index(self.store, self.index, self.jurisdictions)
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
        pending: list[CatalogRecord] = []
        try:
            for raw in harvester.gather(ctx, self.http, stats):
                result.records_seen += 1
                self._take(run_id, plan, harvester, ctx, raw, result, seen, pending)
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
        except Exception as exc:  # noqa: BLE001 - a harvester bug must fail its source, not the run
            result.error = f"{type(exc).__name__}: {exc}"
            self._error(run_id, plan, Stage.GATHER, result.error, None, plan.url)
        finally:
            self._index(run_id, plan, pending)
        result.pages = stats.pages
        if result.complete and result.error is None:
            with self._write_lock:
                withdrawn = self.store.settle_source(
                    plan.source_id, seen, run_id=run_id, withdraw_after=self.withdraw_after
                )
            result.records_withdrawn = len(withdrawn)
            if withdrawn:
                self._unindex(run_id, plan, withdrawn)
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

    def _take(
        self,
        run_id: int,
        plan: SourcePlan,
        harvester: Harvester,
        ctx: SourceContext,
        raw: RawRecord,
        result: SourceResult,
        seen: set[str],
        pending: list[CatalogRecord],
    ) -> None:
        rid = record_id(ctx.source_id, raw.remote_id)
        try:
            record = classify_record(harvester.map_record(raw, ctx))
        except Exception as exc:  # noqa: BLE001 - one bad record never aborts a run
            # It was seen at the source, so it must not be withdrawn for failing to map.
            seen.add(rid)
            result.records_failed += 1
            self._error(run_id, plan, Stage.MAP, f"{type(exc).__name__}: {exc}", raw.remote_id, raw.source_url)
            return
        if not record.pdi.police_related:
            result.records_skipped += 1
            return
        seen.add(record.id)
        stored_raw = self.store.raw(record.id)
        reused = harvester.reuse(raw, stored_raw["content"], stored_raw["source_url"]) if stored_raw else None
        try:
            enriched = reused if reused is not None else harvester.enrich(raw, ctx, self.http)
        except Exception as exc:  # noqa: BLE001
            self._error(run_id, plan, Stage.ENRICH, f"{type(exc).__name__}: {exc}", raw.remote_id, raw.source_url)
            if self.store.get(record.id) is not None:
                # Keep the richer stored version rather than flapping to a record without columns.
                result.records_unchanged += 1
                return
            enriched = raw
        if enriched is not raw:
            try:
                record = classify_record(harvester.map_record(enriched, ctx))
                raw = enriched
            except Exception as exc:  # noqa: BLE001
                self._error(run_id, plan, Stage.MAP, f"{type(exc).__name__}: {exc}", raw.remote_id, raw.source_url)
            if not record.pdi.police_related:
                seen.discard(record.id)
                result.records_skipped += 1
                return
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

    def _reindex(self, run_id: int, plan: SourcePlan, record_ids: list[str]) -> None:
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
                report = self.index.upsert(to_document(r, self.jurisdictions) for r in datasets)
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
