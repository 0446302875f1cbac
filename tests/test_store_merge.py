"""Duplicates in the store (store/merge.py): one dataset seen through several sources is one
dataset listing every source, withdrawn only when every source has dropped it. Runs against SQLite
and a real PostgreSQL server, like tests/test_store.py (PDI_TEST_DATABASE_URL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, text

from catalog.record import CatalogRecord
from catalog.vocabulary import PortalPlatform, RecordStatus
from store import Store
from store import schema as t
from store.store import ChangeKind
from tests.factories import make_record
from tests.test_store import BACKENDS, T0, _put, backend_url

API = "socrata:data.seattle.gov"
FEED = "dcat_us:data.seattle.gov/data.json"
COUNTY = "socrata:data.kingcounty.gov"


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with backend_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store(store_url)
    s.create_schema()
    yield s
    s.close()


def socrata(fourby: str, *, source: str = API, title: str = "Use of Force", jurisdiction: str = "seattle-wa",
            site: str = "data.seattle.gov") -> CatalogRecord:  # fmt: skip
    """A record of Socrata dataset ``fourby`` of ``site`` as ``source`` gives it: the Socrata API
    (a bare 4x4 identifier) or a data.json (the /api/views URL as identifier)."""
    remote = fourby if source.startswith("socrata:") else f"https://{site}/api/views/{fourby}"
    record = make_record(remote, title, source=source, jurisdiction=jurisdiction, platform=PortalPlatform.SOCRATA)
    return record.model_copy(
        update={"identifier": remote, "landingPage": f"https://{site}/d/{fourby}", "distribution": []}
    )


def test_one_dataset_through_two_sources_is_one_dataset_listing_both(store):
    feed, api = socrata("abcd-0001", source=FEED), socrata("abcd-0001")
    assert _put(store, feed, now=T0) is ChangeKind.NEW
    assert _put(store, api, now=T0 + timedelta(hours=1)) is ChangeKind.NEW
    # the portal's API record is canonical though the data.json one was seen first
    for asked in (api.id, feed.id):
        stored = store.get(asked)
        assert stored.record.id == api.id
        assert stored.status is RecordStatus.ACTIVE
        assert [s.source_id for s in stored.record.pdi.sources] == [API, FEED]
        assert stored.record.pdi.source.source_id == API
        assert stored.aliases == [feed.id]
        assert stored.first_seen == T0
    assert [i for i, _ in store.fingerprints()] == [api.id]
    assert [s.record.id for s in store.iter_datasets(status=RecordStatus.ACTIVE)] == [api.id]
    assert store.count() == 2  # each source keeps its own record
    assert store.dataset_counts() == {
        "datasets_active": 1,
        "datasets_withdrawn": 0,
        "datasets_merged": 1,
        "records_merged": 1,
    }
    # the index must hold the dataset under its canonical id and not the alias
    to_index, gone = store.index_view([feed.id])
    assert [r.id for r in to_index] == [api.id] and gone == [feed.id]
    # what the index is checked against is the composed record's hash
    assert dict(store.fingerprints())[api.id] == store.get(api.id).record.content_hash()
    # each member's own record is still there as stored
    assert store.get(feed.id, merged=False).record.pdi.source.source_id == FEED
    # a history of the dataset holds both sources' changes
    history = store.dataset_history(store.get(api.id))
    assert {(h["source_id"], h["change"]) for h in history} == {(API, "new"), (FEED, "new")}


def test_unchanged_duplicates_cost_no_write(store):
    feed, api = socrata("abcd-0001", source=FEED), socrata("abcd-0001")
    _put(store, feed)
    _put(store, api)
    statements: list[str] = []

    def spy(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", spy)
    try:
        assert _put(store, feed) is ChangeKind.UNCHANGED
        assert _put(store, api) is ChangeKind.UNCHANGED
    finally:
        event.remove(store.engine, "before_cursor_execute", spy)
    assert statements and all(s.lstrip().upper().startswith("SELECT") for s in statements), statements


def test_a_city_and_a_county_portal_unite_their_jurisdictions(store):
    city = socrata("abcd-0001", jurisdiction="seattle-wa")
    county = socrata("abcd-0001", source=COUNTY, jurisdiction="king-county-wa")
    _put(store, city, now=T0)
    _put(store, county, now=T0 + timedelta(days=1))
    stored = store.get(county.id)
    # same platform rank: the one seen first is canonical
    assert stored.record.id == city.id
    assert stored.record.pdi.jurisdictions == ["seattle-wa", "king-county-wa"]
    assert stored.record.pdi.jurisdiction == "seattle-wa"


def test_one_source_dropping_it_leaves_it_active_with_one_source_fewer(store):
    feed, api = socrata("abcd-0001", source=FEED), socrata("abcd-0001")
    _put(store, feed)
    _put(store, api)
    # the data.json stops listing it: withdrawn there after two complete harvests, not before
    assert store.settle_source(FEED, set(), run_id=None, withdraw_after=2) == []
    assert len(store.get(api.id).record.pdi.sources) == 2
    assert store.settle_source(FEED, set(), run_id=None, withdraw_after=2) == [feed.id]
    stored = store.get(feed.id)
    assert stored.record.id == api.id and stored.status is RecordStatus.ACTIVE
    assert [s.source_id for s in stored.record.pdi.sources] == [API]
    assert {m.id: m.status for m in stored.members} == {api.id: RecordStatus.ACTIVE, feed.id: RecordStatus.WITHDRAWN}
    assert [i for i, _ in store.fingerprints()] == [api.id]
    assert dict(store.fingerprints())[api.id] == stored.record.content_hash()
    # the other source dropping it too withdraws the dataset
    store.settle_source(API, set(), run_id=None, withdraw_after=2)
    assert store.get(api.id).status is RecordStatus.ACTIVE
    assert store.settle_source(API, set(), run_id=None, withdraw_after=2) == [api.id]
    gone = store.get(feed.id)
    assert gone.status is RecordStatus.WITHDRAWN and gone.record.pdi.status is RecordStatus.WITHDRAWN
    assert gone.record.id == api.id
    assert [s.source_id for s in gone.record.pdi.sources] == [API, FEED]  # withdrawn: every source it had
    assert list(store.fingerprints()) == []
    assert store.index_view([api.id, feed.id]) == ([], [api.id, feed.id])
    assert store.dataset_counts()["datasets_withdrawn"] == 1
    # seen again at one source: restored, listing that source
    assert _put(store, feed) is ChangeKind.RESTORED
    back = store.get(api.id)
    assert back.status is RecordStatus.ACTIVE and back.record.id == feed.id
    assert [s.source_id for s in back.record.pdi.sources] == [FEED]


def test_the_primary_source_dropping_it_hands_the_dataset_to_the_other(store):
    feed, api = socrata("abcd-0001", source=FEED), socrata("abcd-0001")
    _put(store, feed)
    _put(store, api)
    assert store.settle_source(API, set(), run_id=None, withdraw_after=1) == [api.id]
    stored = store.get(api.id)
    assert stored.status is RecordStatus.ACTIVE
    assert stored.record.id == feed.id and stored.record.pdi.source.source_id == FEED
    assert [i for i, _ in store.fingerprints()] == [feed.id]
    to_index, gone = store.index_view([api.id])
    assert [r.id for r in to_index] == [feed.id] and gone == [api.id]
    # back at the API: the API record is primary again
    assert _put(store, api) is ChangeKind.RESTORED
    assert store.get(feed.id).record.id == api.id


def test_other_records_of_a_source_are_never_merged_by_a_shared_key(store):
    """A key that one source gives to two of its records (e.g. one landing page for several
    datasets) names no single dataset: none of the records sharing it merge."""
    page = "https://city.example.gov/police/open-data"

    def on_page(remote: str, source: str) -> CatalogRecord:
        record = make_record(remote, f"Report {remote}", source=source)
        return record.model_copy(update={"identifier": remote, "landingPage": page})

    other = on_page("x", "html:other.example.gov")
    _put(store, other)
    first = on_page("a", "ckan:city.example.gov")
    _put(store, first)
    # two sources, one record each: merged (the CKAN API record is canonical over the web page link)
    assert store.get(other.id).record.id == first.id and store.get(first.id).aliases == [other.id]
    second = on_page("b", "ckan:city.example.gov")
    _put(store, second)
    for record in (other, first, second):
        stored = store.get(record.id)
        assert stored.record.id == record.id and stored.aliases == []
    assert sorted(i for i, _ in store.fingerprints()) == sorted([other.id, first.id, second.id])
    assert store.dataset_counts()["records_merged"] == 0
    for record_id_, digest in store.fingerprints():
        assert store.get(record_id_).record.content_hash() == digest


def test_a_record_whose_identity_changes_leaves_its_dataset(store):
    feed, api = socrata("abcd-0001", source=FEED), socrata("abcd-0001")
    _put(store, feed)
    _put(store, api)
    moved = feed.model_copy(
        update={
            "landingPage": "https://data.seattle.gov/d/wxyz-9999",
            "identifier": "https://data.seattle.gov/api/views/wxyz-9999",
        }
    )
    assert _put(store, moved) is ChangeKind.CHANGED
    assert store.get(api.id).aliases == []
    assert store.get(feed.id).record.id == feed.id
    assert sorted(i for i, _ in store.fingerprints()) == sorted([api.id, feed.id])


def test_records_without_a_key_stand_alone(store):
    record = make_record("x", "Arrests").model_copy(update={"identifier": "local-1", "distribution": []})
    _put(store, record)
    stored = store.get(record.id)
    assert stored.aliases == [] and [s.source_id for s in stored.record.pdi.sources] == [API]
    assert dict(store.fingerprints()) == {record.id: stored.record.content_hash()}


def test_a_database_made_before_duplicates_were_merged_is_migrated(store_url):
    """An older database has no dataset columns: opening it adds them and groups what it holds."""
    feed, api, alone = socrata("abcd-0001", source=FEED), socrata("abcd-0001"), socrata("wxyz-0002")
    old = Store(store_url)
    old.create_schema()
    for record in (feed, api, alone):
        _put(old, record)
    with old.engine.begin() as conn:  # back to the schema of the version before
        for index in ("ix_records_dataset_key", "ix_records_canonical"):
            conn.execute(text(f"DROP INDEX {index}"))
        for column in t.ADDED_RECORD_COLUMNS:
            conn.execute(text(f"ALTER TABLE records DROP COLUMN {column}"))
    old.close()
    migrated = Store(store_url)
    try:
        migrated.create_schema()
        stored = migrated.get(feed.id)
        assert stored.record.id == api.id and stored.aliases == [feed.id]
        assert sorted(i for i, _ in migrated.fingerprints()) == sorted([api.id, alone.id])
        for record_id_, digest in migrated.fingerprints():
            assert migrated.get(record_id_).record.content_hash() == digest
        assert _put(migrated, api) is ChangeKind.UNCHANGED
        with migrated.engine.connect() as conn:
            ungrouped = conn.execute(text("SELECT count(*) FROM records WHERE canonical_id IS NULL")).scalar_one()
            keys = conn.execute(text("SELECT count(*) FROM records WHERE dataset_key IS NOT NULL")).scalar_one()
        assert (ungrouped, keys) == (0, 3)
    finally:
        migrated.close()


def test_two_writers_of_one_dataset_at_once_still_group_it(store_url):
    """Another process writing the other source's record of a dataset while this one writes its
    own (each transaction blind to the other's uncommitted row) must not leave two datasets: the
    writers of duplicates take turns (PostgreSQL: an advisory lock; SQLite: one writer at a time)."""
    feed, api = socrata("abcd-0001", source=FEED), socrata("abcd-0001")
    first, second = Store(store_url), Store(store_url)
    first.create_schema()
    inserted, ready, other_done = threading.Event(), threading.Event(), threading.Event()

    def saw_insert(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("INSERT INTO RECORDS"):
            inserted.set()

    def hold_commit(conn):  # type: ignore[no-untyped-def]
        if inserted.is_set() and not ready.is_set():
            ready.set()  # everything written and checked, not committed yet
            other_done.wait(timeout=3)  # the other writer finishes meanwhile, unless it waits for us

    event.listen(first.engine, "after_cursor_execute", saw_insert)
    event.listen(first.engine, "commit", hold_commit)
    writer = threading.Thread(target=_put, args=(first, feed))
    try:
        writer.start()
        assert ready.wait(timeout=10)
        _put(second, api)
        other_done.set()
        writer.join(timeout=30)
        stored = second.get(feed.id)
        assert stored.record.id == api.id and stored.aliases == [feed.id]
        assert [i for i, _ in second.fingerprints()] == [api.id]
    finally:
        other_done.set()
        writer.join(timeout=30)
        first.close()
        second.close()
