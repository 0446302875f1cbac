"""Tables of the store. The same schema runs on SQLite and PostgreSQL: timestamps are timezone-aware
UTC on both (see :class:`UtcDateTime`), JSON documents are stored as text, and free text may hold
anything a portal sends (see :class:`CleanText`)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects import postgresql


class UtcDateTime(TypeDecorator[datetime]):
    """A point in time, handed back timezone-aware in UTC on every backend.

    PostgreSQL keeps it as ``timestamptz`` (and returns it in the session's time zone, which we
    convert); SQLite keeps wall-clock text without an offset, so it is written as UTC wall time.
    A naive value is taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class CleanText(TypeDecorator[str]):
    """Text as a portal sent it. PostgreSQL cannot store the NUL character in text, so there it
    becomes U+FFFD; SQLite keeps the text as it is. (JSON documents escape NUL as ``\\u0000``.)"""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is not None and dialect.name == "postgresql" and "\x00" in value:
            return value.replace("\x00", "\ufffd")
        return value


def _record_id() -> String:
    # Byte order ("C" collation) on PostgreSQL, as on SQLite, so id order and keyset paging are the
    # same on both whatever the database's locale.
    return String(160).with_variant(postgresql.VARCHAR(160, collation="C"), "postgresql")


metadata = MetaData()

records = Table(
    "records",
    metadata,
    Column("id", _record_id(), primary_key=True),
    Column("source_id", String(400), nullable=False),
    Column("remote_id", CleanText, nullable=False),
    Column("title", CleanText, nullable=False),
    Column("status", String(16), nullable=False),  # RecordStatus
    Column("police_related", Boolean, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("data", CleanText, nullable=False),  # CatalogRecord JSON (DCAT-US + pdi)
    Column("first_seen", UtcDateTime, nullable=False),
    Column("last_seen", UtcDateTime, nullable=False),
    Column("last_changed", UtcDateTime, nullable=False),
    Column("missed_harvests", Integer, nullable=False, default=0),
    Column("withdrawn_at", UtcDateTime, nullable=True),
    # Duplicates (store/merge.py). Added after the first release, so nullable: an older database gets
    # them from Store.create_schema (ALTER TABLE … ADD COLUMN) and a backfill.
    Column("dataset_key", String(400), nullable=True),  # catalog.identity.dataset_key; None: never merged
    Column("canonical_id", _record_id(), nullable=True),  # the id of the dataset it belongs to (own id if none)
    Column("dataset_hash", String(64), nullable=True),  # content hash of the composed dataset (on canonical rows)
    Index("ix_records_source", "source_id", "status"),
    Index("ix_records_changed", "last_changed"),
    Index("ix_records_dataset_key", "dataset_key"),
    Index("ix_records_canonical", "canonical_id"),
)

#: columns of ``records`` that a database created by an older version lacks; added on open
ADDED_RECORD_COLUMNS = ("dataset_key", "canonical_id", "dataset_hash")

raw_records = Table(
    "raw_records",
    metadata,
    Column("record_id", _record_id(), ForeignKey("records.id"), primary_key=True),
    Column("source_id", String(400), nullable=False),
    Column("remote_id", CleanText, nullable=False),
    Column("source_url", CleanText, nullable=False),
    Column("fetched_at", UtcDateTime, nullable=False),
    Column("content", CleanText, nullable=False),  # the portal's JSON, untouched
)

# What a record belongs to, one row per (record, facet, value): its jurisdictions and categories.
# Kept in step with ``records.data`` by every write, so a changes feed or an OAI-PMH set can select
# records by jurisdiction or category in the database rather than by reading every record.
record_facets = Table(
    "record_facets",
    metadata,
    Column("record_id", _record_id(), ForeignKey("records.id"), primary_key=True),
    Column("facet", String(16), primary_key=True),  # "jurisdiction" or "category"
    Column("value", String(160), primary_key=True),
    Index("ix_record_facets_value", "facet", "value", "record_id"),
)

record_history = Table(
    "record_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("record_id", _record_id(), nullable=False),
    Column("run_id", Integer, nullable=True),
    Column("at", UtcDateTime, nullable=False),
    Column("change", String(16), nullable=False),  # ChangeKind
    Column("fields", Text, nullable=False),  # JSON list of top-level fields that changed
    Column("content_hash", String(64), nullable=False),
    Column("data", CleanText, nullable=False),  # the record as it was after this change
    Index("ix_history_record", "record_id", "id"),
)

harvest_runs = Table(
    "harvest_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("status", String(16), nullable=False),  # RunStatus
    Column("trigger", String(32), nullable=False),
    Column("host", String(255), nullable=False),
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
    Column("url", CleanText, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
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
    Column("error", CleanText, nullable=True),
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
    Column("remote_id", CleanText, nullable=True),
    Column("url", CleanText, nullable=True),
    Column("message", CleanText, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_errors_run", "run_id"),
)


host_stats = Table(
    "host_stats",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("harvest_runs.id"), nullable=False),
    Column("host", String(255), nullable=False),
    Column("requests", Integer, nullable=False, default=0),
    Column("retries", Integer, nullable=False, default=0),
    Column("bytes", Integer, nullable=False, default=0),
    Index("ix_host_stats_host", "host"),
)


# What a source's probe (harvesters.base.Probe) said before its last complete harvest.
source_probes = Table(
    "source_probes",
    metadata,
    Column("source_id", String(400), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("tracks_changes", Boolean, nullable=False),
    Column("full_read_at", UtcDateTime, nullable=False),  # when the catalog was last read whole
    Column("probed_at", UtcDateTime, nullable=False),  # when the fingerprint was last confirmed
)

# Where an unfinished gather of an offset-paged catalog stopped: the next run resumes there when the
# catalog's probe shows it unchanged since (so the offsets still point at the same datasets).
gather_checkpoints = Table(
    "gather_checkpoints",
    metadata,
    Column("source_id", String(400), primary_key=True),
    Column("fingerprint", String(64), nullable=False),  # the probe taken before that gather
    Column("next_offset", Integer, nullable=False),  # the first page not yet committed whole
    Column("seen", Text, nullable=False),  # JSON list of the record ids committed before it
    Column("saved_at", UtcDateTime, nullable=False),
)

http_cache = Table(
    "http_cache",
    metadata,
    Column("key", String(64), primary_key=True),  # sha256 of the URL
    Column("url", Text, nullable=False),
    Column("etag", Text, nullable=True),
    Column("last_modified", Text, nullable=True),
    Column("content_type", Text, nullable=True),
    Column("body", LargeBinary, nullable=False),
    Column("stored_at", UtcDateTime, nullable=False),
)


# ---- freshness and coverage (derived from the records; see store/coverage.py) ----------------

record_freshness = Table(
    "record_freshness",
    metadata,
    Column("record_id", _record_id(), primary_key=True),
    Column("source_id", String(400), nullable=False),
    Column("content_hash", String(64), nullable=False),  # of the record version these facts are from
    Column("title", CleanText, nullable=False),
    Column("jurisdiction", String(160), nullable=True),  # primary jurisdiction id
    Column("jurisdictions", Text, nullable=False),  # JSON list of jurisdiction ids
    Column("categories", Text, nullable=False),  # JSON list of category ids
    Column("declared", CleanText, nullable=True),  # the period the portal declares, as mapped
    Column("periodicity", String(40), nullable=True),  # the period judged by: ISO, irregular, never
    Column("periodicity_source", String(16), nullable=False),  # PeriodicitySource
    Column("last_update", UtcDateTime, nullable=True),
    Column("update_times", Text, nullable=False),  # JSON list of data-update times seen, oldest first
    Column("series_id", String(200), nullable=True),
    Column("series_latest", Boolean, nullable=False, default=False),
    Column("series_label", CleanText, nullable=True),  # the period this release covers ("2019")
    Column("series_position", Integer, nullable=True),  # 0 for the series' oldest release
    Column("refreshed_at", UtcDateTime, nullable=False),
    Index("ix_freshness_source", "source_id"),
    Index("ix_freshness_series", "series_id"),
)

coverage_snapshots = Table(
    "coverage_snapshots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, nullable=True),  # the harvest run after which it was taken
    Column("taken_at", UtcDateTime, nullable=False),
    Column("overall", Text, nullable=False),  # JSON: the coverage totals
    Column("by_category", Text, nullable=False),  # JSON: category id -> totals
    Column("by_jurisdiction", Text, nullable=False),  # JSON: jurisdiction id -> totals and cells
    Index("ix_coverage_taken", "taken_at"),
)
