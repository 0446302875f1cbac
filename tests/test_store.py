from __future__ import annotations

from datetime import UTC, datetime

from catalog.vocabulary import RecordStatus
from store.store import ChangeKind, RunStatus, Stage
from tests.factories import make_record

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _put(store, record, run_id=None):
    return store.upsert_record(
        record, source_url="https://x.invalid", raw_content={"a": 1}, fetched_at=T0, run_id=run_id
    )


def test_new_then_unchanged_then_changed(store):
    rec = make_record("abcd-0001", "Use of Force")
    assert _put(store, rec) is ChangeKind.NEW
    assert _put(store, rec) is ChangeKind.UNCHANGED
    changed = rec.model_copy(update={"description": "Updated description of force incidents by police."})
    assert _put(store, changed) is ChangeKind.CHANGED
    stored = store.get(rec.id)
    assert stored.record.description.startswith("Updated")
    history = store.history(rec.id)
    assert [h["change"] for h in history] == ["changed", "new"]
    assert history[0]["fields"] == ["description"]
    assert store.raw(rec.id)["content"] == {"a": 1}


def test_withdrawn_only_after_n_complete_harvests_then_restored(store):
    keep = make_record("abcd-0001", "Use of Force")
    gone = make_record("abcd-0002", "Arrests")
    _put(store, keep)
    _put(store, gone)
    assert store.settle_source("socrata:data.seattle.gov", {keep.id}, run_id=None, withdraw_after=2) == []
    assert store.get(gone.id).status is RecordStatus.ACTIVE
    assert store.settle_source("socrata:data.seattle.gov", {keep.id}, run_id=None, withdraw_after=2) == [gone.id]
    stored = store.get(gone.id)
    assert stored.status is RecordStatus.WITHDRAWN
    assert stored.record.pdi.status is RecordStatus.WITHDRAWN
    assert store.count(RecordStatus.ACTIVE) == 1
    # seen again: restored, with history kept
    assert _put(store, gone) is ChangeKind.RESTORED
    assert store.get(gone.id).status is RecordStatus.ACTIVE
    assert [h["change"] for h in store.history(gone.id)] == ["restored", "withdrawn", "new"]


def test_seen_again_resets_the_miss_count(store):
    rec = make_record("abcd-0001", "Use of Force")
    _put(store, rec)
    store.settle_source("socrata:data.seattle.gov", set(), run_id=None, withdraw_after=2)
    store.settle_source("socrata:data.seattle.gov", {rec.id}, run_id=None, withdraw_after=2)
    store.settle_source("socrata:data.seattle.gov", set(), run_id=None, withdraw_after=2)
    assert store.get(rec.id).status is RecordStatus.ACTIVE


def test_other_sources_are_untouched_by_settle(store):
    rec = make_record("abcd-0001", "Use of Force", source="socrata:data.austintexas.gov")
    _put(store, rec)
    store.settle_source("socrata:data.seattle.gov", set(), run_id=None, withdraw_after=1)
    assert store.get(rec.id).status is RecordStatus.ACTIVE


def test_runs_errors_and_interrupted_runs(store):
    from sqlalchemy import update

    from store import schema as t

    run = store.start_run("test", 1)
    sr = store.start_source_run(run, "socrata:data.seattle.gov", "socrata", "https://data.seattle.gov")
    store.record_error(run, "socrata:data.seattle.gov", Stage.GATHER, "HTTP 500", url="https://data.seattle.gov/x")
    store.finish_source_run(sr, RunStatus.FAILED, error="HTTP 500")
    store.finish_run(run, RunStatus.FAILED, {"sources_failed": 1}, 0.5)
    assert store.runs()[0]["status"] == "failed"
    assert store.errors(run)[0]["stage"] == "gather"
    assert store.last_source_runs()["socrata:data.seattle.gov"]["status"] == "failed"
    # a run left 'running' by a process that died is marked interrupted by the next one
    dead = store.start_run("test", 1)
    with store.engine.begin() as conn:
        conn.execute(update(t.harvest_runs).where(t.harvest_runs.c.id == dead).values(pid=2**22 + 12345))
    store.start_run("test", 1)
    assert {r["id"]: r["status"] for r in store.runs()}[dead] == "interrupted"


def test_iter_records_in_batches(store):
    for i in range(7):
        _put(store, make_record(f"abcd-{i:04d}", f"Arrests {i}"))
    ids = [s.record.id for s in store.iter_records(batch=3)]
    assert len(ids) == 7 and ids == sorted(ids)
