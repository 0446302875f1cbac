"""The scale-out index: Elasticsearch (8.x), behind the same contract as the embedded index.

The mapping needs only what every Elasticsearch server has built in — the ``standard`` analyzer,
``keyword`` fields, aggregations, aliases, bulk and ``search_after`` — because the integ-test
distribution we test against lacks the analysis-common module. Text arrives already analysed by
:mod:`index.text` (stems separated by spaces) and jargon is expanded by our query parser, so the
results match the embedded index's.

Physical indices are versioned (``<name>-<UTC timestamp>``) behind the alias ``<name>``;
:meth:`ElasticsearchIndex.rebuild` fills a new physical index and swaps the alias atomically.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError, helpers

from index.base import (
    FACET_FIELDS,
    FacetValue,
    IndexDocument,
    IndexOutdated,
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
from index.sqlite_fts import NO_DATE
from index.text import analyzed, parse_query

# Same relative weights as the embedded index's bm25 columns.
# ("places" is the jurisdictions' names and agency as text; "jurisdiction" is the facet keyword)
FIELD_BOOSTS = {"title": 10.0, "keywords": 4.0, "places": 3.0, "columns": 2.0, "description": 1.0}
TEXT_FIELDS = tuple(FIELD_BOOSTS)
MAPPING_VERSION = 4  # 3: the freshness facet; 4: the keyword facet, id order

# from + size may not pass the index's max_result_window (the server's default); deeper offsets
# walk there with search_after
MAX_RESULT_WINDOW = 10_000

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "_meta": {"pdi_mapping_version": MAPPING_VERSION},
    "properties": {
        "id": {"type": "keyword"},
        **{f: {"type": "text", "analyzer": "standard"} for f in TEXT_FIELDS},
        **{f: {"type": "keyword"} for f in FACET_FIELDS},
        "mod_key": {"type": "double"},
        "content_hash": {"type": "keyword", "index": False},
        "summary": {"type": "object", "enabled": False},
    },
}


# Answers that mean "cannot search now", not "your request is wrong".
UNAVAILABLE_TYPES = frozenset(
    {
        "index_closed_exception",
        "no_shard_available_action_exception",
        "search_phase_execution_exception",
        "cluster_block_exception",
        "unavailable_shards_exception",
    }
)


def _is_unavailable(exc: ApiError) -> bool:
    return exc.meta.status >= 500 or exc.meta.status == 429 or exc.message in UNAVAILABLE_TYPES


def _unavailable(exc: Exception) -> IndexUnavailable:
    if isinstance(exc, ApiError):
        return IndexUnavailable(f"Elasticsearch answered {exc.meta.status}: {exc.message}")
    return IndexUnavailable(f"Elasticsearch is unreachable: {type(exc).__name__}: {exc}")


UNAVAILABLE_ERRORS = (TransportConnectionError, ConnectionTimeout, TransportError)

SORTS: dict[SortOrder, list[dict[str, str]]] = {
    SortOrder.RELEVANCE: [{"_score": "desc"}, {"id": "asc"}],
    SortOrder.MODIFIED: [{"mod_key": "desc"}, {"id": "asc"}],
    SortOrder.ID: [{"id": "asc"}],
}


class ElasticsearchIndex(SearchIndex):
    name = "elasticsearch"

    def __init__(
        self,
        url: str,
        alias: str = "pdi-catalog",
        *,
        shards: int = 1,
        replicas: int = 0,
        max_result_window: int = MAX_RESULT_WINDOW,
    ) -> None:
        self.url = url
        self.max_result_window = max_result_window
        self.alias = alias
        self.shards = shards
        self.replicas = replicas
        self.client = Elasticsearch(url, request_timeout=30, retry_on_timeout=False, max_retries=1)
        self._ready = False
        # Harvest workers index from several threads: without this, two of them finding no index
        # both create one and the alias ends up on two indices, with no write index.
        self._ensure_lock = threading.Lock()

    # ---- physical indices and the alias ------------------------------------------------------

    def _template(self) -> None:
        self.client.indices.put_index_template(
            name=f"{self.alias}-template",
            index_patterns=[f"{self.alias}-*"],
            template={
                "settings": {
                    "number_of_shards": self.shards,
                    "number_of_replicas": self.replicas,
                    "max_result_window": self.max_result_window,
                },
                "mappings": MAPPINGS,
            },
        )

    def _new_physical(self) -> str:
        self._template()
        name = f"{self.alias}-{datetime.now(UTC).strftime('%Y%m%d%H%M%S%f')}"
        self.client.indices.create(index=name)
        return name

    def _physical(self) -> list[str]:
        try:
            return sorted(self.client.indices.get_alias(name=self.alias))
        except NotFoundError:
            return []

    def _ensure(self) -> None:
        if self._ready:
            return
        with self._ensure_lock:
            if not self._ready:
                self._ensure_locked()

    def _ensure_locked(self) -> None:
        try:
            physical = self._physical()
            if not physical:
                name = self._new_physical()
                self.client.indices.update_aliases(actions=[{"add": {"index": name, "alias": self.alias}}])
            else:
                mappings = self.client.indices.get_mapping(index=physical[-1])[physical[-1]]["mappings"]
                version = mappings.get("_meta", {}).get("pdi_mapping_version")
                if version != MAPPING_VERSION:
                    raise IndexOutdated(
                        f"index {physical[-1]!r} has mapping version {version}, this version needs "
                        f"{MAPPING_VERSION}: run `pdi reindex`"
                    )
        except UNAVAILABLE_ERRORS as exc:
            raise _unavailable(exc) from exc
        self._ready = True

    # ---- writing ----------------------------------------------------------------------------

    @staticmethod
    def _source(doc: IndexDocument) -> dict[str, Any]:
        return {
            "id": doc.id,
            "title": analyzed(doc.title),
            "keywords": analyzed(" ".join(doc.keywords)),
            "places": analyzed(doc.jurisdiction_text),
            "columns": analyzed(" ".join(doc.columns)),
            "description": analyzed(doc.description),
            **{f: list(dict.fromkeys(doc.facets.get(f, []))) for f in FACET_FIELDS},
            "mod_key": doc.modified.timestamp() if doc.modified else NO_DATE,
            "content_hash": doc.content_hash,
            "summary": doc.summary,
        }

    def _index_actions(self, documents: Iterable[IndexDocument], report: IndexReport) -> Iterator[dict[str, Any]]:
        for d in documents:
            try:
                source = self._source(d)
            except (TypeError, ValueError) as exc:  # a document we cannot even build
                report.failed[d.id] = f"{type(exc).__name__}: {exc}"
                continue
            yield {"_op_type": "index", "_id": d.id, "_source": source}

    def _bulk(self, index: str, actions: Iterable[dict[str, Any]], report: IndexReport) -> None:
        for ok, item in helpers.streaming_bulk(
            self.client,
            actions,
            index=index,
            chunk_size=500,
            raise_on_error=False,
            raise_on_exception=False,
            max_retries=2,
        ):
            op, result = next(iter(item.items()))
            if ok:
                if op == "delete":
                    report.deleted += 1 if result.get("result") == "deleted" else 0
                else:
                    report.indexed += 1
            elif op == "delete" and result.get("status") == 404:
                continue
            else:
                error = result.get("error")
                status = result.get("status")
                if status in (None, 429, 502, 503, 504) or not isinstance(error, dict):
                    # a transport failure, not a rejected document
                    raise IndexUnavailable(f"Elasticsearch bulk request failed: {error or status}")
                report.failed[str(result.get("_id"))] = json.dumps(error)[:500]

    def upsert(self, documents: Iterable[IndexDocument]) -> IndexReport:
        self._ensure()
        report = IndexReport()
        try:
            self._bulk(self.alias, self._index_actions(documents, report), report)
            self.client.indices.refresh(index=self.alias)
        except UNAVAILABLE_ERRORS as exc:
            raise _unavailable(exc) from exc
        return report

    def delete(self, ids: Iterable[str]) -> IndexReport:
        self._ensure()
        report = IndexReport()
        try:
            self._bulk(self.alias, ({"_op_type": "delete", "_id": i} for i in ids), report)
            self.client.indices.refresh(index=self.alias)
        except UNAVAILABLE_ERRORS as exc:
            raise _unavailable(exc) from exc
        return report

    def rebuild(self, documents: Iterable[IndexDocument]) -> IndexReport:
        """Fill a new physical index, then move the alias to it in one atomic action and drop the
        old ones: searches never see a partial index."""
        report = IndexReport()
        try:
            self._template()
            old = self._physical()
            name = self._new_physical()
            self.client.indices.put_settings(index=name, settings={"index": {"refresh_interval": "-1"}})
            try:
                self._bulk(
                    name, ({"_op_type": "index", "_id": d.id, "_source": self._source(d)} for d in documents), report
                )
            except Exception:
                self.client.indices.delete(index=name, ignore_unavailable=True)
                raise
            self.client.indices.put_settings(index=name, settings={"index": {"refresh_interval": "1s"}})
            self.client.indices.refresh(index=name)
            actions: list[dict[str, Any]] = [{"add": {"index": name, "alias": self.alias}}]
            actions += [{"remove": {"index": o, "alias": self.alias}} for o in old]
            self.client.indices.update_aliases(actions=actions)
            for o in old:
                self.client.indices.delete(index=o, ignore_unavailable=True)
        except UNAVAILABLE_ERRORS as exc:
            raise _unavailable(exc) from exc
        self._ready = True
        return report

    def clear(self) -> None:
        # delete-by-query lives in the reindex module, absent from minimal servers: swap instead
        self.rebuild([])

    def count(self) -> int:
        self._ensure()
        try:
            return int(self.client.count(index=self.alias)["count"])
        except UNAVAILABLE_ERRORS as exc:
            raise _unavailable(exc) from exc

    def fingerprints(self) -> Iterator[tuple[str, str]]:
        self._ensure()
        after: list[Any] | None = None
        while True:
            try:
                body = self.client.search(
                    index=self.alias,
                    size=2000,
                    sort=[{"id": "asc"}],
                    source_includes=["id", "content_hash"],
                    search_after=after,
                    track_total_hits=False,
                )
            except UNAVAILABLE_ERRORS as exc:
                raise _unavailable(exc) from exc
            hits = body["hits"]["hits"]
            if not hits:
                return
            for h in hits:
                yield h["_source"]["id"], h["_source"].get("content_hash", "")
            after = hits[-1]["sort"]

    def health(self) -> dict[str, Any]:
        try:
            health: dict[str, Any] = dict(self.client.cluster.health(index=self.alias))
        except NotFoundError:
            health = {"status": "missing"}
        except UNAVAILABLE_ERRORS as exc:
            raise _unavailable(exc) from exc
        if health.get("status") == "red":
            raise IndexUnavailable(f"Elasticsearch index {self.alias!r} is red")
        return {"backend": self.name, "url": self.url, "status": health.get("status"), "documents": self.count()}

    def close(self) -> None:
        self.client.close()

    # ---- searching --------------------------------------------------------------------------

    def query_body(self, query: SearchQuery) -> tuple[dict[str, Any], SortOrder]:
        """The Elasticsearch request for ``query`` (also used by the benchmark to time the raw engine)."""
        groups = parse_query(query.q) if query.q else []
        sort = SortOrder.MODIFIED if query.sort is SortOrder.RELEVANCE and not groups else query.sort
        must: list[dict[str, Any]] = []
        for group in groups:
            should = [
                {
                    "multi_match": {
                        "query": " ".join(alt),
                        "type": "phrase",
                        "tie_breaker": 1.0,  # sum the fields, as the embedded bm25 does
                        "fields": [f"{f}^{b}" for f, b in FIELD_BOOSTS.items()],
                    }
                }
                for alt in group
            ]
            must.append({"bool": {"should": should, "minimum_should_match": 1}})
        filters: list[dict[str, Any]] = []
        for fname, values in query.filters.items():
            if fname not in FACET_FIELDS:
                raise ValueError(f"unknown filter {fname!r}")
            if values:
                filters.append({"terms": {fname: values}})
        if query.modified_after is not None:
            after = query.modified_after if query.modified_after.tzinfo else query.modified_after.replace(tzinfo=UTC)
            filters.append({"range": {"mod_key": {"gte": after.timestamp()}}})
        body: dict[str, Any] = {
            "query": {"bool": {"must": must or [{"match_all": {}}], "filter": filters}},
            "size": query.size + 1,
            "track_total_hits": True,
            "_source": ["summary", "mod_key"],
            "sort": SORTS[sort],
        }
        if query.facet_size:
            body["aggs"] = {
                f: {"terms": {"field": f, "size": query.facet_size, "order": [{"_count": "desc"}, {"_key": "asc"}]}}
                for f in FACET_FIELDS
            }
        if query.cursor:
            key = decode_cursor(query.cursor, sort)
            body["search_after"] = key[1:] if sort is SortOrder.ID else key
        elif query.offset:
            body["from"] = query.offset
        return body, sort

    def _sort_key_at(self, body: dict[str, Any], position: int) -> list[Any] | None:
        """The sort values of the hit at ``position`` (0-based), walked to with search_after in
        windows the server allows; None when there are fewer hits."""
        walk = {k: v for k, v in body.items() if k in ("query", "sort")}
        after: list[Any] | None = None
        remaining = position + 1
        while remaining > 0:
            size = min(remaining, self.max_result_window)
            result = self.client.search(
                index=self.alias, **walk, size=size, source=False, track_total_hits=False, search_after=after
            )
            hits = result["hits"]["hits"]
            if len(hits) < size:
                return None
            after = hits[-1]["sort"]
            remaining -= size
        return after

    def search(self, query: SearchQuery) -> SearchPage:
        self._ensure()
        body, sort = self.query_body(query)
        try:
            if "from" in body and body["from"] + body["size"] > self.max_result_window:
                del body["from"]
                after = self._sort_key_at(body, query.offset - 1)
                if after is None:  # past the end: ask for nothing after the last hit
                    body["size"] = 0
                else:
                    body["search_after"] = after
            result = self.client.search(index=self.alias, **body)
        except UNAVAILABLE_ERRORS as exc:
            raise _unavailable(exc) from exc
        except ApiError as exc:
            if _is_unavailable(exc):
                raise _unavailable(exc) from exc
            raise
        if result.get("_shards", {}).get("failed"):
            raise IndexUnavailable("Elasticsearch could not search every shard (is the cluster red?)")
        hits = result["hits"]["hits"]
        more = len(hits) > query.size
        hits = hits[: query.size]
        next_cursor = None
        if more and hits:
            last = hits[-1]["sort"]
            next_cursor = encode_cursor(sort, [0, *last] if sort is SortOrder.ID else last)
        aggs = result.get("aggregations", {})
        facets = {
            f: [FacetValue(value=str(b["key"]), count=int(b["doc_count"])) for b in aggs[f]["buckets"]] if aggs else []
            for f in FACET_FIELDS
        }
        return SearchPage(
            total=int(result["hits"]["total"]["value"]),
            hits=[
                SearchHit(
                    id=h["_id"],
                    score=h["_score"] if sort is SortOrder.RELEVANCE else None,
                    summary=h["_source"]["summary"],
                )
                for h in hits
            ],
            facets=facets,
            next_cursor=next_cursor,
        )


def wait_until_ready(url: str, timeout_s: float = 60.0) -> None:
    client = Elasticsearch(url, request_timeout=5)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            client.cluster.health(wait_for_status="yellow", timeout="5s")
            return
        except UNAVAILABLE_ERRORS:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
