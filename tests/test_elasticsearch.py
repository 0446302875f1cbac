"""What only the Elasticsearch backend has: aliases, versioned indices, cluster health."""

from __future__ import annotations

import threading
import uuid

import pytest

from index.base import IndexOutdated, IndexUnavailable, SearchQuery, SortOrder
from index.documents import to_document
from index.elasticsearch import ElasticsearchIndex
from tests.conftest import elasticsearch_url
from tests.test_index_contract import JURISDICTIONS, _corpus


@pytest.fixture
def es():
    idx = ElasticsearchIndex(elasticsearch_url(), alias=f"pdi-es-{uuid.uuid4().hex[:10]}")
    yield idx
    idx.client.indices.delete(index=f"{idx.alias}-*", ignore_unavailable=True, allow_no_indices=True)
    idx.client.options(ignore_status=404).indices.delete_index_template(name=f"{idx.alias}-template")
    idx.close()


def test_rebuild_swaps_the_alias_without_downtime(es):
    docs = [to_document(r, JURISDICTIONS) for r in _corpus()]
    es.upsert(docs)
    first = es._physical()
    seen_totals: list[int] = []
    stop = threading.Event()

    def search_loop() -> None:
        while not stop.is_set():
            seen_totals.append(es.search(SearchQuery(q="force")).total)

    thread = threading.Thread(target=search_loop)
    thread.start()
    try:
        report = es.rebuild(docs * 1)
    finally:
        stop.set()
        thread.join()
    assert report.indexed == len(docs) and not report.failed
    assert seen_totals and set(seen_totals) == {es.search(SearchQuery(q="force")).total}
    assert es._physical() != first and len(es._physical()) == 1
    assert not es.client.indices.exists(index=first[0])


def test_an_index_of_an_older_mapping_asks_for_a_reindex(es):
    name = f"{es.alias}-old"
    es.client.indices.create(index=name, mappings={"_meta": {"pdi_mapping_version": 0}, "properties": {}})
    es.client.indices.update_aliases(actions=[{"add": {"index": name, "alias": es.alias}}])
    with pytest.raises(IndexOutdated, match="pdi reindex"):
        es.search(SearchQuery())
    es.rebuild(to_document(r, JURISDICTIONS) for r in _corpus())
    assert es.search(SearchQuery()).total == len(_corpus())


def test_a_red_index_is_unavailable(es):
    es.upsert([to_document(r, JURISDICTIONS) for r in _corpus()])
    physical = es._physical()[0]
    es.client.indices.close(index=physical)  # a closed index cannot be searched: like a red one
    try:
        with pytest.raises(IndexUnavailable):
            es.search(SearchQuery(q="force"))
    finally:
        es.client.indices.open(index=physical)
    red = f"{es.alias}-red"
    es.client.indices.create(
        index=red,
        settings={"number_of_replicas": 0, "index.routing.allocation.require._name": "no-such-node"},
        mappings={"_meta": {"pdi_mapping_version": 2}},
        wait_for_active_shards="0",
    )
    es.client.indices.update_aliases(
        actions=[{"remove": {"index": physical, "alias": es.alias}}, {"add": {"index": red, "alias": es.alias}}]
    )
    with pytest.raises(IndexUnavailable, match="red"):
        es.health()


def test_a_document_elasticsearch_rejects_is_reported_per_record(es):
    from dataclasses import replace

    docs = [to_document(r, JURISDICTIONS) for r in _corpus()]
    immense = replace(docs[0], facets={**docs[0].facets, "format": ["X" * 40_000]})  # over the keyword term limit
    report = es.upsert([immense, *docs[1:]])
    assert list(report.failed) == [immense.id]
    assert "document_parsing_exception" in report.failed[immense.id]
    assert report.indexed == len(docs) - 1 == es.count()


@pytest.mark.parametrize("sort", [SortOrder.MODIFIED, SortOrder.ID, SortOrder.RELEVANCE])
def test_offsets_past_the_result_window_walk_there_with_search_after(sort):
    # a window of 3 hits stands in for the server's 10,000
    idx = ElasticsearchIndex(elasticsearch_url(), alias=f"pdi-es-{uuid.uuid4().hex[:10]}", max_result_window=3)
    try:
        idx.upsert(to_document(r, JURISDICTIONS) for r in _corpus())
        q = "police" if sort is SortOrder.RELEVANCE else None
        whole = []
        cursor = None
        while True:  # cursor pages stay inside the window
            page = idx.search(SearchQuery(q=q, sort=sort, size=2, cursor=cursor))
            whole += [h.id for h in page.hits]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert len(whole) >= 5
        for offset in range(len(whole) + 2):
            page = idx.search(SearchQuery(q=q, sort=sort, size=2, offset=offset))
            assert [h.id for h in page.hits] == whole[offset : offset + 2], offset
            assert page.total == len(whole)
    finally:
        idx.client.indices.delete(index=f"{idx.alias}-*", ignore_unavailable=True, allow_no_indices=True)
        idx.client.options(ignore_status=404).indices.delete_index_template(name=f"{idx.alias}-template")
        idx.close()


def test_threads_writing_to_a_new_index_create_one_physical_index(es):
    """Harvest workers index from several threads at once; the first writes must not each create
    an index (an alias on two indices has no write index and refuses every document)."""
    docs = [to_document(r, JURISDICTIONS) for r in _corpus()]
    start = threading.Barrier(4)
    reports = []

    def write(part: int) -> None:
        start.wait()
        reports.append(es.upsert(docs[part::4]))

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(es._physical()) == 1
    assert sum(r.indexed for r in reports) == len(docs) and not any(r.failed for r in reports)
    assert es.count() == len(docs)
