"""The store: SQLAlchemy over SQLite (default) or PostgreSQL."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from catalog.record import CatalogRecord
from catalog.vocabulary import RecordStatus
from store import schema as t


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


class Stage(StrEnum):
    GATHER = "gather"
    ENRICH = "enrich"
    MAP = "map"
    CLASSIFY = "classify"
    STORE = "store"
    INDEX = "index"


@dataclass(frozen=True)
class StoredRecord:
    record: CatalogRecord
    status: RecordStatus
    first_seen: datetime
    last_seen: datetime
    last_changed: datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; every time we store is UTC.
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


class Store:
    """Records, raw documents, history and harvest runs. Thread-safe for readers; the harvest run
    serialises its writes."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            if url.startswith("sqlite:///"):
                path = Path(url.removeprefix("sqlite:///"))
                if str(path) != ":memory:":
                    path.parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(url, future=True, pool_pre_ping=True)
        except (SQLAlchemyError, OSError, ValueError) as exc:
            raise StoreError(f"cannot open store {url!r}: {exc}") from exc
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)

    def create_schema(self) -> None:
        try:
            t.metadata.create_all(self.engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot create tables in {self.url!r}: {exc}") from exc

    def close(self) -> None:
        self.engine.dispose()

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

        An unchanged record (same content hash) costs no write at all.
        """
        now = now or utcnow()
        digest = record.content_hash()
        with self.engine.begin() as conn:
            row = conn.execute(
                select(t.records.c.status, t.records.c.content_hash, t.records.c.data).where(
                    t.records.c.id == record.id
                )
            ).first()
            if row is not None and row.status == RecordStatus.ACTIVE and row.content_hash == digest:
                return ChangeKind.UNCHANGED
            record = record.model_copy(update={"pdi": record.pdi.model_copy(update={"status": RecordStatus.ACTIVE})})
            data = _dump(record)
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
                "last_seen": now,
                "last_changed": now,
                "missed_harvests": 0,
                "withdrawn_at": None,
            }
            if row is None:
                kind, fields = ChangeKind.NEW, ["*"]
                conn.execute(insert(t.records).values(id=record.id, first_seen=now, **values))
                conn.execute(insert(t.raw_records).values(record_id=record.id, **raw_values))
            else:
                kind = ChangeKind.RESTORED if row.status == RecordStatus.WITHDRAWN else ChangeKind.CHANGED
                fields = _changed_fields(json.loads(row.data), json.loads(data))
                conn.execute(update(t.records).where(t.records.c.id == record.id).values(**values))
                done = conn.execute(
                    update(t.raw_records).where(t.raw_records.c.record_id == record.id).values(**raw_values)
                )
                if done.rowcount == 0:
                    conn.execute(insert(t.raw_records).values(record_id=record.id, **raw_values))
            conn.execute(
                insert(t.record_history).values(
                    record_id=record.id,
                    run_id=run_id,
                    at=now,
                    change=kind.value,
                    fields=json.dumps(fields),
                    content_hash=digest,
                    data=data,
                )
            )
        return kind

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
        Returns the ids withdrawn now.
        """
        now = now or utcnow()
        seen = set(seen_ids)
        withdrawn: list[str] = []
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(t.records.c.id, t.records.c.missed_harvests, t.records.c.data).where(
                    t.records.c.source_id == source_id, t.records.c.status == RecordStatus.ACTIVE.value
                )
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
                    text = json.dumps(data, sort_keys=True, ensure_ascii=False)
                    conn.execute(
                        update(t.records)
                        .where(t.records.c.id == r.id)
                        .values(
                            status=RecordStatus.WITHDRAWN.value,
                            missed_harvests=missed,
                            withdrawn_at=now,
                            last_changed=now,
                            data=text,
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
                            data=text,
                        )
                    )
                    withdrawn.append(r.id)
                else:
                    conn.execute(update(t.records).where(t.records.c.id == r.id).values(missed_harvests=missed))
        return withdrawn

    def get(self, record_id: str) -> StoredRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.records).where(t.records.c.id == record_id)).first()
        return _stored(row) if row is not None else None

    def iter_records(self, *, status: RecordStatus | None = None, batch: int = 500) -> Iterator[StoredRecord]:
        """Every record in id order, read in batches so memory stays bounded."""
        last = ""
        while True:
            query = select(t.records).where(t.records.c.id > last).order_by(t.records.c.id).limit(batch)
            if status is not None:
                query = query.where(t.records.c.status == status.value)
            with self.engine.connect() as conn:
                rows = conn.execute(query).all()
            if not rows:
                return
            for row in rows:
                yield _stored(row)
            last = rows[-1].id

    def count(self, status: RecordStatus | None = None) -> int:
        query = select(func.count()).select_from(t.records)
        if status is not None:
            query = query.where(t.records.c.status == status.value)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def history(self, record_id: str, limit: int = 100) -> list[dict[str, Any]]:
        query = (
            select(
                t.record_history.c.at,
                t.record_history.c.change,
                t.record_history.c.fields,
                t.record_history.c.run_id,
            )
            .where(t.record_history.c.record_id == record_id)
            .order_by(t.record_history.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            {"at": _aware(r.at), "change": r.change, "fields": json.loads(r.fields), "run_id": r.run_id} for r in rows
        ]

    def raw(self, record_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
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
        self.mark_interrupted_runs()
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(t.harvest_runs).values(
                    started_at=now or utcnow(),
                    status=RunStatus.RUNNING.value,
                    trigger=trigger,
                    host=socket.gethostname(),
                    pid=os.getpid(),
                    sources_total=sources_total,
                )
            )
            return int(result.inserted_primary_key[0])  # type: ignore[index]

    def finish_run(self, run_id: int, status: RunStatus, counts: dict[str, int], duration_s: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(t.harvest_runs)
                .where(t.harvest_runs.c.id == run_id)
                .values(status=status.value, finished_at=utcnow(), duration_s=duration_s, **counts)
            )

    def start_source_run(self, run_id: int, source_id: str, platform: str, url: str) -> int:
        with self.engine.begin() as conn:
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

    def finish_source_run(self, source_run_id: int, status: RunStatus, **values: Any) -> None:
        with self.engine.begin() as conn:
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
        with self.engine.begin() as conn:
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
        """Runs left 'running' by a process of this host that is no longer alive become
        'interrupted', so no run looks running forever after a crash or a SIGKILL."""
        host = socket.gethostname()
        fixed = 0
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(t.harvest_runs.c.id, t.harvest_runs.c.pid).where(
                    t.harvest_runs.c.status == RunStatus.RUNNING.value, t.harvest_runs.c.host == host
                )
            ).all()
            for r in rows:
                if r.pid == os.getpid() or _pid_alive(r.pid):
                    continue
                conn.execute(
                    update(t.harvest_runs)
                    .where(t.harvest_runs.c.id == r.id)
                    .values(status=RunStatus.INTERRUPTED.value, finished_at=utcnow())
                )
                conn.execute(
                    update(t.source_runs)
                    .where(t.source_runs.c.run_id == r.id, t.source_runs.c.status == RunStatus.RUNNING.value)
                    .values(status=RunStatus.INTERRUPTED.value, finished_at=utcnow())
                )
                fixed += 1
        return fixed

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        query = select(t.harvest_runs).order_by(t.harvest_runs.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [_aware_row(dict(r)) for r in rows]

    def source_runs(self, run_id: int) -> list[dict[str, Any]]:
        query = select(t.source_runs).where(t.source_runs.c.run_id == run_id).order_by(t.source_runs.c.id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [_aware_row(dict(r)) for r in rows]

    def errors(self, run_id: int, limit: int = 200) -> list[dict[str, Any]]:
        query = (
            select(t.harvest_errors)
            .where(t.harvest_errors.c.run_id == run_id)
            .order_by(t.harvest_errors.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [_aware_row(dict(r)) for r in rows]

    def last_source_runs(self) -> dict[str, dict[str, Any]]:
        """The latest run of each source, keyed by source id."""
        latest = select(func.max(t.source_runs.c.id)).group_by(t.source_runs.c.source_id)
        query = select(t.source_runs).where(t.source_runs.c.id.in_(latest))
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return {r["source_id"]: _aware_row(dict(r)) for r in rows}


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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
