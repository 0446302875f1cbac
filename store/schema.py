"""Tables of the store. Timestamps are timezone-aware UTC; JSON documents are stored as text so the
same schema runs on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

records = Table(
    "records",
    metadata,
    Column("id", String(160), primary_key=True),
    Column("source_id", String(400), nullable=False),
    Column("remote_id", String(1000), nullable=False),
    Column("title", Text, nullable=False),
    Column("status", String(16), nullable=False),  # RecordStatus
    Column("police_related", Boolean, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("data", Text, nullable=False),  # CatalogRecord JSON (DCAT-US + pdi)
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("last_changed", DateTime(timezone=True), nullable=False),
    Column("missed_harvests", Integer, nullable=False, default=0),
    Column("withdrawn_at", DateTime(timezone=True), nullable=True),
    Index("ix_records_source", "source_id", "status"),
    Index("ix_records_changed", "last_changed"),
)

raw_records = Table(
    "raw_records",
    metadata,
    Column("record_id", String(160), ForeignKey("records.id"), primary_key=True),
    Column("source_id", String(400), nullable=False),
    Column("remote_id", String(1000), nullable=False),
    Column("source_url", Text, nullable=False),
    Column("fetched_at", DateTime(timezone=True), nullable=False),
    Column("content", Text, nullable=False),  # the portal's JSON, untouched
)

record_history = Table(
    "record_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("record_id", String(160), nullable=False),
    Column("run_id", Integer, nullable=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("change", String(16), nullable=False),  # ChangeKind
    Column("fields", Text, nullable=False),  # JSON list of top-level fields that changed
    Column("content_hash", String(64), nullable=False),
    Column("data", Text, nullable=False),  # the record as it was after this change
    Index("ix_history_record", "record_id", "id"),
)

harvest_runs = Table(
    "harvest_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("status", String(16), nullable=False),  # RunStatus
    Column("trigger", String(32), nullable=False),
    Column("host", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("sources_total", Integer, nullable=False, default=0),
    Column("sources_ok", Integer, nullable=False, default=0),
    Column("sources_failed", Integer, nullable=False, default=0),
    Column("records_new", Integer, nullable=False, default=0),
    Column("records_changed", Integer, nullable=False, default=0),
    Column("records_unchanged", Integer, nullable=False, default=0),
    Column("records_withdrawn", Integer, nullable=False, default=0),
    Column("records_failed", Integer, nullable=False, default=0),
    Column("records_skipped", Integer, nullable=False, default=0),
    Column("duration_s", Float, nullable=True),
)

source_runs = Table(
    "source_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("harvest_runs.id"), nullable=False),
    Column("source_id", String(400), nullable=False),
    Column("platform", String(40), nullable=False),
    Column("url", Text, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("status", String(16), nullable=False),  # RunStatus
    Column("complete", Boolean, nullable=False, default=False),
    Column("pages", Integer, nullable=False, default=0),
    Column("records_seen", Integer, nullable=False, default=0),
    Column("records_new", Integer, nullable=False, default=0),
    Column("records_changed", Integer, nullable=False, default=0),
    Column("records_unchanged", Integer, nullable=False, default=0),
    Column("records_withdrawn", Integer, nullable=False, default=0),
    Column("records_failed", Integer, nullable=False, default=0),
    Column("records_skipped", Integer, nullable=False, default=0),
    Column("error", Text, nullable=True),
    Index("ix_source_runs_source", "source_id", "id"),
    Index("ix_source_runs_run", "run_id"),
)

harvest_errors = Table(
    "harvest_errors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("harvest_runs.id"), nullable=False),
    Column("source_id", String(400), nullable=False),
    Column("stage", String(16), nullable=False),  # Stage
    Column("remote_id", String(1000), nullable=True),
    Column("url", Text, nullable=True),
    Column("message", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_errors_run", "run_id"),
)
