"""Freshness facts and coverage snapshots: what the program office's figures are computed from.

A record's freshness status changes with the clock, so it is never stored as a fact of the record
(that would rewrite every record, and its history, as time passes). What is stored, per active
police record, is what the status is computed *from* — the period it is judged by (declared,
inferred from its update history, or its series' release cadence), its last update, its series —
in ``record_freshness``; the status itself is computed at read time for any ``now``
(:meth:`RecordFacts.assess`). These facts depend on other records (a series) and on history, so
they are derived here, by :func:`refresh_facts`, for the sources whose records changed since the
last refresh: cheap when little changed.

After every harvest run :func:`snapshot_after_run` stores what coverage looked like then
(``coverage_snapshots``), so the trend can be shown.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, case, delete, func, insert, select, text

from catalog.coverage import Commitments, RecordState, compute_coverage
from catalog.freshness import (
    Assessment,
    PeriodicitySource,
    assess,
    declared_periodicity,
    effective_periodicity,
    last_update_of,
    parse_periodicity,
    parse_when,
)
from catalog.series import Series, group_series
from catalog.vocabulary import FreshnessStatus, RecordStatus
from store import schema as t
from store.store import RunStatus, Stage, Store, StoreError, utcnow

log = logging.getLogger(__name__)

#: PostgreSQL advisory-lock key held while the facts of a source are rewritten, so two processes
#: refreshing at once queue rather than insert the same rows twice
FACTS_LOCK = (0x50444946, 0)  # "PDIF"
#: update times kept per record to infer a period from (the latest ones)
MAX_UPDATE_TIMES = 24
WRITE_BATCH = 500


@dataclass(frozen=True)
class RecordFacts:
    """What a record's freshness is computed from (one row of ``record_freshness``)."""

    id: str
    source_id: str
    title: str
    jurisdiction: str | None
    jurisdictions: tuple[str, ...]
    categories: tuple[str, ...]
    declared: str | None  # the period as the portal declares it (its words, or ISO)
    periodicity: str | None  # the period judged by: ISO 8601, irregular or never
    periodicity_source: PeriodicitySource
    last_update: datetime | None
    update_times: tuple[datetime, ...]
    series_id: str | None
    series_latest: bool
    series_label: str | None
    series_position: int | None = None  # 0 for the oldest release

    @property
    def superseded(self) -> bool:
        """An older release of a series that has a newer one."""
        return self.series_id is not None and not self.series_latest

    def assess(self, now: datetime) -> Assessment:
        """The record's freshness at ``now``."""
        return assess(
            parse_periodicity(self.periodicity),
            self.last_update,
            now,
            source=self.periodicity_source,
            superseded=self.superseded,
        )


# ---- reading a record's facts from its stored JSON (no model validation: thousands per refresh)


@dataclass(frozen=True)
class _Parsed:
    id: str
    title: str
    jurisdiction: str | None
    jurisdictions: tuple[str, ...]
    categories: tuple[str, ...]
    accrual: str | None
    words: str | None
    last_update: datetime | None


def _parse(record_id: str, raw: str) -> _Parsed:
    data = json.loads(raw)
    pdi = data.get("pdi") or {}
    fresh = pdi.get("freshness") or {}
    cats = [c.get("category") for c in pdi.get("categories") or [] if isinstance(c, dict)]
    return _Parsed(
        id=record_id,
        title=str(data.get("title") or record_id),
        jurisdiction=pdi.get("jurisdiction"),
        jurisdictions=tuple(str(j) for j in pdi.get("jurisdictions") or []),
        categories=tuple(str(c) for c in cats if c),
        accrual=fresh.get("accrual_periodicity"),
        words=fresh.get("declared_frequency"),
        last_update=last_update_of(data),
    )


# ---- refreshing ---------------------------------------------------------------------------------


@dataclass
class RefreshReport:
    sources: int = 0  # sources whose facts were recomputed
    records: int = 0  # facts written
    removed: int = 0  # facts of records no longer active


def _lock(store: Store, conn: Connection) -> None:
    if store.dialect == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": FACTS_LOCK[0], "b": FACTS_LOCK[1]})


def refresh_facts(store: Store, now: datetime | None = None) -> RefreshReport:
    """Bring ``record_freshness`` in line with the active police records: recompute the facts of
    every source with a record that is new, changed or gone since the last refresh."""
    now = now or utcnow()
    r, f = t.records, t.record_freshness
    with store._read() as conn:
        current = {
            row.id: (row.source_id, row.content_hash)
            for row in conn.execute(
                select(r.c.id, r.c.source_id, r.c.content_hash).where(
                    r.c.status == RecordStatus.ACTIVE.value, r.c.police_related.is_(True)
                )
            )
        }
        known = {
            row.record_id: (row.source_id, row.content_hash)
            for row in conn.execute(select(f.c.record_id, f.c.source_id, f.c.content_hash))
        }
    dirty = {src for rid, (src, digest) in current.items() if known.get(rid) != (src, digest)}
    dirty |= {src for rid, (src, _) in known.items() if rid not in current}
    report = RefreshReport()
    for source in sorted(dirty):
        written, removed = _refresh_source(store, source, now)
        report.sources += 1
        report.records += written
        report.removed += removed
    return report


def _history_update_times(conn: Connection, ids: list[str]) -> dict[str, list[datetime]]:
    """Data-update times in the stored history of records the facts have not seen before."""
    out: dict[str, list[datetime]] = defaultdict(list)
    h = t.record_history
    for start in range(0, len(ids), WRITE_BATCH):
        chunk = ids[start : start + WRITE_BATCH]
        rows = conn.execute(select(h.c.record_id, h.c.data).where(h.c.record_id.in_(chunk)).order_by(h.c.id))
        for row in rows:
            try:
                when = last_update_of(json.loads(row.data))
            except ValueError:
                continue
            if when is not None:
                out[row.record_id].append(when)
    return out


def refresh_source_facts(store: Store, source_id: str, now: datetime | None = None) -> dict[str, RecordFacts]:
    """Recompute the facts of one source's active police records (what :func:`refresh_facts`
    does for each source that changed) and return them by record id. A harvest calls it when a
    source is done, so its records' freshness — a period inferred from their series or history —
    is known before the end-of-run index sync, in the source's own thread."""
    _refresh_source(store, source_id, now or utcnow())
    f = t.record_freshness
    with store._read() as conn:
        rows = conn.execute(select(f).where(f.c.source_id == source_id)).all()
    return {row.record_id: _facts(row) for row in rows}


def _refresh_source(store: Store, source_id: str, now: datetime) -> tuple[int, int]:
    r, f = t.records, t.record_freshness
    with store._write() as conn:
        _lock(store, conn)
        rows = conn.execute(
            select(r.c.id, r.c.content_hash, r.c.data).where(
                r.c.source_id == source_id, r.c.status == RecordStatus.ACTIVE.value, r.c.police_related.is_(True)
            )
        ).all()
        previous = {
            row.record_id: [w for w in (parse_when(v) for v in json.loads(row.update_times)) if w is not None]
            for row in conn.execute(select(f.c.record_id, f.c.update_times).where(f.c.source_id == source_id))
        }
        parsed = {row.id: _parse(row.id, row.data) for row in rows}
        hashes = {row.id: row.content_hash for row in rows}
        seen = _history_update_times(conn, [rid for rid in parsed if rid not in previous])
        series = group_series((p.id, (source_id, p.jurisdiction), p.title) for p in parsed.values())
        membership: dict[str, tuple[Series, int]] = {}
        for s in series:
            for i, rid in enumerate(s.members):
                membership[rid] = (s, i)
        values = []
        for rid, p in parsed.items():
            times = sorted(set(previous.get(rid, seen.get(rid, []))) | ({p.last_update} if p.last_update else set()))
            times = times[-MAX_UPDATE_TIMES:]
            member = membership.get(rid)
            latest = member is not None and member[0].latest == rid
            declared = declared_periodicity(p.accrual, p.words)
            period, source = effective_periodicity(declared, times, member[0].cadence if latest and member else None)
            values.append(
                {
                    "record_id": rid,
                    "source_id": source_id,
                    "content_hash": hashes[rid],
                    "title": p.title,
                    "jurisdiction": p.jurisdiction,
                    "jurisdictions": json.dumps(list(p.jurisdictions)),
                    "categories": json.dumps(list(p.categories)),
                    "declared": p.words or p.accrual,
                    "periodicity": period.value if period else None,
                    "periodicity_source": source.value,
                    "last_update": p.last_update,
                    "update_times": json.dumps([w.isoformat() for w in times]),
                    "series_id": member[0].id if member else None,
                    "series_latest": latest,
                    "series_label": member[0].labels[member[1]] if member else None,
                    "series_position": member[1] if member else None,
                    "refreshed_at": now,
                }
            )
        removed = len(set(previous) - set(parsed))
        conn.execute(delete(f).where(f.c.source_id == source_id))  # ids derive from the source: none elsewhere
        for start in range(0, len(values), WRITE_BATCH):
            conn.execute(insert(f), values[start : start + WRITE_BATCH])
    return len(values), removed


# ---- reading ------------------------------------------------------------------------------------


def _facts(row: Any) -> RecordFacts:
    return RecordFacts(
        id=row.record_id,
        source_id=row.source_id,
        title=row.title,
        jurisdiction=row.jurisdiction,
        jurisdictions=tuple(json.loads(row.jurisdictions)),
        categories=tuple(json.loads(row.categories)),
        declared=row.declared,
        periodicity=row.periodicity,
        periodicity_source=PeriodicitySource(row.periodicity_source),
        last_update=row.last_update,
        update_times=tuple(w for w in (parse_when(v) for v in json.loads(row.update_times)) if w is not None),
        series_id=row.series_id,
        series_latest=bool(row.series_latest),
        series_label=row.series_label,
        series_position=row.series_position,
    )


def load_facts(store: Store, ids: Iterable[str] | None = None) -> list[RecordFacts]:
    """Facts of every active police record (as of the last refresh), or of ``ids`` only."""
    f = t.record_freshness
    query = select(f).order_by(f.c.record_id)
    with store._read() as conn:
        if ids is None:
            return [_facts(row) for row in conn.execute(query)]
        wanted = list(dict.fromkeys(ids))
        out: list[RecordFacts] = []
        for start in range(0, len(wanted), WRITE_BATCH):
            chunk = wanted[start : start + WRITE_BATCH]
            out += [_facts(row) for row in conn.execute(query.where(f.c.record_id.in_(chunk)))]
        return out


def series_members(store: Store, series_id: str) -> list[RecordFacts]:
    """The releases of a series, oldest first (the order of the periods they cover)."""
    f = t.record_freshness
    with store._read() as conn:
        rows = conn.execute(select(f).where(f.c.series_id == series_id)).all()
    return sorted((_facts(row) for row in rows), key=lambda x: (x.series_position or 0, x.id))


def freshness_statuses(store: Store, now: datetime) -> dict[str, FreshnessStatus]:
    """Every active police record's freshness status at ``now`` (after refreshing the facts)."""
    refresh_facts(store, now)
    return {x.id: x.assess(now).status for x in load_facts(store)}


def record_states(facts: Iterable[RecordFacts], now: datetime) -> list[RecordState]:
    return [RecordState(x.id, x.jurisdictions, x.categories, x.assess(now).status) for x in facts]


# ---- coverage snapshots -------------------------------------------------------------------------


def commitments_of(jurisdictions: Iterable[Any]) -> list[Commitments]:
    """Coverage rows from seed jurisdictions (``committed_categories``) or index lookups
    (``committed``), in their order."""
    out = []
    for j in jurisdictions:
        raw = getattr(j, "committed_categories", None)
        if raw is None:
            raw = getattr(j, "committed", None) or ()
        out.append(Commitments(j.id, j.name, j.state, tuple(str(getattr(c, "value", c)) for c in raw)))
    return out


def save_snapshot(store: Store, matrix: Mapping[str, Any], *, run_id: int | None, taken_at: datetime) -> int:
    """Keep the totals of ``matrix`` (from :func:`compute_coverage`), and the cells that hold
    something (committed or published), as they were at ``taken_at``."""
    by_jurisdiction = {
        j["id"]: {
            **{k: v for k, v in j.items() if k not in ("id", "name", "state", "cells")},
            "cells": {c: cell for c, cell in j["cells"].items() if cell["committed"] or cell["published"]},
        }
        for j in matrix["jurisdictions"]
    }
    with store._write() as conn:
        result = conn.execute(
            insert(t.coverage_snapshots).values(
                run_id=run_id,
                taken_at=taken_at,
                overall=json.dumps(matrix["totals"]["overall"], sort_keys=True),
                by_category=json.dumps(matrix["totals"]["by_category"], sort_keys=True),
                by_jurisdiction=json.dumps(by_jurisdiction, sort_keys=True),
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]


def snapshots(
    store: Store, *, limit: int = 100, since: datetime | None = None, with_jurisdictions: bool = False
) -> list[dict[str, Any]]:
    """The latest ``limit`` snapshots (taken at or after ``since``), oldest first."""
    cs = t.coverage_snapshots
    columns = [cs.c.id, cs.c.run_id, cs.c.taken_at, cs.c.overall, cs.c.by_category]
    if with_jurisdictions:
        columns.append(cs.c.by_jurisdiction)
    query = select(*columns).order_by(cs.c.id.desc()).limit(limit)
    if since is not None:
        query = query.where(cs.c.taken_at >= since)
    with store._read() as conn:
        rows = conn.execute(query).all()
    out = []
    for row in reversed(rows):
        item: dict[str, Any] = {
            "id": row.id,
            "run_id": row.run_id,
            "taken_at": row.taken_at,
            "overall": json.loads(row.overall),
            "by_category": json.loads(row.by_category),
        }
        if with_jurisdictions:
            item["by_jurisdiction"] = json.loads(row.by_jurisdiction)
        out.append(item)
    return out


def current_coverage(
    store: Store,
    jurisdictions: Sequence[Commitments],
    now: datetime,
    categories: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Coverage at ``now`` from the store (facts refreshed first)."""
    refresh_facts(store, now)
    return compute_coverage(jurisdictions, record_states(load_facts(store), now), categories)


def snapshot_after_run(
    store: Store,
    run_id: int | None,
    jurisdictions: Iterable[Any],
    clock: Callable[[], datetime] = utcnow,
) -> int | None:
    """Refresh the freshness facts and keep a coverage snapshot, at the end of a harvest run.

    ``jurisdictions``: the seed's, or the harvest's lookup (whatever has id, name, state and
    committed categories). Never raises: a snapshot that cannot be taken is recorded as an error of
    the run, which has finished its real work by then.
    """
    try:
        now = clock()
        matrix = current_coverage(store, commitments_of(jurisdictions), now)
        return save_snapshot(store, matrix, run_id=run_id, taken_at=now)
    except Exception as exc:  # noqa: BLE001 - the run's real work is done; a snapshot must not undo it
        log.warning("coverage snapshot of run %s not taken: %s", run_id, exc)
        if run_id is not None:
            try:
                store.record_error(run_id, "*", Stage.STORE, f"coverage snapshot not taken: {exc}")
            except StoreError:
                pass
        return None


# ---- harvest health per source and jurisdiction -------------------------------------------------


@dataclass(frozen=True)
class HarvestHealth:
    """How reliably a source (or a jurisdiction's sources) harvests."""

    runs: int  # finished runs (succeeded, failed or interrupted)
    succeeded: int
    last_success_at: datetime | None
    last_status: str | None
    last_run_at: datetime | None

    @property
    def success_rate(self) -> float | None:
        return round(self.succeeded / self.runs, 4) if self.runs else None


_FINISHED = (RunStatus.SUCCEEDED.value, RunStatus.FAILED.value, RunStatus.INTERRUPTED.value)


def source_harvest_health(store: Store) -> dict[str, HarvestHealth]:
    """Per source: finished runs, successes, last success and last finished run (aggregated in the
    database: the run table grows with every harvest)."""
    sr = t.source_runs
    finished = sr.c.status.in_(_FINISHED)
    ok = sr.c.status == RunStatus.SUCCEEDED.value
    totals = (
        select(
            sr.c.source_id,
            func.count().label("runs"),
            func.sum(case((ok, 1), else_=0)).label("ok"),
            func.max(case((ok, func.coalesce(sr.c.finished_at, sr.c.started_at)), else_=None)).label("last_ok"),
            func.max(sr.c.id).label("last_id"),
        )
        .where(finished)
        .group_by(sr.c.source_id)
        .subquery()
    )
    query = select(
        totals.c.source_id,
        totals.c.runs,
        totals.c.ok,
        totals.c.last_ok,
        sr.c.status,
        func.coalesce(sr.c.finished_at, sr.c.started_at).label("at"),
    ).join(sr, sr.c.id == totals.c.last_id)
    with store._read() as conn:
        rows = conn.execute(query).all()
    return {
        r.source_id: HarvestHealth(int(r.runs), int(r.ok or 0), _utc(r.last_ok), r.status, _utc(r.at)) for r in rows
    }


def _utc(value: datetime | str | None) -> datetime | None:
    # aggregates lose the column type on SQLite (text back) and keep it on PostgreSQL
    if isinstance(value, str):
        return parse_when(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return None


def combined_health(healths: Iterable[HarvestHealth | None]) -> HarvestHealth:
    """A jurisdiction's harvest health over its sources: runs and successes summed; its last
    success is the oldest of its sources' last successes (every source has been harvested
    successfully at least that recently; none when a source never was); its last run the latest."""
    items = list(healths)
    known = [h for h in items if h is not None]
    oks = [h.last_success_at for h in known if h.last_success_at is not None]
    ran = sorted((h for h in known if h.last_run_at is not None), key=lambda h: h.last_run_at or datetime.min)
    return HarvestHealth(
        runs=sum(h.runs for h in known),
        succeeded=sum(h.succeeded for h in known),
        last_success_at=min(oks) if oks and len(oks) == len(items) else None,
        last_status=ran[-1].last_status if ran else None,
        last_run_at=ran[-1].last_run_at if ran else None,
    )
