"""The embedded index: SQLite FTS5 for text, a facet table for filters and counts.

Zero setup: one file beside the store (``data/index.sqlite`` by default). Relevance is FTS5's
BM25 with the title weighted highest; paging is keyset ("search after") on the sort key plus
the document id, so a page never repeats or skips a document when others are added meanwhile.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from index.base import (
    FACET_FIELDS,
    FacetValue,
    IndexDocument,
    IndexReport,
    IndexUnavailable,
    SearchHit,
    SearchIndex,
    SearchPage,
    SearchQuery,
    SortOrder,
    decode_cursor,
    encode_cursor,
)
from index.text import analyzed, parse_query

# bm25 weights, in the order of the fts columns below
WEIGHTS = (10.0, 4.0, 3.0, 2.0, 1.0)
NO_DATE = -1.0e18  # sorts undated documents last when newest comes first

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    doc INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    mod_key REAL NOT NULL,
    content_hash TEXT NOT NULL,
    summary TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS facets (
    doc INTEGER NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_facets_field_value ON facets(field, value, doc);
CREATE INDEX IF NOT EXISTS ix_facets_doc ON facets(doc);
CREATE INDEX IF NOT EXISTS ix_docs_mod ON docs(mod_key DESC, id);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    title, keywords, jurisdiction, columns, description,
    tokenize = 'unicode61'
);
"""
# Bumped whenever the tables or the text analysis change; an index of another version is rebuilt.
SCHEMA_VERSION = 4  # 3: the freshness facet; 4: the keyword facet, id order


def fts_expression(q: str) -> str | None:
    """User text to an FTS5 expression: every group must match, one of its phrases each.

    Text is parsed by :func:`index.text.parse_query` into stems (``[a-z0-9]+`` only), so no FTS5
    operator syntax from the user ever reaches the engine.
    """
    groups = parse_query(q)
    if not groups:
        return None
    return " AND ".join("(" + " OR ".join(f'"{" ".join(alt)}"' for alt in group) + ")" for group in groups)


def _begin_write(conn: sqlite3.Connection) -> None:
    """Take the write lock first (``BEGIN IMMEDIATE``), waiting out another process's writes for
    the busy timeout. A transaction that reads first and then writes, after another process (a
    harvest shard) wrote, fails at once with "database is locked"."""
    conn.execute("BEGIN IMMEDIATE")


class SqliteFtsIndex(SearchIndex):
    name = "sqlite-fts5"

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        try:
            conn = self._conn()
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                # made by an older version: drop it; the next harvest or `pdi reindex` refills it
                with conn:
                    for table in ("fts", "facets", "docs"):
                        conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.executescript(SCHEMA)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            raise IndexUnavailable(f"cannot open the embedded index at {self.path}: {exc}") from exc

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    # ---- writing ---------------------------------------------------------------------------

    def upsert(self, documents: Iterable[IndexDocument]) -> IndexReport:
        report = IndexReport()
        conn = self._conn()
        # One transaction per batch (a commit per document costs more than the document); a
        # savepoint per document keeps one bad document from failing the others.
        with self._write_lock, conn:
            _begin_write(conn)
            for doc in documents:
                try:
                    conn.execute("SAVEPOINT doc")
                    self._delete_one(conn, doc.id)
                    self._insert(conn, doc)
                    conn.execute("RELEASE doc")
                    report.indexed += 1
                except (sqlite3.Error, TypeError, ValueError) as exc:
                    conn.execute("ROLLBACK TO doc")
                    conn.execute("RELEASE doc")
                    report.failed[doc.id] = str(exc)
        return report

    def _insert(self, conn: sqlite3.Connection, doc: IndexDocument) -> None:
        mod_key = doc.modified.timestamp() if doc.modified else NO_DATE
        cur = conn.execute(
            "INSERT INTO docs(id, mod_key, content_hash, summary) VALUES (?, ?, ?, ?)",
            (doc.id, mod_key, doc.content_hash, json.dumps(doc.summary, ensure_ascii=False)),
        )
        rowid = cur.lastrowid
        conn.execute(
            "INSERT INTO fts(rowid, title, keywords, jurisdiction, columns, description) VALUES (?, ?, ?, ?, ?, ?)",
            (
                rowid,
                analyzed(doc.title),
                analyzed(" ".join(doc.keywords)),
                analyzed(doc.jurisdiction_text),
                analyzed(" ".join(doc.columns)),
                analyzed(doc.description),
            ),
        )
        conn.executemany(
            "INSERT INTO facets(doc, field, value) VALUES (?, ?, ?)",
            [(rowid, f, v) for f in FACET_FIELDS for v in dict.fromkeys(doc.facets.get(f, []))],
        )

    def rebuild(self, documents: Iterable[IndexDocument]) -> IndexReport:
        """Clear and refill in ONE transaction: readers (WAL) keep seeing the old index until commit."""
        report = IndexReport()
        conn = self._conn()
        with self._write_lock, conn:
            _begin_write(conn)
            conn.execute("DELETE FROM fts")
            conn.execute("DELETE FROM facets")
            conn.execute("DELETE FROM docs")
            for doc in documents:
                try:
                    conn.execute("SAVEPOINT doc")
                    self._insert(conn, doc)
                    conn.execute("RELEASE doc")
                    report.indexed += 1
                except (sqlite3.Error, TypeError, ValueError) as exc:
                    conn.execute("ROLLBACK TO doc")
                    conn.execute("RELEASE doc")
                    report.failed[doc.id] = str(exc)
        return report

    def fingerprints(self) -> Iterator[tuple[str, str]]:
        yield from self._conn().execute("SELECT id, content_hash FROM docs ORDER BY id")

    def _delete_one(self, conn: sqlite3.Connection, doc_id: str) -> bool:
        row = conn.execute("SELECT doc FROM docs WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            return False
        conn.execute("DELETE FROM fts WHERE rowid = ?", (row[0],))
        conn.execute("DELETE FROM facets WHERE doc = ?", (row[0],))
        conn.execute("DELETE FROM docs WHERE doc = ?", (row[0],))
        return True

    def delete(self, ids: Iterable[str]) -> IndexReport:
        report = IndexReport()
        conn = self._conn()
        with self._write_lock, conn:
            _begin_write(conn)
            for doc_id in ids:
                if self._delete_one(conn, doc_id):
                    report.deleted += 1
        return report

    def clear(self) -> None:
        conn = self._conn()
        with self._write_lock, conn:
            _begin_write(conn)
            conn.execute("DELETE FROM fts")
            conn.execute("DELETE FROM facets")
            conn.execute("DELETE FROM docs")

    def count(self) -> int:
        return int(self._conn().execute("SELECT count(*) FROM docs").fetchone()[0])

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # ---- searching -------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchPage:
        expression = fts_expression(query.q) if query.q else None
        # relevance needs words to rank by; without them, newest first
        sort = SortOrder.MODIFIED if query.sort is SortOrder.RELEVANCE and not expression else query.sort
        where: list[str] = []
        params: list[Any] = []
        for fname, values in query.filters.items():
            if fname not in FACET_FIELDS:
                raise ValueError(f"unknown filter {fname!r}")
            if values:
                marks = ",".join("?" * len(values))
                where.append(f"d.doc IN (SELECT doc FROM facets WHERE field = ? AND value IN ({marks}))")
                params += [fname, *values]
        if query.modified_after is not None:
            after = query.modified_after
            if after.tzinfo is None:
                after = after.replace(tzinfo=UTC)
            where.append("d.mod_key >= ?")
            params.append(after.timestamp())
        if expression:
            base = (
                "SELECT d.doc AS doc, d.id AS id, d.mod_key AS mod_key, d.summary AS summary, "
                f"bm25(fts, {', '.join(str(w) for w in WEIGHTS)}) AS score "
                "FROM fts JOIN docs d ON d.doc = fts.rowid WHERE fts MATCH ?"
            )
            base_params: list[Any] = [expression]
        else:
            base = (
                "SELECT d.doc AS doc, d.id AS id, d.mod_key AS mod_key, d.summary AS summary, "
                "NULL AS score FROM docs d WHERE 1 = 1"
            )
            base_params = []
        filtered = base + "".join(f" AND {w}" for w in where)
        all_params = base_params + params
        conn = self._conn()
        try:
            total = int(conn.execute(f"SELECT count(*) FROM ({filtered})", all_params).fetchone()[0])
            page_sql = f"SELECT id, score, summary, mod_key FROM ({filtered}) m"
            page_params = list(all_params)
            if sort is SortOrder.RELEVANCE:
                order = " ORDER BY score ASC, id ASC"
                if query.cursor:
                    s, last = decode_cursor(query.cursor, sort)
                    page_sql += " WHERE (score > ? OR (score = ? AND id > ?))"
                    page_params += [s, s, last]
            elif sort is SortOrder.ID:
                order = " ORDER BY id ASC"
                if query.cursor:
                    _, last = decode_cursor(query.cursor, sort)
                    page_sql += " WHERE id > ?"
                    page_params.append(last)
            else:
                order = " ORDER BY mod_key DESC, id ASC"
                if query.cursor:
                    m, last = decode_cursor(query.cursor, sort)
                    page_sql += " WHERE (mod_key < ? OR (mod_key = ? AND id > ?))"
                    page_params += [m, m, last]
            rows = conn.execute(
                page_sql + order + " LIMIT ? OFFSET ?", [*page_params, query.size + 1, query.offset]
            ).fetchall()
            facets = (
                self._facets(conn, filtered, all_params, query.facet_size)
                if query.facet_size
                else {f: [] for f in FACET_FIELDS}
            )
        except sqlite3.OperationalError as exc:
            raise IndexUnavailable(f"embedded index query failed: {exc}") from exc
        more = len(rows) > query.size
        rows = rows[: query.size]
        hits = [SearchHit(id=r[0], score=(-r[1] if r[1] is not None else None), summary=json.loads(r[2])) for r in rows]
        next_cursor = None
        if more and rows:
            last_row = rows[-1]
            if sort is SortOrder.RELEVANCE:
                key = [last_row[1], last_row[0]]
            elif sort is SortOrder.ID:
                key = [0, last_row[0]]
            else:
                key = [last_row[3], last_row[0]]
            next_cursor = encode_cursor(sort, key)
        return SearchPage(total=total, hits=hits, facets=facets, next_cursor=next_cursor)

    def _facets(
        self, conn: sqlite3.Connection, filtered: str, params: list[Any], size: int
    ) -> dict[str, list[FacetValue]]:
        rows = conn.execute(
            f"SELECT f.field, f.value, count(*) AS n FROM facets f "
            f"WHERE f.doc IN (SELECT doc FROM ({filtered})) GROUP BY f.field, f.value",
            params,
        ).fetchall()
        out: dict[str, list[FacetValue]] = {f: [] for f in FACET_FIELDS}
        for field_name, value, n in rows:
            out[field_name].append(FacetValue(value=value, count=int(n)))
        for field_name in out:
            out[field_name] = sorted(out[field_name], key=lambda fv: (-fv.count, fv.value))[:size]
        return out


def parse_datetime(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
