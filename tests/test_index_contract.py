"""The index contract: every backend passes the same tests (see the `any_index` fixture)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from catalog.vocabulary import FreshnessStatus
from index.base import InvalidCursor, SearchQuery, SortOrder
from index.documents import JurisdictionInfo, to_document
from tests.factories import make_record

JURISDICTIONS = {
    "seattle-wa": JurisdictionInfo("seattle-wa", "Seattle", "WA", "Seattle Police Department"),
    "austin-tx": JurisdictionInfo("austin-tx", "Austin", "TX", "Austin Police Department"),
    "dallas-tx": JurisdictionInfo("dallas-tx", "Dallas", "TX", "Dallas Police Department"),
}
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _corpus():
    specs = [
        ("s1", "Use of Force Incidents", "seattle-wa", 1, ["CSV"]),
        ("s2", "Officer Involved Shootings", "seattle-wa", 2, ["CSV", "JSON"]),
        ("s3", "Terry Stops", "seattle-wa", 3, ["CSV"]),
        ("a1", "Response to Resistance 2019", "austin-tx", 4, ["CSV"]),
        ("a2", "Use of Force 2020", "austin-tx", 5, ["XLSX"]),
        ("a3", "Police Calls for Service", "austin-tx", 6, ["CSV"]),
        ("d1", "Dallas Police Use of Force", "dallas-tx", 7, ["CSV"]),
        ("d2", "Arrests", "dallas-tx", 8, ["JSON"]),
    ]
    records = []
    for rid, title, jur, days, formats in specs:
        src = {
            "seattle-wa": "socrata:data.seattle.gov",
            "austin-tx": "socrata:data.austintexas.gov",
            "dallas-tx": "socrata:www.dallasopendata.com",
        }[jur]
        records.append(
            make_record(rid, title, jurisdiction=jur, source=src, modified=T0 + timedelta(days=days), formats=formats)
        )
    return records


@pytest.fixture
def index(any_index):
    idx = any_index
    records = _corpus()
    report = idx.upsert(to_document(r, JURISDICTIONS) for r in records)
    assert report.indexed == len(records) and not report.failed
    idx.records = {r.pdi.source.remote_id: r for r in records}
    return idx


def _ids(page, index):
    by_id = {r.id: k for k, r in index.records.items()}
    return [by_id[h.id] for h in page.hits]


def test_text_search_ranks_title_matches(index):
    page = index.search(SearchQuery(q="use of force"))
    assert set(_ids(page, index)) >= {"s1", "a2", "d1"}
    assert page.total == len(page.hits)
    assert "s2" not in _ids(page, index)


def test_stemming_and_case(index):
    assert "s2" in _ids(index.search(SearchQuery(q="SHOOTING")), index)


def test_operator_syntax_in_queries_is_plain_text(index):
    for q in ['"unbalanced', "force AND OR NOT", "NEAR(force", "force*", "-force", "a:b", "()"]:
        index.search(SearchQuery(q=q))  # must not raise


def test_filters_and_their_facet_counts(index):
    page = index.search(SearchQuery(filters={"state": ["TX"]}, size=100))
    assert set(_ids(page, index)) == {"a1", "a2", "a3", "d1", "d2"}
    counts = {f.value: f.count for f in page.facets["jurisdiction"]}
    assert counts == {"austin-tx": 3, "dallas-tx": 2}
    page = index.search(SearchQuery(q="force", filters={"jurisdiction": ["austin-tx", "dallas-tx"]}))
    assert set(_ids(page, index)) == {"a2", "d1"}
    page = index.search(SearchQuery(filters={"category": ["use_of_force"]}, size=100))
    assert set(_ids(page, index)) == {"s1", "a1", "a2", "d1"}
    page = index.search(SearchQuery(filters={"format": ["JSON"]}, size=100))
    assert set(_ids(page, index)) == {"s2", "d2"}
    page = index.search(SearchQuery(modified_after=T0 + timedelta(days=7), size=100))
    assert set(_ids(page, index)) == {"d1", "d2"}


def test_facet_counts_match_filtered_totals(index):
    page = index.search(SearchQuery(size=1))
    for facet in ("category", "jurisdiction", "state", "format", "freshness"):
        for fv in page.facets[facet]:
            assert index.search(SearchQuery(filters={facet: [fv.value]})).total == fv.count


def test_freshness_facet_filter_and_fingerprint(index):
    statuses = {"s1": "delinquent", "a1": "overdue", "d1": "delinquent"}
    docs = [
        to_document(index.records[k], JURISDICTIONS, FreshnessStatus(v))  # as the index sync computes them
        for k, v in statuses.items()
    ]
    assert index.upsert(docs).indexed == 3
    page = index.search(SearchQuery(size=100))
    counts = {f.value: f.count for f in page.facets["freshness"]}
    assert counts == {"unknown": 5, "delinquent": 2, "overdue": 1}
    page = index.search(SearchQuery(filters={"freshness": ["delinquent", "overdue"]}, size=100))
    assert set(_ids(page, index)) == {"s1", "a1", "d1"}
    assert {h.summary["freshness"] for h in page.hits} == {"delinquent", "overdue"}
    page = index.search(SearchQuery(q="force", filters={"freshness": ["delinquent"], "state": ["TX"]}))
    assert _ids(page, index) == ["d1"]
    # the status is part of what the index is checked against: a moved status is a stale document
    prints = dict(index.fingerprints())
    s1 = index.records["s1"]
    assert prints[s1.id] == to_document(s1, JURISDICTIONS, FreshnessStatus.DELINQUENT).content_hash
    assert prints[s1.id] != to_document(s1, JURISDICTIONS, FreshnessStatus.FRESH).content_hash


def test_sort_by_modified_newest_first(index):
    page = index.search(SearchQuery(sort=SortOrder.MODIFIED, size=100))
    assert _ids(page, index) == ["d2", "d1", "a3", "a2", "a1", "s3", "s2", "s1"]


@pytest.mark.parametrize("sort", [SortOrder.MODIFIED, SortOrder.RELEVANCE])
def test_cursor_paging_visits_each_once(index, sort):
    q = "police" if sort is SortOrder.RELEVANCE else None
    total = index.search(SearchQuery(q=q)).total
    seen, cursor = [], None
    while True:
        page = index.search(SearchQuery(q=q, sort=sort, size=3, cursor=cursor))
        seen += [h.id for h in page.hits]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == total == len(set(seen))


def test_paging_is_stable_while_documents_are_added(index):
    first = index.search(SearchQuery(sort=SortOrder.MODIFIED, size=4))
    newer = make_record(
        "n1",
        "New Arrests",
        jurisdiction="dallas-tx",
        source="socrata:www.dallasopendata.com",
        modified=T0 + timedelta(days=30),
    )
    index.upsert([to_document(newer, JURISDICTIONS)])
    second = index.search(SearchQuery(sort=SortOrder.MODIFIED, size=100, cursor=first.next_cursor))
    ids = [h.id for h in first.hits] + [h.id for h in second.hits]
    assert len(ids) == len(set(ids)) == 8


def test_upsert_replaces_and_delete_removes(index):
    rec = index.records["s1"]
    changed = rec.model_copy(update={"title": "Use of Force Incidents (revised)"})
    index.upsert([to_document(changed, JURISDICTIONS)])
    assert index.count() == 8
    assert index.search(SearchQuery(q="revised")).total == 1
    report = index.delete([rec.id, "no-such-id"])
    assert report.deleted == 1
    assert index.count() == 7
    assert index.search(SearchQuery(q="revised")).total == 0


def test_bad_cursor_is_rejected(index):
    with pytest.raises(InvalidCursor):
        index.search(SearchQuery(cursor="not-a-cursor"))
    page = index.search(SearchQuery(sort=SortOrder.MODIFIED, size=2))
    with pytest.raises(InvalidCursor):
        index.search(SearchQuery(q="force", sort=SortOrder.RELEVANCE, cursor=page.next_cursor))


def test_clear(index):
    index.clear()
    assert index.count() == 0
    assert index.search(SearchQuery(q="force")).total == 0


def test_jargon_synonyms_expand_both_ways(index):
    assert "s2" in _ids(index.search(SearchQuery(q="OIS")), index)
    assert set(_ids(index.search(SearchQuery(q="UOF", size=100)), index)) == {"s1", "a1", "a2", "d1"}
    # "response to resistance" and "use of force" are one concept
    assert set(_ids(index.search(SearchQuery(q="use of force", size=100)), index)) == {"s1", "a1", "a2", "d1"}
    assert "a3" in _ids(index.search(SearchQuery(q="CFS")), index)
    assert "s3" in _ids(index.search(SearchQuery(q="stop and frisk")), index)


def test_column_names_and_jurisdiction_names_are_searchable(index):
    rec = make_record(
        "c1",
        "Incident Table",
        jurisdiction="austin-tx",
        source="socrata:data.austintexas.gov",
        columns=["subject_resistance"],
    )
    index.upsert([to_document(rec, JURISDICTIONS)])
    hits = index.search(SearchQuery(q="subject resistance")).hits
    assert [h.id for h in hits] == [rec.id]
    assert {h.id for h in index.search(SearchQuery(q="Austin", size=100)).hits} >= {index.records["a1"].id}


def test_fingerprints_and_rebuild(index):
    prints = dict(index.fingerprints())
    assert set(prints) == {r.id for r in index.records.values()}
    assert all(prints[r.id] == to_document(r, JURISDICTIONS).content_hash for r in index.records.values())
    keep = [index.records["s1"], index.records["d2"]]
    report = index.rebuild(to_document(r, JURISDICTIONS) for r in keep)
    assert report.indexed == 2 and index.count() == 2
    assert index.search(SearchQuery(q="arrests")).hits[0].id == index.records["d2"].id


def test_a_rejected_document_is_reported_and_the_batch_goes_on(index):
    good = make_record("g1", "Good Arrests", jurisdiction="dallas-tx", source="socrata:www.dallasopendata.com")
    doc = to_document(good, JURISDICTIONS)
    bad = replace(to_document(make_record("b1", "Bad Arrests"), JURISDICTIONS), facets={"state": [{"nested": "x"}]})
    report = index.upsert([bad, doc])
    assert list(report.failed) == [bad.id]
    assert report.indexed == 1
    assert [h.id for h in index.search(SearchQuery(q="good arrests")).hits] == [good.id]


def test_sort_by_id_and_its_cursor(index):
    expected = sorted(r.id for r in index.records.values())
    assert [h.id for h in index.search(SearchQuery(sort=SortOrder.ID, size=100)).hits] == expected
    # with words too: id order, not relevance
    page = index.search(SearchQuery(q="force", sort=SortOrder.ID, size=100))
    by_relevance = index.search(SearchQuery(q="force", size=100))
    assert [h.id for h in page.hits] == sorted(h.id for h in by_relevance.hits)
    assert page.total == by_relevance.total >= 3
    seen, cursor = [], None
    while True:
        page = index.search(SearchQuery(sort=SortOrder.ID, size=3, cursor=cursor))
        seen += [h.id for h in page.hits]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == expected


@pytest.mark.parametrize("sort", [SortOrder.MODIFIED, SortOrder.ID, SortOrder.RELEVANCE])
def test_offset_paging_matches_one_big_page(index, sort):
    q = "police" if sort is SortOrder.RELEVANCE else None
    whole = [h.id for h in index.search(SearchQuery(q=q, sort=sort, size=100)).hits]
    pages = [index.search(SearchQuery(q=q, sort=sort, size=3, offset=o)) for o in range(0, len(whole) + 3, 3)]
    assert [h.id for p in pages for h in p.hits] == whole
    assert all(p.total == len(whole) for p in pages)
    assert pages[-1].hits == []
    # an offset page's cursor continues where it stops
    page = index.search(SearchQuery(q=q, sort=sort, size=2, offset=1))
    rest = index.search(SearchQuery(q=q, sort=sort, size=100, cursor=page.next_cursor))
    assert [h.id for h in page.hits + rest.hits] == whole[1:]


def test_offset_and_cursor_are_not_combined():
    with pytest.raises(ValueError):
        SearchQuery(offset=2, cursor="abc")
    with pytest.raises(ValueError):
        SearchQuery(size=-1)


def test_no_facets_when_facet_size_is_zero(index):
    page = index.search(SearchQuery(q="force", facet_size=0, size=2))
    assert page.total == index.search(SearchQuery(q="force")).total >= 3 and len(page.hits) == 2
    assert all(values == [] for values in page.facets.values())


def test_keywords_are_a_facet_and_a_filter(index):
    tagged = make_record(
        "k1",
        "Arrests by Beat",
        jurisdiction="dallas-tx",
        source="socrata:www.dallasopendata.com",
        keywords=["Public Safety", "  public   safety ", "arrests"],
    )
    index.upsert([to_document(tagged, JURISDICTIONS)])
    page = index.search(SearchQuery(filters={"keyword": ["Public Safety"]}))
    assert [h.id for h in page.hits] == [tagged.id]
    counts = {f.value: f.count for f in index.search(SearchQuery(size=1)).facets["keyword"]}
    assert counts == {"police": 8, "Public Safety": 1, "public safety": 1, "arrests": 1}
