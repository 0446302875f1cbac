"""The store's contract, run against SQLite and against a real PostgreSQL server.

PostgreSQL comes from ``PDI_TEST_DATABASE_URL`` (``scripts/postgres start`` prints one); its role
must be allowed to create databases: every test gets a fresh ``pdi_test_<random>`` database, dropped
after. Without the variable the PostgreSQL cases are skipped, except under CI (``CI`` set), where
they fail: CI must prove the store on both.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, func, select, text, update
from sqlalchemy.exc import OperationalError

from catalog.vocabulary import RecordStatus
from store import Store, StoreError
from store import schema as t
from store.store import ChangeKind, RunStatus, Stage, engine_url
from tests.factories import make_record

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SOURCE = "socrata:data.seattle.gov"
BACKENDS = ["sqlite", "postgresql"]

# Read once at import: fixtures elsewhere clear PDI_* variables from the environment of a test.
PG_URL = os.environ.get("PDI_TEST_DATABASE_URL")
HOW_TO_ENABLE = (
    "PostgreSQL store tests need a server: run `scripts/postgres start` and set "
    "PDI_TEST_DATABASE_URL to the URL it prints (its role needs CREATEDB)"
)


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test; yields its URL and drops it after."""
    name = f"pdi_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(engine_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield engine_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        try:
            _drop_database(admin, name)
        finally:
            admin.dispose()


def _drop_database(admin, name: str) -> None:
    """Drop a test database, first without FORCE.

    A plain DROP DATABASE stops an autovacuum worker that is visiting the new database by itself;
    FORCE checks the right to signal every process there first, and an autovacuum worker belongs to
    no role, so FORCE fails for a non-superuser (seen in CI). FORCE is only the fallback for a
    connection a failed test left open.
    """
    with admin.connect() as conn:
        try:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        except OperationalError as exc:
            if "being accessed by other users" not in str(exc):
                raise
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _server_url() -> str:
    """The test PostgreSQL server's URL; skips without one (fails under CI)."""
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but PDI_TEST_DATABASE_URL is not. {HOW_TO_ENABLE}")
        pytest.skip(HOW_TO_ENABLE)
    return PG_URL


@contextmanager
def backend_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A store URL of ``backend`` holding nothing yet (skips or, under CI, fails without a server)."""
    if backend == "sqlite":
        yield f"sqlite:///{(tmp_path / 'data' / 'pdi.sqlite').as_posix()}"
        return
    with fresh_database(_server_url()) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with backend_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """Overrides the conftest store: one per backend."""
    s = Store(store_url)
    s.create_schema()
    yield s
    s.close()


@pytest.fixture
def other_store(store_url: str, store: Store) -> Iterator[Store]:
    """A second Store on the same database: its own engine and sessions, as another process has."""
    s = Store(store_url)
    yield s
    s.close()


def _put(store, record, run_id=None, **kw):
    kw.setdefault("fetched_at", T0)
    return store.upsert_record(record, source_url="https://x.invalid", raw_content={"a": 1}, run_id=run_id, **kw)


def _table_count(store: Store, table) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


# ---- the contract ---------------------------------------------------------------------------


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


def test_unchanged_costs_no_write(store):
    rec = make_record("abcd-0001", "Use of Force")
    _put(store, rec)
    statements: list[str] = []

    def spy(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", spy)
    try:
        assert _put(store, rec) is ChangeKind.UNCHANGED
    finally:
        event.remove(store.engine, "before_cursor_execute", spy)
    assert statements and all(s.lstrip().upper().startswith("SELECT") for s in statements), statements
    assert len(store.history(rec.id)) == 1


def test_withdrawn_only_after_n_complete_harvests_then_restored(store):
    keep = make_record("abcd-0001", "Use of Force")
    gone = make_record("abcd-0002", "Arrests")
    _put(store, keep)
    _put(store, gone)
    assert store.settle_source(SOURCE, {keep.id}, run_id=None, withdraw_after=2) == []
    assert store.get(gone.id).status is RecordStatus.ACTIVE
    assert store.settle_source(SOURCE, {keep.id}, run_id=None, withdraw_after=2) == [gone.id]
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
    store.settle_source(SOURCE, set(), run_id=None, withdraw_after=2)
    store.settle_source(SOURCE, {rec.id}, run_id=None, withdraw_after=2)
    store.settle_source(SOURCE, set(), run_id=None, withdraw_after=2)
    assert store.get(rec.id).status is RecordStatus.ACTIVE


def test_other_sources_are_untouched_by_settle(store):
    rec = make_record("abcd-0001", "Use of Force", source="socrata:data.austintexas.gov")
    _put(store, rec)
    store.settle_source(SOURCE, set(), run_id=None, withdraw_after=1)
    assert store.get(rec.id).status is RecordStatus.ACTIVE


def test_runs_errors_and_interrupted_runs(store, store_url):
    run = store.start_run("test", 1)
    sr = store.start_source_run(run, SOURCE, "socrata", "https://data.seattle.gov")
    store.record_error(run, SOURCE, Stage.GATHER, "HTTP 500", url="https://data.seattle.gov/x")
    store.finish_source_run(sr, RunStatus.FAILED, error="HTTP 500")
    store.finish_run(run, RunStatus.FAILED, {"sources_failed": 1}, 0.5)
    assert store.runs()[0]["status"] == "failed"
    assert store.errors(run)[0]["stage"] == "gather"
    assert store.last_source_runs()[SOURCE]["status"] == "failed"
    # a run left 'running' by a process that died is marked interrupted by the next one
    dying = Store(store_url)
    dead = dying.start_run("test", 1)
    dead_source = dying.start_source_run(dead, SOURCE, "socrata", "https://data.seattle.gov")
    with store.engine.begin() as conn:
        conn.execute(update(t.harvest_runs).where(t.harvest_runs.c.id == dead).values(pid=_dead_pid()))
    dying.close()  # its sessions end, as a killed process's do
    store.start_run("test", 1)
    assert {r["id"]: r["status"] for r in store.runs()}[dead] == "interrupted"
    assert store.source_runs(dead)[0]["id"] == dead_source
    assert store.source_runs(dead)[0]["status"] == "interrupted"


def test_a_live_run_of_another_host_is_never_marked_interrupted(store, other_store):
    live = other_store.start_run("scheduler", 3)
    with store.engine.begin() as conn:
        conn.execute(
            update(t.harvest_runs)
            .where(t.harvest_runs.c.id == live)
            .values(host="another-host.example", pid=_dead_pid())
        )
    store.start_run("api", 1)
    assert store.mark_interrupted_runs() == 0
    assert {r["id"]: r["status"] for r in store.runs()}[live] == "running"
    other_store.finish_run(live, RunStatus.SUCCEEDED, {"sources_ok": 3}, 1.0)
    assert {r["id"]: r["status"] for r in store.runs()}[live] == "succeeded"


def test_a_dead_run_of_another_host_is_interrupted_on_postgresql_only(store, store_url):
    """PostgreSQL knows a run is alive by its session's lock, whatever host it runs on; with
    SQLite (one machine's file) another host's run is left as it is."""
    crashed = Store(store_url)
    run = crashed.start_run("scheduler", 1)
    with store.engine.begin() as conn:
        conn.execute(update(t.harvest_runs).where(t.harvest_runs.c.id == run).values(host="another-host.example"))
    crashed.close()
    fixed = store.mark_interrupted_runs()
    status = {r["id"]: r["status"] for r in store.runs()}[run]
    if store.dialect == "postgresql":
        assert (fixed, status) == (1, "interrupted")
    else:
        assert (fixed, status) == (0, "running")


def test_a_run_finished_is_never_marked_interrupted(store, other_store):
    run = other_store.start_run("test", 1)
    other_store.finish_run(run, RunStatus.SUCCEEDED, {}, 0.1)
    other_store.close()
    assert store.mark_interrupted_runs() == 0
    assert store.runs()[0]["status"] == "succeeded"


def test_iter_records_in_batches(store):
    for i in range(7):
        _put(store, make_record(f"abcd-{i:04d}", f"Arrests {i}"))
    ids = [s.record.id for s in store.iter_records(batch=3)]
    assert len(ids) == 7 and ids == sorted(ids)


def test_get_many_and_ids_starting_with(store):
    records = [make_record(f"abcd-{i:04d}", f"Arrests {i}") for i in range(5)]
    for r in records:
        _put(store, r)
    wanted = [records[3].id, "no-such-id", records[0].id, records[3].id]
    got = store.get_many(wanted)
    assert set(got) == {records[0].id, records[3].id}
    assert got[records[3].id].record.title == "Arrests 3"
    assert store.get_many([]) == {}
    prefix = records[2].id[:-9]  # the readable part, before the hash
    assert store.ids_starting_with(prefix) == [records[2].id]
    assert store.ids_starting_with("data-seattle-gov--abcd-", limit=3) == sorted(r.id for r in records)[:3]
    # a prefix is literal text: LIKE wildcards in it match nothing
    assert store.ids_starting_with("data%") == [] and store.ids_starting_with("data_seattle") == []


def test_ids_come_back_in_byte_order_on_every_backend(store):
    for remote in ["ab-1", "ab1", "ab", "a-b-c", "a0", "zz", "z-z", "0-a", "9"]:
        _put(store, make_record(remote, f"Arrests {remote}"))
    ids = [s.record.id for s in store.iter_records(batch=2)]
    assert ids == sorted(ids)
    assert [i for i, _ in store.fingerprints()] == ids
    if store.dialect == "postgresql":
        with store.engine.connect() as conn:
            collation = conn.execute(
                text(
                    "SELECT collation_name FROM information_schema.columns "
                    "WHERE table_name = 'records' AND column_name = 'id'"
                )
            ).scalar_one()
        assert collation == "C"


# ---- what PostgreSQL makes matter ----------------------------------------------------------


def test_timestamps_come_back_aware_utc_and_equal(store):
    seen_at = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=timezone(timedelta(hours=-5)))
    fetched_at = datetime(2026, 3, 29, 12, 0, 0, 654321, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    rec = make_record("abcd-0001", "Use of Force")
    assert _put(store, rec, now=seen_at, fetched_at=fetched_at) is ChangeKind.NEW
    stored = store.get(rec.id)
    for value in (stored.first_seen, stored.last_seen, stored.last_changed, stored.record.pdi.source.first_seen):
        assert value == seen_at
        assert value.utcoffset() == timedelta(0)
    raw = store.raw(rec.id)
    assert raw["fetched_at"] == fetched_at and raw["fetched_at"].utcoffset() == timedelta(0)
    at = store.history(rec.id)[0]["at"]
    assert at == seen_at and at.utcoffset() == timedelta(0)
    # a naive time is taken as UTC
    later = datetime(2026, 4, 1, 8, 0, 0)
    changed = rec.model_copy(update={"description": "Another description of the force incidents."})
    assert _put(store, changed, now=later, fetched_at=later) is ChangeKind.CHANGED
    stored = store.get(rec.id)
    assert stored.first_seen == seen_at
    assert stored.last_changed == later.replace(tzinfo=UTC)
    assert store.raw(rec.id)["fetched_at"] == later.replace(tzinfo=UTC)
    run = store.start_run("test", 1, now=seen_at)
    started = store.runs()[0]
    assert started["id"] == run and started["started_at"] == seen_at and started["started_at"].tzinfo is not None


def test_text_round_trips_whatever_a_portal_sends(store):
    title = (
        "Use of Force — Ünïcödé ✓ 警察の武力行使 😀 שימוש בכוח " + "<script>alert('x')</script> & 'quotes' \"double\""
    )
    description = ("Line one\nLine two\t\\backslash\\ %s %(name)s '; DROP TABLE records; -- " * 4000) + "\u200b\u0301"
    keywords = ["use of force", "nul\x00byte", "<b>bold</b>", "🚓"]
    rec = make_record("abcd-0001", title, description=description, keywords=keywords)
    raw_content = {"name": title, "nested": {"html": "<p>a&amp;b</p>", "nul": "x\x00y", "list": ["é", 1, None]}}
    assert len(description) > 200_000
    assert (
        store.upsert_record(
            rec, source_url="https://x.invalid/ü?q=a&b", raw_content=raw_content, fetched_at=T0, run_id=None
        )
        is ChangeKind.NEW
    )
    stored = store.get(rec.id, merged=False)  # the record as stored, not the dataset composed from it
    assert stored.record.title == title
    assert stored.record.description == description
    assert stored.record.keyword == keywords
    assert stored.record.content_hash() == rec.content_hash()
    raw = store.raw(rec.id)
    assert raw["content"] == raw_content and raw["source_url"] == "https://x.invalid/ü?q=a&b"
    # the same record again is unchanged: nothing was altered on the way in
    assert _put(store, rec) is ChangeKind.UNCHANGED
    # free text with a NUL (PostgreSQL text cannot hold one) is still stored
    nul_title = make_record("abcd-0002", "Arrests\x00 2024")
    assert _put(store, nul_title) is ChangeKind.NEW
    assert store.get(nul_title.id).record.title == "Arrests\x00 2024"
    run = store.start_run("test", 1)
    store.record_error(run, SOURCE, Stage.MAP, "bad \x00 byte 😀 " + "x" * 10_000, remote_id="r\x00" * 600)
    error = store.errors(run)[0]
    assert error["message"].startswith("bad ") and len(error["message"]) == 4000
    assert len(error["remote_id"]) == 1200


def test_two_stores_upsert_the_same_new_records_at_once(store, other_store):
    """Two processes (two engines) writing the same new records at the same moment: each record is
    NEW exactly once, nobody fails, and the history agrees with the record."""
    records = [make_record(f"race-{i:04d}", f"Use of Force {i}") for i in range(40)]
    kinds: dict[str, list[ChangeKind]] = {r.id: [] for r in records}
    failures: list[BaseException] = []
    barrier = threading.Barrier(2)
    lock = threading.Lock()

    def writer(s: Store) -> None:
        try:
            for rec in records:
                barrier.wait(timeout=30)
                kind = _put(s, rec)
                with lock:
                    kinds[rec.id].append(kind)
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=writer, args=(s,)) for s in (store, other_store)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not failures, failures
    for rec in records:
        assert sorted(kinds[rec.id]) == sorted([ChangeKind.NEW, ChangeKind.UNCHANGED]), (rec.id, kinds[rec.id])
        assert [h["change"] for h in store.history(rec.id)] == ["new"]
    assert store.count() == len(records)
    assert _table_count(store, t.raw_records) == len(records)
    assert _table_count(store, t.record_history) == len(records)


def test_two_stores_write_different_versions_of_a_new_record_at_once(store, other_store):
    base = [make_record(f"race-{i:04d}", f"Arrests {i}") for i in range(25)]
    versions = {
        "a": [r.model_copy(update={"description": f"Version A of {r.title}."}) for r in base],
        "b": [r.model_copy(update={"description": f"Version B of {r.title}."}) for r in base],
    }
    kinds: dict[str, list[ChangeKind]] = {r.id: [] for r in base}
    failures: list[BaseException] = []
    barrier = threading.Barrier(2)

    def writer(s: Store, name: str) -> None:
        try:
            for rec in versions[name]:
                barrier.wait(timeout=30)
                kinds[rec.id].append(_put(s, rec))
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=writer, args=a) for a in ((store, "a"), (other_store, "b"))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not failures, failures
    for rec in base:
        assert sorted(kinds[rec.id]) == sorted([ChangeKind.NEW, ChangeKind.CHANGED])
        with store.engine.connect() as conn:
            current = conn.execute(select(t.records.c.content_hash).where(t.records.c.id == rec.id)).scalar_one()
            history = conn.execute(
                select(t.record_history.c.change, t.record_history.c.content_hash, t.record_history.c.fields)
                .where(t.record_history.c.record_id == rec.id)
                .order_by(t.record_history.c.id)
            ).all()
        assert [h.change for h in history] == ["new", "changed"]
        assert history[-1].content_hash == current  # the last change written is what is stored
        assert json.loads(history[-1].fields) == ["description"]


def test_a_reader_sees_a_whole_record_while_a_writer_updates_it(store, other_store):
    rec = make_record("abcd-0001", "Version 0")
    _put(store, rec)
    writes = 150
    stop = threading.Event()
    problems: list[str] = []
    reads = 0

    def reader() -> None:
        nonlocal reads
        while not stop.is_set():
            stored = other_store.get(rec.id)
            if stored is None:
                problems.append("record vanished")
                return
            n = stored.record.title.removeprefix("Version ")
            if stored.record.description != f"Description of version {n}." and n != "0":
                problems.append(f"title {stored.record.title!r} with {stored.record.description!r}")
            if stored.status is not RecordStatus.ACTIVE:
                problems.append(f"status {stored.status}")
            reads += 1

    th = threading.Thread(target=reader)
    th.start()
    try:
        for i in range(1, writes + 1):
            version = rec.model_copy(update={"title": f"Version {i}", "description": f"Description of version {i}."})
            assert _put(store, version) is ChangeKind.CHANGED
    finally:
        stop.set()
        th.join(timeout=60)
    assert not problems, problems[:5]
    assert reads > 0
    assert store.get(rec.id).record.title == f"Version {writes}"
    assert len(store.history(rec.id, limit=1000)) == writes + 1


def test_two_stores_settle_one_source_at_once(store, other_store):
    records = [make_record(f"gone-{i:04d}", f"Arrests {i}") for i in range(30)]
    for rec in records:
        _put(store, rec)
    results: dict[str, list[str]] = {}
    failures: list[BaseException] = []
    barrier = threading.Barrier(2)

    def settle(s: Store, name: str) -> None:
        try:
            barrier.wait(timeout=30)
            results[name] = s.settle_source(SOURCE, set(), run_id=None, withdraw_after=1)
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)

    threads = [threading.Thread(target=settle, args=a) for a in ((store, "a"), (other_store, "b"))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not failures, failures
    # each record withdrawn once, by one of them
    assert sorted(results["a"] + results["b"]) == sorted(r.id for r in records)
    assert store.count(RecordStatus.WITHDRAWN) == len(records)
    for rec in records:
        assert [h["change"] for h in store.history(rec.id)] == ["withdrawn", "new"]


def test_create_schema_from_two_processes_at_once(store_url):
    stores = [Store(store_url), Store(store_url)]
    failures: list[BaseException] = []
    barrier = threading.Barrier(2)

    def create(s: Store) -> None:
        try:
            barrier.wait(timeout=30)
            s.create_schema()
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)

    threads = [threading.Thread(target=create, args=(s,)) for s in stores]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    try:
        assert not failures, failures
        assert _put(stores[0], make_record("abcd-0001", "Arrests")) is ChangeKind.NEW
        assert stores[1].count() == 1
    finally:
        for s in stores:
            s.close()


# ---- opening the store ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://pdi:secret@db.example:5432/pdi", "postgresql+psycopg"),
        ("postgres://pdi@db.example/pdi", "postgresql+psycopg"),
        ("postgresql+psycopg://pdi@db.example/pdi", "postgresql+psycopg"),
        ("postgresql+psycopg2://pdi@db.example/pdi", "postgresql+psycopg2"),
        ("sqlite:///data/pdi.sqlite", "sqlite"),
    ],
)
def test_postgresql_urls_as_users_write_them(given, driver):
    url = engine_url(given)
    assert url.drivername == driver
    assert url.host == (None if driver == "sqlite" else "db.example")


def test_an_unreachable_server_is_a_clear_store_error():
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(StoreError) as caught:
        Store(f"postgresql://pdi:hunter2-secret@127.0.0.1:{port}/pdi")
    message = str(caught.value)
    assert f"postgresql://pdi:***@127.0.0.1:{port}/pdi" in message
    assert "hunter2" not in message
    assert "refused" in message.lower()


def test_a_refused_login_is_a_clear_store_error():
    url = engine_url(_server_url()).set(username="no_such_role_pdi", password="hunter2-secret")
    with pytest.raises(StoreError) as caught:
        Store(url.render_as_string(hide_password=False))
    message = str(caught.value)
    assert "no_such_role_pdi" in message and "***" in message
    assert "hunter2" not in message


def _dead_pid() -> int:
    """A pid no process has here."""
    pid = 2**22 + 12345
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid += 1


def test_column_changes_name_what_users_rely_on():
    from store.store import column_changes

    before = [
        {"name": "A", "field_name": "a", "type": "text"},
        {"name": "B", "field_name": "b", "type": "number"},
        {"name": "C", "field_name": "c", "type": "text"},
    ]
    after = [
        {"name": "A", "field_name": "a", "type": "number"},
        {"name": "B2", "field_name": "b2", "type": "number"},
        {"name": "D", "field_name": "d", "type": "text"},
        {"name": "E", "field_name": "e", "type": "url"},
    ]
    change = column_changes(before, after)
    assert change == {
        "added": ["e"],
        "removed": [],
        "renamed": [{"from": "b", "to": "b2"}, {"from": "c", "to": "d"}],
        "retyped": [{"name": "a", "from": "text", "to": "number"}],
    }
    assert column_changes(before, list(before)) is None


# ---- changes: what inventories sync from ------------------------------------------------------


def _keys(rows) -> list[tuple[datetime, str]]:
    return [(s.last_changed, s.record.id) for s in rows]


def test_changes_come_in_change_order_with_withdrawals_and_facets(store):
    from store import ChangeKey, Facet, FacetFilter

    uof = make_record("abcd-0001", "Use of Force Incidents")
    arrests = make_record("abcd-0002", "Arrests")
    austin = make_record(
        "abcd-0003", "Use of Force 2020", jurisdiction="austin-tx", source="socrata:data.austintexas.gov"
    )
    for rec in (uof, arrests, austin):
        _put(store, rec)
    assert store.changes() and [s.record.id for s in store.changes()] == [uof.id, arrests.id, austin.id]
    assert store.count_changes() == 3
    first = store.changes(limit=1)[0]
    assert [s.record.id for s in store.changes(after=first.change_key)] == [arrests.id, austin.id]
    # a change moves the record to the end of the order
    _put(store, uof.model_copy(update={"description": "Revised by the police department."}))
    assert [s.record.id for s in store.changes()] == [arrests.id, austin.id, uof.id]
    assert [s.record.id for s in store.changes(after=first.change_key)] == [arrests.id, austin.id, uof.id]
    # a withdrawal is a change, listed with its status
    store.settle_source(SOURCE, {uof.id}, run_id=None, withdraw_after=1)
    rows = store.changes()
    assert [(s.record.id, s.status) for s in rows][-1] == (arrests.id, RecordStatus.WITHDRAWN)
    assert rows[-1].withdrawn_at == rows[-1].last_changed
    keys = _keys(rows)
    assert keys == sorted(keys) and len(set(k[0] for k in keys)) == 3  # strictly increasing times
    # windows and facets
    since = rows[1].last_changed
    assert [s.record.id for s in store.changes(since=since)] == [uof.id, arrests.id]
    assert [s.record.id for s in store.changes(before=since)] == [austin.id]
    assert store.count_changes(since=since) == 2
    seattle = FacetFilter(Facet.JURISDICTION, "seattle-wa")
    assert {s.record.id for s in store.changes(facets=[seattle])} == {uof.id, arrests.id}
    force = FacetFilter(Facet.CATEGORY, "use_of_force")
    assert {s.record.id for s in store.changes(facets=[force])} == {uof.id, austin.id}
    assert [s.record.id for s in store.changes(facets=[seattle, force])] == [uof.id]
    assert store.count_changes(facets=[FacetFilter(Facet.JURISDICTION)]) == 3
    assert store.changes(facets=[FacetFilter(Facet.JURISDICTION, "gotham-nj")]) == []
    assert store.changes(after=ChangeKey(rows[-1].last_changed, rows[-1].record.id)) == []
    assert store.earliest_change() == rows[0].last_changed


def test_change_times_increase_even_when_the_wall_clock_goes_back(store, monkeypatch):
    import store.store as store_module

    _put(store, make_record("abcd-0001", "Use of Force"))
    stuck = store.get(make_record("abcd-0001", "x").id).last_changed - timedelta(hours=1)
    monkeypatch.setattr(store_module, "utcnow", lambda: stuck)  # the clock was set back an hour
    kept = [make_record(f"abcd-000{i}", f"Arrests {i}") for i in range(2, 6)]
    for rec in kept:
        _put(store, rec)
    assert len(store.settle_source(SOURCE, {r.id for r in kept}, run_id=None, withdraw_after=1)) == 1
    times = [s.last_changed for s in store.changes()]
    assert len(times) == 5 and times == sorted(times) and len(set(times)) == 5


def test_facets_of_an_older_store_are_filled_in_when_it_opens(store, store_url):
    from store import Facet, FacetFilter

    rec = make_record("abcd-0001", "Use of Force Incidents")
    _put(store, rec)
    with store.engine.begin() as conn:
        conn.execute(t.record_facets.delete())
    assert store.changes(facets=[FacetFilter(Facet.CATEGORY, "use_of_force")]) == []
    Store(store_url).create_schema()
    assert [s.record.id for s in store.changes(facets=[FacetFilter(Facet.CATEGORY, "use_of_force")])] == [rec.id]
    assert _table_count(store, t.record_facets) == 2  # seattle-wa, use_of_force


def test_paging_changes_while_another_store_writes_misses_nothing(store, other_store):
    """A reader follows (last_changed, id) keys while another process writes new records and
    changes old ones: at the end it has seen every record in its latest version."""
    for i in range(20):
        _put(store, make_record(f"old-{i:04d}", f"Arrests {i}"))
    written: dict[str, str] = {}
    done = threading.Event()

    def writer() -> None:
        try:
            for i in range(60):
                rec = make_record(f"new-{i:04d}", f"Use of Force {i}")
                _put(other_store, rec)
                written[rec.id] = rec.title
                old = make_record(f"old-{i % 20:04d}", f"Arrests {i % 20}")
                changed = old.model_copy(update={"title": f"Arrests {i % 20} v{i}"})
                _put(other_store, changed)
                written[changed.id] = changed.title
        finally:
            done.set()

    th = threading.Thread(target=writer)
    th.start()
    latest: dict[str, str] = {}
    after = None
    while True:
        finished = done.is_set()
        rows = store.changes(after=after, limit=7)
        for s in rows:
            latest[s.record.id] = s.record.title
        if rows:
            after = rows[-1].change_key
        elif finished:
            break
    th.join(timeout=60)
    assert len(latest) == 80
    for rid, title in written.items():
        assert latest[rid] == title
