"""The store: SQLAlchemy over SQLite (default) or PostgreSQL.

Several processes may share one database (the API and a separate scheduler, or two harvests):
writes that read before they write take a lock first — ``BEGIN IMMEDIATE`` on SQLite, ``SELECT …
FOR UPDATE`` on PostgreSQL — and new rows go in with ``INSERT … ON CONFLICT``, so a concurrent
writer of the same record never makes a run fail or a history lie.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Row,
    Table,
    and_,
    bindparam,
    case,
    create_engine,
    delete,
    event,
    exists,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, InterfaceError, OperationalError, SQLAlchemyError

from catalog.identity import dataset_key
from catalog.record import CatalogRecord
from catalog.vocabulary import RecordStatus
from harvesters.http import CachedResponse
from store import schema as t
from store.merge import Dataset, Member, compose

# Advisory-lock key space of PostgreSQL held by a live harvest run (the second key is the run id).
RUN_LOCK_SPACE = 0x50444952  # "PDIR"
# Advisory-lock key of PostgreSQL taken while creating the tables, so two processes starting at once
# do not both create them.
SCHEMA_LOCK = (RUN_LOCK_SPACE, 0)
SOURCE_LOCK_SPACE = 0x50444953  # "PDIS": one advisory lock per source while a run of it starts
# Advisory-lock key of PostgreSQL held by every transaction that stamps a change time (see
# Store._change_time): change times then follow commit order, as they do on SQLite's single writer.
CHANGE_CLOCK_LOCK = (0x50444943, 0)  # "PDIC"

# Advisory-lock key of PostgreSQL held by a write that may regroup duplicates (store/merge.py), taken
# before any row lock, so concurrent writers of one dataset's records neither miss each other's
# members nor deadlock. (SQLite serialises every write already.)
MERGE_LOCK = (0x5044494D, 0)  # "PDIM"
CONNECT_TIMEOUT_S = 10
SQLITE_BUSY_TIMEOUT_MS = 30_000


class StoreError(RuntimeError):
    """The store cannot be opened or written; the message says which database and why."""


class ChangeKind(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    RESTORED = "restored"  # withdrawn before, seen again
    WITHDRAWN = "withdrawn"


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # some sources failed
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # its process died before it finished
    SKIPPED = "skipped"  # a source already being harvested by another run


class Stage(StrEnum):
    GATHER = "gather"
    ENRICH = "enrich"
    MAP = "map"
    CLASSIFY = "classify"
    STORE = "store"
    INDEX = "index"


class Facet(StrEnum):
    """What a record can be selected by in :meth:`Store.changes` (kept in ``record_facets``)."""

    JURISDICTION = "jurisdiction"
    CATEGORY = "category"


@dataclass(frozen=True)
class FacetFilter:
    """Records with this facet value; ``value=None``: records with any value of the facet."""

    facet: Facet
    value: str | None = None


@dataclass(frozen=True, order=True)
class ChangeKey:
    """A position in the changes order: (last_changed, id). Records are listed strictly after it."""

    changed: datetime
    id: str


@dataclass(frozen=True)
class StoredRecord:
    """A record as stored. From :meth:`Store.get` it is a *dataset*: the composed record of every
    source's record of it (``members``, canonical first; see store/merge.py). From
    :meth:`Store.iter_records` or ``get(…, merged=False)`` it is one source's own record
    (``members`` empty)."""

    record: CatalogRecord
    status: RecordStatus
    first_seen: datetime
    last_seen: datetime
    last_changed: datetime
    withdrawn_at: datetime | None = None
    members: tuple[Member, ...] = ()

    @property
    def change_key(self) -> ChangeKey:
        return ChangeKey(self.last_changed, self.record.id)

    @property
    def aliases(self) -> list[str]:
        """Ids of the other sources' records of this dataset; each resolves to it."""
        return [m.id for m in self.members if m.id != self.record.id]


def record_facets(record: CatalogRecord) -> set[tuple[Facet, str]]:
    """The (facet, value) pairs a record is selected by: its jurisdictions and its categories."""
    out = {(Facet.JURISDICTION, j) for j in record.pdi.jurisdictions}
    if record.pdi.jurisdiction:
        out.add((Facet.JURISDICTION, record.pdi.jurisdiction))
    out |= {(Facet.CATEGORY, c) for c in record.pdi.category_ids}
    return out


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    # The schema's UtcDateTime already hands back aware UTC values; kept for rows read raw.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _dump(record: CatalogRecord) -> str:
    return json.dumps(record.to_dcat(), sort_keys=True, ensure_ascii=False)


def _changed_fields(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    fields = sorted(k for k in set(old) | set(new) if k != "pdi" and old.get(k) != new.get(k))
    old_pdi, new_pdi = old.get("pdi", {}), new.get("pdi", {})
    fields += sorted(
        f"pdi.{k}" for k in set(old_pdi) | set(new_pdi) if k != "source" and old_pdi.get(k) != new_pdi.get(k)
    )
    return fields


def column_changes(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> dict[str, Any] | None:
    """How a dataset's columns changed: added, removed, renamed (one column gone and one new of the
    same type in the same position) and retyped. None when nothing a user relies on changed."""

    def key(c: dict[str, Any]) -> str:
        return str(c.get("field_name") or c.get("name"))

    old = {key(c): c for c in before}
    new = {key(c): c for c in after}
    added = [k for k in new if k not in old]
    removed = [k for k in old if k not in new]
    renamed = []
    old_pos = {key(c): i for i, c in enumerate(before)}
    new_pos = {key(c): i for i, c in enumerate(after)}
    for gone in list(removed):
        match = next(
            (a for a in added if new[a].get("type") == old[gone].get("type") and new_pos[a] == old_pos[gone]), None
        )
        if match is not None:
            renamed.append({"from": gone, "to": match})
            removed.remove(gone)
            added.remove(match)
    retyped = [
        {"name": k, "from": old[k].get("type"), "to": new[k].get("type")}
        for k in new
        if k in old and old[k].get("type") != new[k].get("type")
    ]
    if not (added or removed or renamed or retyped):
        return None
    return {"added": added, "removed": removed, "renamed": renamed, "retyped": retyped}


def engine_url(url: str) -> URL:
    """The SQLAlchemy URL to connect with: ``postgresql://`` (or ``postgres://``), as users write
    it, uses the psycopg 3 driver that PDI Catalog installs. Other URLs are taken as they are."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def display_url(url: str) -> str:
    """``url`` with its password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return " ".join(str(orig).split())[:500] or type(orig).__name__


class Store:
    """Records, raw documents, history and harvest runs.

    Thread-safe; processes sharing a database are safe too (see the module docstring). Opening a
    server database connects at once, so an unreachable server or refused login is a
    :class:`StoreError` naming the URL (never its password).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.display_url = display_url(url)
        self._run_locks: dict[int, Connection] = {}  # PostgreSQL: run id → session holding its lock
        self._run_locks_guard = threading.Lock()
        # SQLite has one writer at a time: this process's threads queue here and wake as soon as
        # the writer before them commits, rather than in SQLite's busy handler, which polls with
        # sleeps of up to 100 ms. (Other processes still meet SQLite's own lock; PostgreSQL writes
        # in parallel under its row and advisory locks, so it gets no such queue.)
        self._write_guard: AbstractContextManager[Any] = nullcontext()
        try:
            target = engine_url(url)
            if target.get_backend_name() == "sqlite" and target.database not in (None, "", ":memory:"):
                Path(str(target.database)).parent.mkdir(parents=True, exist_ok=True)
            connect_args: dict[str, Any] = {}
            if target.get_backend_name() == "postgresql":
                if "connect_timeout" not in target.query:
                    connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
                if "application_name" not in target.query:
                    connect_args["application_name"] = "pdi-catalog"
            # A pooled SQLite connection is a file handle that cannot go stale; pinging it before
            # every checkout only cost a query per read and write.
            pre_ping = target.get_backend_name() != "sqlite"
            self.engine: Engine = create_engine(target, pool_pre_ping=pre_ping, connect_args=connect_args)
        except (SQLAlchemyError, OSError, ValueError) as exc:
            raise StoreError(f"cannot open store {self.display_url}: {_reason(exc)}") from exc
        self.dialect = self.engine.dialect.name
        if self.dialect == "sqlite":
            self._write_guard = threading.RLock()
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.ping()

    def ping(self) -> None:
        """Connect once; a StoreError says why the database cannot be reached."""
        try:
            with self.engine.connect() as conn:
                conn.execute(select(1))
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot connect to store {self.display_url}: {_reason(exc)}") from exc

    def create_schema(self) -> None:
        try:
            with self._write() as conn:
                if self.dialect == "postgresql":
                    conn.execute(
                        text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": SCHEMA_LOCK[0], "b": SCHEMA_LOCK[1]}
                    )
                t.metadata.create_all(conn)
                self._migrate(conn)
                self._backfill_facets(conn)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot create tables in {self.display_url}: {_reason(exc)}") from exc

    def _backfill_facets(self, conn: Connection) -> None:
        """Fill ``record_facets`` for records written before that table existed (a store of an
        older version). A store kept in step by every write has nothing to fill: one query."""
        missing = select(t.records.c.id, t.records.c.data).where(
            ~exists().where(t.record_facets.c.record_id == t.records.c.id)
        )
        for row in conn.execute(missing).all():
            self._put_facets(conn, row.id, CatalogRecord.model_validate(json.loads(row.data)))

    def _migrate(self, conn: Connection) -> None:
        """Bring a database made by an older version up to this schema: only additive changes (new
        nullable columns of ``records`` and their indexes; new tables come from ``create_all``),
        then the duplicate grouping of records stored before it existed (or by an older process)."""
        have = {c["name"] for c in inspect(conn).get_columns("records")}
        for name in t.ADDED_RECORD_COLUMNS:
            if name not in have:
                kind = t.records.c[name].type.compile(dialect=conn.dialect)
                conn.execute(text(f"ALTER TABLE records ADD COLUMN {name} {kind}"))
        for index in t.records.indexes:
            index.create(conn, checkfirst=True)
        self._backfill_groups(conn)

    def _backfill_groups(self, conn: Connection, batch: int = 500) -> int:
        """Give every record without one its dataset key and group. Returns how many it did."""
        rc = t.records.c
        keys: set[str] = set()
        done = 0
        while True:
            rows = conn.execute(select(t.records).where(rc.canonical_id.is_(None)).order_by(rc.id).limit(batch)).all()
            if not rows:
                break
            for row in rows:
                member = _member(row)
                key = dataset_key(member.record)
                digest = compose([member]).record.content_hash()
                conn.execute(
                    update(t.records)
                    .where(rc.id == row.id)
                    .values(dataset_key=key, canonical_id=row.id, dataset_hash=digest)
                )
                if key is not None:
                    keys.add(key)
            done += len(rows)
        if keys:
            shared = select(rc.dataset_key).where(rc.dataset_key.is_not(None)).group_by(rc.dataset_key)
            for (key,) in conn.execute(shared.having(func.count() > 1)).all():
                if key in keys:
                    self._regroup(conn, key, [])
        return done

    def close(self) -> None:
        with self._run_locks_guard:
            held, self._run_locks = list(self._run_locks.values()), {}
        for conn in held:
            _drop_session(conn)
        self.engine.dispose()

    # ---- connections -----------------------------------------------------------------------

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """A lost or refused connection (or a locked SQLite file) becomes a StoreError naming the
        database; other errors are bugs and pass unchanged."""
        try:
            yield
        except (OperationalError, InterfaceError) as exc:
            raise StoreError(f"store {self.display_url}: {_reason(exc)}") from exc

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._guard(), self.engine.connect() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction. On SQLite it takes the write lock first (``BEGIN IMMEDIATE``):
        a deferred transaction that reads, then writes after another process wrote, fails at once
        with "database is locked" whatever the busy timeout."""
        with self._write_guard, self._guard(), self.engine.begin() as conn:
            if self.dialect == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            yield conn

    def _insert_new(self, conn: Connection, table: Table, values: dict[str, Any]) -> bool:
        """Insert a row unless one with its primary key exists (or is being inserted by another
        transaction, which this waits for). Returns whether this inserted it."""
        if self.dialect == "postgresql":
            # RETURNING tells whether it went in (SQLAlchemy keeps no rowcount of an INSERT on psycopg).
            return conn.execute(_insert_new_statement(self.dialect, table), values).first() is not None
        if self.dialect == "sqlite":
            # rowcount rather than RETURNING, which would need SQLite 3.35.
            return conn.execute(_insert_new_statement(self.dialect, table), values).rowcount == 1
        try:
            with conn.begin_nested():
                conn.execute(insert(table).values(**values))
        except IntegrityError:
            return False
        return True

    def _put_raw(self, conn: Connection, record_id: str, values: dict[str, Any]) -> None:
        self._upsert(conn, t.raw_records, {"record_id": record_id, **values})

    def _upsert(self, conn: Connection, table: Table, row: dict[str, Any]) -> None:
        """Insert ``row`` or replace the row with its primary key: one prebuilt statement on
        PostgreSQL and SQLite, an update then an insert elsewhere."""
        if self.dialect in ("postgresql", "sqlite"):
            conn.execute(_upsert_statement(self.dialect, table), row)
            return
        keys = [c.name for c in table.primary_key.columns]
        where = and_(*(table.c[k] == row[k] for k in keys))
        done = conn.execute(update(table).where(where).values({k: v for k, v in row.items() if k not in keys}))
        if done.rowcount == 0:
            conn.execute(insert(table).values(**row))

    def _put_facets(self, conn: Connection, record_id: str, record: CatalogRecord) -> None:
        statements = _record_statements()
        conn.execute(statements.drop_facets, {"rid": record_id})
        rows = [
            {"record_id": record_id, "facet": facet.value, "value": value[:160]}
            for facet, value in sorted(record_facets(record))
        ]
        if rows:
            conn.execute(statements.facets, rows)

    def _change_time(self, conn: Connection) -> datetime:
        """The time to stamp a change with, taken inside the write transaction, after every change
        already stored (a clock set back does not reorder them).

        Writers take it one at a time (SQLite's write lock; an advisory lock on PostgreSQL) and
        keep that lock until they commit, so change times follow commit order: a reader that has
        paged the changes up to some (last_changed, id) never sees a record commit behind it later.
        """
        if self.dialect == "postgresql":
            conn.execute(
                text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": CHANGE_CLOCK_LOCK[0], "b": CHANGE_CLOCK_LOCK[1]}
            )
        latest = conn.execute(_record_statements().latest_change).scalar()
        now = utcnow()
        latest = _aware(latest)
        if latest is not None and now <= latest:
            now = latest + timedelta(microseconds=1)
        return now

    # ---- records -------------------------------------------------------------------------

    def upsert_record(
        self,
        record: CatalogRecord,
        *,
        source_url: str,
        raw_content: dict[str, Any],
        fetched_at: datetime,
        run_id: int | None,
        now: datetime | None = None,
    ) -> ChangeKind:
        """Write a freshly mapped record if it is new or differs from the stored one.

        An unchanged record (same content hash) costs no write at all. Safe against another
        process writing the same record at the same time: exactly one of them reports it NEW, the
        other sees it as stored and reports UNCHANGED (or CHANGED if its content differs).
        ``now`` (default: the store's change clock, see :meth:`_change_time`) stamps the change.

        The record's dataset identity key (:func:`catalog.identity.dataset_key`) is stored with it,
        and the group of records sharing that key — the same dataset seen through other sources —
        is brought up to date (store/merge.py). The kind returned is about this source's record.
        """
        record = record.model_copy(
            update={"pdi": record.pdi.model_copy(update={"status": RecordStatus.ACTIVE, "sources": []})}
        )
        digest = record.content_hash()
        key = dataset_key(record)
        statements = _record_statements()
        with self._read() as conn:
            row = conn.execute(statements.state, {"rid": record.id}).first()
        if row is not None and _unchanged(row, digest, key):
            return ChangeKind.UNCHANGED
        data = _dump(record)
        # as a dataset of its own (what it is unless another source's record shares its key)
        when = now or utcnow()
        alone = compose([Member(record.id, record, RecordStatus.ACTIVE, when, when, when)]).record.content_hash()
        raw_values = {
            "source_id": record.pdi.source.source_id,
            "remote_id": record.pdi.source.remote_id,
            "source_url": source_url,
            "fetched_at": fetched_at,
            "content": json.dumps(raw_content, ensure_ascii=False),
        }
        values = {
            "source_id": record.pdi.source.source_id,
            "remote_id": record.pdi.source.remote_id,
            "title": record.title,
            "status": RecordStatus.ACTIVE.value,
            "police_related": record.pdi.police_related,
            "content_hash": digest,
            "data": data,
            "missed_harvests": 0,
            "withdrawn_at": None,
            "dataset_key": key,
            "canonical_id": record.id,
            "dataset_hash": alone,
        }
        current = statements.current
        with self._write() as conn:
            if key is not None or (row is not None and row.dataset_key is not None):
                self._merge_lock(conn)  # always before the change clock's lock
            stamp = now or self._change_time(conn)
            values.update(last_seen=stamp, last_changed=stamp)
            # Read again under the lock: another process may have written it since.
            locked = conn.execute(current, {"rid": record.id}).first()
            old_key: str | None = None
            if locked is None and self._insert_new(conn, t.records, {"id": record.id, "first_seen": stamp, **values}):
                kind, fields = ChangeKind.NEW, ["*"]
            else:
                if locked is None:  # another process inserted it between our read and our insert
                    locked = conn.execute(current, {"rid": record.id}).one()
                old_key = locked.dataset_key
                if _unchanged(locked, digest, key):
                    return ChangeKind.UNCHANGED
                if locked.status == RecordStatus.ACTIVE and locked.content_hash == digest:
                    # same content, but its key was made by older rules (or never): regroup only
                    conn.execute(
                        statements.update,
                        {"rid": record.id, "dataset_key": key, "canonical_id": record.id, "dataset_hash": alone},
                    )
                    self._regroup_after(conn, record.id, old_key, key)
                    return ChangeKind.UNCHANGED
                kind = ChangeKind.RESTORED if locked.status == RecordStatus.WITHDRAWN else ChangeKind.CHANGED
                fields = _changed_fields(json.loads(locked.data), json.loads(data))
                conn.execute(statements.update, {"rid": record.id, **values})
            self._put_raw(conn, record.id, raw_values)
            self._put_facets(conn, record.id, record)
            conn.execute(
                statements.history,
                {
                    "record_id": record.id,
                    "run_id": run_id,
                    "at": stamp,
                    "change": kind.value,
                    "fields": json.dumps(fields),
                    "content_hash": digest,
                    "data": data,
                },
            )
            self._regroup_after(conn, record.id, old_key, key)
        return kind

    # ---- duplicates (store/merge.py) ------------------------------------------------------

    def _merge_lock(self, conn: Connection) -> None:
        if self.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": MERGE_LOCK[0], "b": MERGE_LOCK[1]})

    def _regroup_after(self, conn: Connection, record_id: str, old_key: str | None, key: str | None) -> None:
        """After ``record_id`` was written with ``key`` (it had ``old_key``) as a dataset of its own:
        its group, if another record shares the key, and the group it left."""
        if key is not None:
            shared = conn.execute(_record_statements().shares_key, {"key": key, "rid": record_id}).first()
            if shared is not None:
                self._regroup(conn, key, [record_id])
        if old_key is not None and old_key != key:
            self._regroup(conn, old_key, [])

    def _regroup(self, conn: Connection, key: str, changed: Iterable[str]) -> None:
        """Bring ``canonical_id`` and ``dataset_hash`` of the records sharing ``key`` up to date,
        after the records ``changed`` were written or withdrawn."""
        rc = t.records.c
        changed = list(changed)
        per_source = conn.execute(
            select(rc.source_id, func.count()).where(rc.dataset_key == key).group_by(rc.source_id)
        ).all()
        if not any(n > 1 for _, n in per_source):
            self._write_group(conn, conn.execute(select(t.records).where(rc.dataset_key == key)).all())
            return
        # One source gives this key to several of its records: ambiguous, so every record of the
        # key stands alone. Only those that changed, or were merged before, need writing (a key
        # shared by a whole source's records must not cost a pass over all of them per write).
        merged = or_(rc.canonical_id.is_(None), rc.canonical_id != rc.id)
        canonicals = select(rc.canonical_id).where(rc.dataset_key == key, rc.canonical_id != rc.id)
        rows = conn.execute(
            select(t.records).where(rc.dataset_key == key, or_(rc.id.in_(changed), merged, rc.id.in_(canonicals)))
        ).all()
        for row in rows:
            self._write_group(conn, [row])

    def _write_group(self, conn: Connection, rows: Sequence[Row[Any]]) -> None:
        """Make ``rows`` one dataset: each gets the canonical id, the canonical row the composed hash."""
        if not rows:
            return
        dataset = compose([_member(r) for r in rows])
        digest = dataset.record.content_hash()
        for row in rows:
            target = (dataset.id, digest if row.id == dataset.id else None)
            if (row.canonical_id, row.dataset_hash) != target:
                conn.execute(
                    update(t.records)
                    .where(t.records.c.id == row.id)
                    .values(canonical_id=target[0], dataset_hash=target[1])
                )

    def settle_source(
        self,
        source_id: str,
        seen_ids: Iterable[str],
        *,
        run_id: int | None,
        withdraw_after: int,
        now: datetime | None = None,
    ) -> list[str]:
        """After a COMPLETE gather of ``source_id``: mark what was seen, count misses for the rest,
        and withdraw records missed by ``withdraw_after`` consecutive complete harvests.

        Never call this after a failed or partial gather: absence there proves nothing.
        Returns the ids withdrawn now. Withdrawing is per source: a dataset that other sources
        still list stays active with this source's record as a withdrawn member (store/merge.py).
        """
        seen = set(seen_ids)
        withdrawn: list[str] = []
        regroup: dict[str, list[str]] = {}
        with self._write() as conn:
            self._merge_lock(conn)  # always before the change clock's lock
            now = now or self._change_time(conn)
            # Locked in id order, so two processes settling one source queue rather than deadlock.
            rows = conn.execute(
                select(t.records.c.id, t.records.c.missed_harvests, t.records.c.data, t.records.c.dataset_key)
                .where(t.records.c.source_id == source_id, t.records.c.status == RecordStatus.ACTIVE.value)
                .order_by(t.records.c.id)
                .with_for_update()
            ).all()
            seen_list = [r.id for r in rows if r.id in seen]
            for chunk in _chunks(seen_list, 500):
                conn.execute(
                    update(t.records).where(t.records.c.id.in_(chunk)).values(last_seen=now, missed_harvests=0)
                )
            for r in rows:
                if r.id in seen:
                    continue
                missed = r.missed_harvests + 1
                if missed >= withdraw_after:
                    data = json.loads(r.data)
                    data["pdi"]["status"] = RecordStatus.WITHDRAWN.value
                    text_ = json.dumps(data, sort_keys=True, ensure_ascii=False)
                    conn.execute(
                        update(t.records)
                        .where(t.records.c.id == r.id)
                        .values(
                            status=RecordStatus.WITHDRAWN.value,
                            missed_harvests=missed,
                            withdrawn_at=now,
                            last_changed=now,
                            data=text_,
                        )
                    )
                    conn.execute(
                        insert(t.record_history).values(
                            record_id=r.id,
                            run_id=run_id,
                            at=now,
                            change=ChangeKind.WITHDRAWN.value,
                            fields=json.dumps(["pdi.status"]),
                            content_hash="",
                            data=text_,
                        )
                    )
                    withdrawn.append(r.id)
                    if r.dataset_key is not None:
                        regroup.setdefault(r.dataset_key, []).append(r.id)
                else:
                    conn.execute(update(t.records).where(t.records.c.id == r.id).values(missed_harvests=missed))
            for key, ids in regroup.items():
                self._regroup(conn, key, ids)
        return withdrawn

    def settled_ids(self, source_id: str) -> set[str]:
        """Ids of the source's active records that its last complete harvest saw (none missed):
        what an unchanged catalog would show again."""
        with self._read() as conn:
            rows = conn.execute(
                select(t.records.c.id).where(
                    t.records.c.source_id == source_id,
                    t.records.c.status == RecordStatus.ACTIVE.value,
                    t.records.c.missed_harvests == 0,
                )
            ).all()
        return {r.id for r in rows}

    def source_probe(self, source_id: str) -> dict[str, Any] | None:
        """The probe kept for ``source_id`` (fingerprint, tracks_changes, full_read_at, probed_at)."""
        with self._read() as conn:
            row = conn.execute(select(t.source_probes).where(t.source_probes.c.source_id == source_id)).first()
        return dict(row._mapping) if row is not None else None

    def save_probe(
        self, source_id: str, fingerprint: str, tracks_changes: bool, *, full_read_at: datetime, probed_at: datetime
    ) -> None:
        """Keep the probe taken before a complete harvest (or confirmed by an unchanged one)."""
        with self._write() as conn:
            conn.execute(t.source_probes.delete().where(t.source_probes.c.source_id == source_id))
            conn.execute(
                insert(t.source_probes).values(
                    source_id=source_id,
                    fingerprint=fingerprint,
                    tracks_changes=tracks_changes,
                    full_read_at=full_read_at,
                    probed_at=probed_at,
                )
            )

    def save_checkpoint(self, source_id: str, fingerprint: str, next_offset: int, seen: Iterable[str]) -> None:
        """Keep where a gather of ``source_id`` got to: every page before ``next_offset`` committed."""
        with self._write() as conn:
            conn.execute(t.gather_checkpoints.delete().where(t.gather_checkpoints.c.source_id == source_id))
            conn.execute(
                insert(t.gather_checkpoints).values(
                    source_id=source_id,
                    fingerprint=fingerprint,
                    next_offset=next_offset,
                    seen=json.dumps(sorted(seen)),
                    saved_at=utcnow(),
                )
            )

    def checkpoint(self, source_id: str) -> dict[str, Any] | None:
        """The checkpoint of ``source_id`` (fingerprint, next_offset, seen as a set, saved_at), if any."""
        with self._read() as conn:
            row = conn.execute(
                select(t.gather_checkpoints).where(t.gather_checkpoints.c.source_id == source_id)
            ).first()
        if row is None:
            return None
        return {**row._mapping, "seen": set(json.loads(row.seen))}

    def drop_checkpoint(self, source_id: str) -> None:
        with self._write() as conn:
            conn.execute(t.gather_checkpoints.delete().where(t.gather_checkpoints.c.source_id == source_id))

    def get(self, record_id: str, *, merged: bool = True) -> StoredRecord | None:
        """The dataset the record ``record_id`` belongs to — its own id, or an alias of it (another
        source's record of the same dataset) — composed from every source's record of it.
        ``merged=False``: that one source's own record, as stored."""
        rc = t.records.c
        with self._read() as conn:
            row = conn.execute(select(t.records).where(rc.id == record_id)).first()
            if row is None:
                return None
            if not merged:
                return _stored(row)
            rows = conn.execute(select(t.records).where(rc.canonical_id == (row.canonical_id or row.id))).all()
        return _from_dataset(compose([_member(r) for r in rows] or [_member(row)]))

    def _datasets(self, conn: Connection, canonical_rows: Sequence[Row[Any]]) -> list[Dataset]:
        """The datasets whose canonical rows are ``canonical_rows`` (with their other members)."""
        rc = t.records.c
        groups: dict[str, list[Member]] = {r.id: [_member(r)] for r in canonical_rows}
        for chunk in _chunks(list(groups), 500):
            for r in conn.execute(select(t.records).where(rc.canonical_id.in_(chunk), rc.canonical_id != rc.id)):
                groups[r.canonical_id].append(_member(r))
        return [compose(members) for members in groups.values()]

    def iter_datasets(self, *, status: RecordStatus | None = None, batch: int = 500) -> Iterator[StoredRecord]:
        """Every dataset (a canonical record composed with its duplicates) in id order, in batches.

        ``status``: only the active datasets (listed by at least one source), or the withdrawn."""
        rc = t.records.c
        last = ""
        while True:
            query = select(t.records).where(rc.id > last, _is_canonical()).order_by(rc.id).limit(batch)
            if status is not None:
                query = query.where(rc.status == status.value)
            with self._read() as conn:
                rows = conn.execute(query).all()
                datasets = self._datasets(conn, rows) if rows else []
            if not rows:
                return
            for dataset in datasets:
                yield _from_dataset(dataset)
            last = rows[-1].id

    def index_view(self, record_ids: Iterable[str]) -> tuple[list[CatalogRecord], list[str]]:
        """What the search index must hold after the records ``record_ids`` were written or
        withdrawn: the active datasets they belong to now (to index, under the dataset's id), and
        the ids that must not be a search hit (aliases, withdrawn datasets, unknown ids)."""
        rc = t.records.c
        wanted = list(dict.fromkeys(record_ids))
        to_index: list[CatalogRecord] = []
        gone: list[str] = []
        with self._read() as conn:
            canonical_ids: set[str] = set()
            found: set[str] = set()
            for chunk in _chunks(wanted, 500):
                for r in conn.execute(select(rc.id, rc.canonical_id).where(rc.id.in_(chunk))):
                    found.add(r.id)
                    canonical_ids.add(r.canonical_id or r.id)
            gone += [i for i in wanted if i not in found]
            for chunk in _chunks(sorted(canonical_ids), 500):
                rows = conn.execute(select(t.records).where(rc.id.in_(chunk))).all()
                for dataset in self._datasets(conn, rows):
                    if dataset.status is RecordStatus.ACTIVE:
                        to_index.append(dataset.record)
                        gone += dataset.aliases
                    else:
                        gone += [m.id for m in dataset.members]
        return to_index, list(dict.fromkeys(gone))

    def get_many(self, record_ids: Iterable[str]) -> dict[str, StoredRecord]:
        """The records of these ids that exist, by id (a few queries, however many ids)."""
        out: dict[str, StoredRecord] = {}
        for chunk in _chunks(list(dict.fromkeys(record_ids)), 500):
            with self._read() as conn:
                rows = conn.execute(select(t.records).where(t.records.c.id.in_(chunk))).all()
            out.update((row.id, _stored(row)) for row in rows)
        return out

    def ids_starting_with(self, prefix: str, limit: int = 20) -> list[str]:
        """Record ids that begin with ``prefix`` (taken literally, not as a pattern), in id order."""
        query = (
            select(t.records.c.id)
            .where(t.records.c.id.startswith(prefix, autoescape=True))
            .order_by(t.records.c.id)
            .limit(limit)
        )
        with self._read() as conn:
            return [row.id for row in conn.execute(query)]

    def iter_records(self, *, status: RecordStatus | None = None, batch: int = 500) -> Iterator[StoredRecord]:
        """Every source's own record in id order (duplicates not merged; see :meth:`iter_datasets`),
        read in batches so memory stays bounded."""
        last = ""
        while True:
            query = select(t.records).where(t.records.c.id > last).order_by(t.records.c.id).limit(batch)
            if status is not None:
                query = query.where(t.records.c.status == status.value)
            with self._read() as conn:
                rows = conn.execute(query).all()
            if not rows:
                return
            for row in rows:
                yield _stored(row)
            last = rows[-1].id

    def count(self, status: RecordStatus | None = None) -> int:
        """Records (one per source and remote id; duplicates counted per source)."""
        query = select(func.count()).select_from(t.records)
        if status is not None:
            query = query.where(t.records.c.status == status.value)
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())

    # ---- changes: what an inventory syncs from (the changes feed, OAI-PMH) -----------------

    def changes(
        self,
        *,
        since: datetime | None = None,
        before: datetime | None = None,
        after: ChangeKey | None = None,
        facets: Sequence[FacetFilter] = (),
        limit: int = 100,
    ) -> list[StoredRecord]:
        """Records changed (new, changed, restored or withdrawn) in ``[since, before)``, ordered by
        (last_changed, id), strictly after ``after``; each of ``facets`` must match. Withdrawn
        records are included with their status, so a harvester learns of deletions.

        Keyset paging on (last_changed, id) is stable while harvests write: a record changed
        meanwhile moves to the end of the order (its new change time is later than every change
        already stored; see :meth:`_change_time`), where the next pages find it again.
        """
        query = (
            select(t.records)
            .where(*self._change_filters(since, before, facets))
            .order_by(t.records.c.last_changed, t.records.c.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(
                or_(
                    t.records.c.last_changed > after.changed,
                    and_(t.records.c.last_changed == after.changed, t.records.c.id > after.id),
                )
            )
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [_stored(row) for row in rows]

    def count_changes(
        self,
        *,
        since: datetime | None = None,
        before: datetime | None = None,
        facets: Sequence[FacetFilter] = (),
    ) -> int:
        """How many records :meth:`changes` lists in all with these filters."""
        query = select(func.count()).select_from(t.records).where(*self._change_filters(since, before, facets))
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())

    def earliest_change(self) -> datetime | None:
        """The change time of the record changed longest ago (None for an empty store)."""
        with self._read() as conn:
            return _aware(conn.execute(select(func.min(t.records.c.last_changed))).scalar())

    @staticmethod
    def _change_filters(
        since: datetime | None, before: datetime | None, facets: Sequence[FacetFilter]
    ) -> list[ColumnElement[bool]]:
        # a dataset seen through several sources is listed once, as its canonical record
        where: list[ColumnElement[bool]] = [_is_canonical()]
        if since is not None:
            where.append(t.records.c.last_changed >= since)
        if before is not None:
            where.append(t.records.c.last_changed < before)
        for f in facets:
            member = exists().where(
                t.record_facets.c.record_id == t.records.c.id, t.record_facets.c.facet == f.facet.value
            )
            if f.value is not None:
                member = member.where(t.record_facets.c.value == f.value)
            where.append(member)
        return where

    def dataset_counts(self) -> dict[str, int]:
        """Datasets (what a search counts) and duplicates: ``datasets_active``, ``datasets_withdrawn``,
        ``datasets_merged`` (active datasets listed by two or more sources) and ``records_merged``
        (active records folded into another source's dataset, i.e. not a search hit of their own)."""
        rc = t.records.c
        alias = rc.canonical_id != rc.id
        with self._read() as conn:
            by_status: dict[str, int] = dict(
                conn.execute(select(rc.status, func.count()).where(_is_canonical()).group_by(rc.status)).all()
            )
            folded, merged = conn.execute(
                select(func.count(), func.count(rc.canonical_id.distinct())).where(
                    alias, rc.status == RecordStatus.ACTIVE.value
                )
            ).one()
        return {
            "datasets_active": int(by_status.get(RecordStatus.ACTIVE.value, 0)),
            "datasets_withdrawn": int(by_status.get(RecordStatus.WITHDRAWN.value, 0)),
            "datasets_merged": int(merged or 0),
            "records_merged": int(folded or 0),
        }

    def dataset_history(self, dataset: StoredRecord, limit: int = 100) -> list[dict[str, Any]]:
        """The changes of every source's record of ``dataset`` (from :meth:`get`), newest first,
        each with the ``record_id`` and ``source_id`` it is about."""
        members = dataset.members or ()
        ids = [(m.id, m.record.pdi.source.source_id) for m in members] or [
            (dataset.record.id, dataset.record.pdi.source.source_id)
        ]
        entries = [
            {**entry, "record_id": rid, "source_id": sid} for rid, sid in ids for entry in self.history(rid, limit)
        ]
        entries.sort(key=lambda e: e["at"], reverse=True)  # stable: ties keep the canonical first
        return entries[:limit]

    def history(self, record_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """The record's changes, newest first. An entry whose columns differ from the version
        before it carries ``columns``: what was added, removed, renamed or retyped — the schema
        change a user relying on a column needs to hear about."""
        query = (
            select(
                t.record_history.c.at,
                t.record_history.c.change,
                t.record_history.c.fields,
                t.record_history.c.run_id,
                t.record_history.c.data,
            )
            .where(t.record_history.c.record_id == record_id)
            .order_by(t.record_history.c.id.desc())
            .limit(limit + 1)  # one more, to compare the oldest shown with the version before it
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
        columns = [json.loads(r.data).get("pdi", {}).get("columns", []) for r in rows]
        out = []
        for i, r in enumerate(rows[:limit]):
            entry: dict[str, Any] = {
                "at": _aware(r.at),
                "change": r.change,
                "fields": json.loads(r.fields),
                "run_id": r.run_id,
                "columns": None,
            }
            if i + 1 < len(rows) and "pdi.columns" in entry["fields"]:
                entry["columns"] = column_changes(columns[i + 1], columns[i])
            out.append(entry)
        return out

    def record_ids(self, source_id: str) -> set[str]:
        """The ids of every record stored for ``source_id`` (any status)."""
        with self._read() as conn:
            return set(conn.execute(select(t.records.c.id).where(t.records.c.source_id == source_id)).scalars())

    def raw(self, record_id: str) -> dict[str, Any] | None:
        with self._read() as conn:
            row = conn.execute(select(t.raw_records).where(t.raw_records.c.record_id == record_id)).first()
        if row is None:
            return None
        return {
            "source_url": row.source_url,
            "fetched_at": _aware(row.fetched_at),
            "content": json.loads(row.content),
        }

    # ---- harvest runs ---------------------------------------------------------------------

    def start_run(self, trigger: str, sources_total: int, now: datetime | None = None) -> int:
        """Record a new run as running (after marking dead runs interrupted).

        On PostgreSQL the run's own database session holds an advisory lock until
        :meth:`finish_run` (or the process's death, which ends the session): that is how any other
        process, on any host, tells a live run from a dead one.
        """
        self.mark_interrupted_runs()
        values = {
            "started_at": now or utcnow(),
            "status": RunStatus.RUNNING.value,
            "trigger": trigger,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "sources_total": sources_total,
        }
        if self.dialect != "postgresql":
            with self._write() as conn:
                result = conn.execute(insert(t.harvest_runs).values(**values))
                return int(result.inserted_primary_key[0])  # type: ignore[index]
        with self._guard():
            session = self.engine.connect()
            try:
                with session.begin():
                    result = session.execute(insert(t.harvest_runs).values(**values))
                    run_id = int(result.inserted_primary_key[0])  # type: ignore[index]
                    # Taken before the row is committed, so no one ever sees the run unlocked.
                    session.execute(text("SELECT pg_advisory_lock(:a, :b)"), {"a": RUN_LOCK_SPACE, "b": run_id})
            except BaseException:
                _drop_session(session)
                raise
        with self._run_locks_guard:
            self._run_locks[run_id] = session
        return run_id

    def finish_run(self, run_id: int, status: RunStatus, counts: dict[str, int], duration_s: float) -> None:
        with self._write() as conn:
            conn.execute(
                update(t.harvest_runs)
                .where(t.harvest_runs.c.id == run_id)
                .values(status=status.value, finished_at=utcnow(), duration_s=duration_s, **counts)
            )
        with self._run_locks_guard:
            session = self._run_locks.pop(run_id, None)
        if session is not None:
            _drop_session(session)

    @staticmethod
    def _insert_source_run(conn: Connection, run_id: int, source_id: str, platform: str, url: str) -> int:
        result = conn.execute(
            insert(t.source_runs).values(
                run_id=run_id,
                source_id=source_id,
                platform=platform,
                url=url,
                started_at=utcnow(),
                status=RunStatus.RUNNING.value,
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def start_source_run(self, run_id: int, source_id: str, platform: str, url: str) -> int:
        with self._write() as conn:
            return self._insert_source_run(conn, run_id, source_id, platform, url)

    def claim_source_run(self, run_id: int, source_id: str, platform: str, url: str) -> int | None:
        """Start a run of ``source_id`` unless one is already running (in any process sharing this
        store): at most one harvest per source at a time. Returns the source run id, or None."""
        with self._write() as conn:
            if self.dialect == "postgresql":
                # serialise the check-then-insert per source across processes
                key = zlib.crc32(source_id.encode()) - 2**31
                conn.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": SOURCE_LOCK_SPACE, "b": key})
            busy = conn.execute(
                select(func.count())
                .select_from(t.source_runs)
                .where(t.source_runs.c.source_id == source_id, t.source_runs.c.status == RunStatus.RUNNING.value)
            ).scalar_one()
            if busy:
                return None
            return self._insert_source_run(conn, run_id, source_id, platform, url)

    def consecutive_failures(self, source_id: str, limit: int = 20) -> int:
        """How many of the source's latest finished runs failed in a row (for backoff)."""
        query = (
            select(t.source_runs.c.status)
            .where(
                t.source_runs.c.source_id == source_id,
                t.source_runs.c.status.in_([RunStatus.SUCCEEDED.value, RunStatus.FAILED.value]),
            )
            .order_by(t.source_runs.c.id.desc())
            .limit(limit)
        )
        with self._read() as conn:
            statuses = [r.status for r in conn.execute(query)]
        count = 0
        for status in statuses:
            if status != RunStatus.FAILED.value:
                break
            count += 1
        return count

    def finish_source_run(self, source_run_id: int, status: RunStatus, **values: Any) -> None:
        with self._write() as conn:
            conn.execute(
                update(t.source_runs)
                .where(t.source_runs.c.id == source_run_id)
                .values(status=status.value, finished_at=utcnow(), **values)
            )

    def record_error(
        self,
        run_id: int,
        source_id: str,
        stage: Stage,
        message: str,
        *,
        remote_id: str | None = None,
        url: str | None = None,
    ) -> None:
        with self._write() as conn:
            conn.execute(
                insert(t.harvest_errors).values(
                    run_id=run_id,
                    source_id=source_id,
                    stage=stage.value,
                    remote_id=remote_id,
                    url=url,
                    message=message[:4000],
                    at=utcnow(),
                )
            )

    def mark_interrupted_runs(self) -> int:
        """Runs left 'running' by a process that is no longer alive become 'interrupted', so no
        run looks running forever after a crash or a SIGKILL. A live run is never touched.

        PostgreSQL: a run is alive while its session holds the run's advisory lock, whatever host
        it runs on. SQLite (one machine): a run is alive while its process is, and runs of other
        hosts are left alone.
        """
        fixed = 0
        with self._write() as conn:
            query = select(t.harvest_runs.c.id, t.harvest_runs.c.pid).where(
                t.harvest_runs.c.status == RunStatus.RUNNING.value
            )
            if self.dialect != "postgresql":
                query = query.where(t.harvest_runs.c.host == socket.gethostname())
            for r in conn.execute(query.order_by(t.harvest_runs.c.id)).all():
                if self.dialect == "postgresql":
                    with self._run_locks_guard:
                        if r.id in self._run_locks:
                            continue
                    free = conn.execute(
                        text("SELECT pg_try_advisory_xact_lock(:a, :b)"), {"a": RUN_LOCK_SPACE, "b": r.id}
                    ).scalar_one()
                    if not free:
                        continue
                elif r.pid == os.getpid() or _pid_alive(r.pid):
                    continue
                done = conn.execute(
                    update(t.harvest_runs)
                    .where(t.harvest_runs.c.id == r.id, t.harvest_runs.c.status == RunStatus.RUNNING.value)
                    .values(status=RunStatus.INTERRUPTED.value, finished_at=utcnow())
                )
                if done.rowcount == 0:  # it finished meanwhile
                    continue
                conn.execute(
                    update(t.source_runs)
                    .where(t.source_runs.c.run_id == r.id, t.source_runs.c.status == RunStatus.RUNNING.value)
                    .values(status=RunStatus.INTERRUPTED.value, finished_at=utcnow())
                )
                fixed += 1
        return fixed

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        query = select(t.harvest_runs).order_by(t.harvest_runs.c.id.desc()).limit(limit)
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        return [_aware_row(dict(r)) for r in rows]

    def source_runs(self, run_id: int) -> list[dict[str, Any]]:
        query = select(t.source_runs).where(t.source_runs.c.run_id == run_id).order_by(t.source_runs.c.id)
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        return [_aware_row(dict(r)) for r in rows]

    def errors(self, run_id: int, limit: int = 200) -> list[dict[str, Any]]:
        query = (
            select(t.harvest_errors)
            .where(t.harvest_errors.c.run_id == run_id)
            .order_by(t.harvest_errors.c.id)
            .limit(limit)
        )
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        return [_aware_row(dict(r)) for r in rows]

    def record_host_stats(self, run_id: int, stats: dict[str, dict[str, int]]) -> None:
        """Requests, retries and bytes per portal host in one run (from the HTTP layer)."""
        rows = [{"run_id": run_id, "host": host[:255], **counts} for host, counts in stats.items()]
        if rows:
            with self._write() as conn:
                conn.execute(insert(t.host_stats), rows)

    def host_totals(self) -> dict[str, dict[str, int]]:
        """Requests, retries and bytes per host over every run."""
        hs = t.host_stats
        query = select(hs.c.host, func.sum(hs.c.requests), func.sum(hs.c.retries), func.sum(hs.c.bytes)).group_by(
            hs.c.host
        )
        with self._read() as conn:
            return {
                host: {"requests": int(r or 0), "retries": int(x or 0), "bytes": int(b or 0)}
                for host, r, x, b in conn.execute(query)
            }

    def run_counts(self) -> dict[str, int]:
        """Harvest runs per status."""
        query = select(t.harvest_runs.c.status, func.count()).group_by(t.harvest_runs.c.status)
        with self._read() as conn:
            return {status: int(n) for status, n in conn.execute(query)}

    def record_counts(self) -> dict[str, int]:
        """Records per status (active, withdrawn)."""
        query = select(t.records.c.status, func.count()).group_by(t.records.c.status)
        with self._read() as conn:
            return {status: int(n) for status, n in conn.execute(query)}

    def source_health(self) -> dict[str, dict[str, Any]]:
        """Per source: runs, failed runs, errors, last successful run's finish time."""
        sr = t.source_runs
        runs = select(
            sr.c.source_id,
            func.count().label("runs"),
            func.sum(case((sr.c.status == RunStatus.FAILED.value, 1), else_=0)).label("failed"),
            func.max(case((sr.c.status == RunStatus.SUCCEEDED.value, sr.c.finished_at), else_=None)).label("last_ok"),
        ).group_by(sr.c.source_id)
        errors = select(t.harvest_errors.c.source_id, func.count().label("errors")).group_by(
            t.harvest_errors.c.source_id
        )
        with self._read() as conn:
            out = {
                r.source_id: {
                    "runs": int(r.runs),
                    "failed": int(r.failed or 0),
                    "last_ok": _aware(r.last_ok),
                    "errors": 0,
                }
                for r in conn.execute(runs)
            }
            for r in conn.execute(errors):
                out.setdefault(r.source_id, {"runs": 0, "failed": 0, "last_ok": None, "errors": 0})["errors"] = int(
                    r.errors
                )
        return out

    def last_source_runs(self) -> dict[str, dict[str, Any]]:
        """The latest run of each source, keyed by source id."""
        latest = select(func.max(t.source_runs.c.id)).group_by(t.source_runs.c.source_id)
        query = select(t.source_runs).where(t.source_runs.c.id.in_(latest))
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        return {r["source_id"]: _aware_row(dict(r)) for r in rows}

    def fingerprints(self) -> Iterator[tuple[str, str]]:
        """(id, content hash) of every active dataset in id order, to check an index against: the
        id and hash of the composed record :meth:`get` gives (duplicates merged)."""
        rc = t.records.c
        last = ""
        while True:
            query = (
                select(rc.id, func.coalesce(rc.dataset_hash, rc.content_hash).label("content_hash"))
                .where(rc.status == RecordStatus.ACTIVE.value, rc.id > last, _is_canonical())
                .order_by(t.records.c.id)
                .limit(5000)
            )
            with self._read() as conn:
                rows = conn.execute(query).all()
            if not rows:
                return
            for row in rows:
                yield row.id, row.content_hash
            last = rows[-1].id


def _is_canonical() -> Any:
    """Rows that are a dataset's own (not an alias of another source's record)."""
    rc = t.records.c
    return or_(rc.canonical_id == rc.id, rc.canonical_id.is_(None))


def _unchanged(row: Any, digest: str, key: str | None) -> bool:
    """Is the stored row (status, content_hash, dataset_key, canonical_id) this record as it is?"""
    return bool(
        row.status == RecordStatus.ACTIVE
        and row.content_hash == digest
        and row.dataset_key == key
        and row.canonical_id is not None
    )


def _member(row: Any) -> Member:
    stored = _stored(row)
    return Member(
        id=row.id,
        record=stored.record,
        status=stored.status,
        first_seen=stored.first_seen,
        last_seen=stored.last_seen,
        last_changed=stored.last_changed,
    )


def _from_dataset(dataset: Dataset) -> StoredRecord:
    return StoredRecord(
        record=dataset.record,
        status=dataset.status,
        first_seen=dataset.first_seen,
        last_seen=dataset.last_seen,
        last_changed=dataset.last_changed,
        members=dataset.members,
    )


def _stored(row: Any) -> StoredRecord:
    record = CatalogRecord.model_validate(json.loads(row.data))
    first_seen = _aware(row.first_seen)
    last_seen = _aware(row.last_seen)
    source = record.pdi.source.model_copy(
        update={"first_seen": first_seen, "last_seen": last_seen, "harvested": last_seen}
    )
    record = record.model_copy(
        update={"pdi": record.pdi.model_copy(update={"source": source, "status": RecordStatus(row.status)})}
    )
    return StoredRecord(
        record=record,
        status=RecordStatus(row.status),
        first_seen=first_seen or utcnow(),
        last_seen=last_seen or utcnow(),
        last_changed=_aware(row.last_changed) or utcnow(),
        withdrawn_at=_aware(row.withdrawn_at),
    )


def _aware_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _aware(v) if isinstance(v, datetime) else v for k, v in row.items()}


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _drop_session(conn: Connection) -> None:
    """Close a session for good (not back to the pool), releasing any advisory lock it holds."""
    try:
        conn.invalidate()
        conn.close()
    except SQLAlchemyError:
        pass


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            # Turning a new file to WAL needs it alone and does not wait on the busy timeout: when
            # another process is creating it at the same moment, try again.
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    # With WAL, NORMAL syncs at checkpoints rather than at every commit: the database stays
    # consistent on a crash, and at worst the last commits before a power loss are redone by the
    # next harvest. FULL would fsync every record and every cached page, serialising a harvest.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@dataclass(frozen=True)
class _RecordStatements:
    """The statements a record write runs every time, built once (their parameters come at run
    time): building SQLAlchemy statements and their cache keys cost more than running them."""

    state: Any  # status, content_hash, dataset_key, canonical_id of :rid
    current: Any  # the same and data, FOR UPDATE
    update: Any  # every value given, of :rid
    history: Any
    drop_facets: Any
    facets: Any
    latest_change: Any
    shares_key: Any  # another record (not :rid) with :key


@cache
def _record_statements() -> _RecordStatements:
    rc = t.records.c
    rid: Any = bindparam("rid")
    return _RecordStatements(
        state=select(rc.status, rc.content_hash, rc.dataset_key, rc.canonical_id).where(rc.id == rid),
        current=select(rc.status, rc.content_hash, rc.data, rc.dataset_key, rc.canonical_id)
        .where(rc.id == rid)
        .with_for_update(),
        update=update(t.records).where(rc.id == rid),
        history=insert(t.record_history),
        drop_facets=delete(t.record_facets).where(t.record_facets.c.record_id == rid),
        facets=insert(t.record_facets),
        latest_change=select(func.max(rc.last_changed)),
        shares_key=select(rc.id).where(rc.dataset_key == bindparam("key"), rc.id != rid).limit(1),
    )


@cache
def _insert_new_statement(dialect: str, table: Table) -> Any:
    """INSERT … ON CONFLICT (primary key) DO NOTHING, built once per dialect and table (rows come
    as parameters): on PostgreSQL RETURNING the key, on SQLite keeping the row count."""
    keys = list(table.primary_key.columns)
    if dialect == "postgresql":
        return pg_insert(table).on_conflict_do_nothing(index_elements=keys).returning(*keys)
    return sqlite_insert(table).on_conflict_do_nothing(index_elements=keys).execution_options(preserve_rowcount=True)


@cache
def _upsert_statement(dialect: str, table: Table) -> Any:
    """INSERT … ON CONFLICT (primary key) DO UPDATE of every other column, built once per dialect
    and table (building its ``excluded`` columns cost more than running it); rows come as
    parameters."""
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    keys = list(table.primary_key.columns)
    return stmt.on_conflict_do_update(
        index_elements=keys, set_={c.name: stmt.excluded[c.name] for c in table.columns if c not in keys}
    )


class StoreHttpCache:
    """The HTTP layer's revalidation cache (ETag / Last-Modified and body per URL) in the store, so
    conditional requests work across runs and processes.

    Meant to live for one harvest run (``pdi harvest`` and the scheduler build one per run): the
    keys it holds are read once, at its first lookup, so a URL it never cached costs no query. A
    URL another process caches meanwhile is fetched without validators — a full answer, never a
    wrong one."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._keys: set[str] | None = None
        self._keys_lock = threading.Lock()

    @staticmethod
    def _key(url: str) -> str:
        return hashlib.sha256(url.encode()).hexdigest()

    def _holds(self, key: str) -> bool:
        with self._keys_lock:
            if self._keys is None:
                with self.store._read() as conn:
                    self._keys = set(conn.execute(select(t.http_cache.c.key)).scalars())
            return key in self._keys

    def get(self, url: str) -> CachedResponse | None:
        if not self._holds(self._key(url)):
            return None
        with self.store._read() as conn:
            row = conn.execute(select(t.http_cache).where(t.http_cache.c.key == self._key(url))).first()
        if row is None or row.url != url:
            return None
        return CachedResponse(row.etag, row.last_modified, row.content_type, bytes(row.body))

    def put(self, url: str, entry: CachedResponse) -> None:
        key = self._key(url)
        row = {
            "key": key,
            "url": url,
            "etag": entry.etag,
            "last_modified": entry.last_modified,
            "content_type": entry.content_type,
            "body": entry.body,
            "stored_at": utcnow(),
        }
        with self.store._write() as conn:
            self.store._upsert(conn, t.http_cache, row)
        with self._keys_lock:
            if self._keys is not None:
                self._keys.add(key)
