"""Duplicates end to end: a Socrata portal harvested through its catalog API and its data.json
(two sources of one jurisdiction, served by the simulator over real HTTP) gives each dataset once,
listing both sources — in the store, in both index backends and in the API — and withdraws it only
when every source has dropped it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from catalog.ids import record_id
from catalog.vocabulary import RecordStatus
from index.base import SearchIndex, SearchQuery
from index.documents import to_document
from index.sync import sync_index
from pdi.runtime import jurisdiction_lookup, rebuild_index
from simulator.server import PortalSimulator
from store import Store
from store.store import RunStatus
from tests.seeds import SOCRATA_HOST, seed_with_socrata_data_json
from tests.test_harvest_e2e import Harness

API = f"socrata:{SOCRATA_HOST}"
FEED = f"dcat_us:{SOCRATA_HOST}/data.json"
ONLY = ["seattle-wa"]


@pytest.fixture
def h(tmp_path: Path, store: Store, any_index: SearchIndex) -> Iterator[Harness]:
    seed = seed_with_socrata_data_json(tmp_path / "seed")
    with PortalSimulator(seed, seed_number=11, datasets_per_portal=(40, 60)) as sim:
        yield Harness(seed, store, any_index, sim)


@pytest.fixture
def api(h: Harness, settings: Any) -> Iterator[TestClient]:
    with TestClient(create_app(settings, h.store, h.index, h.seed)) as client:
        yield client


def _ids(remote: str) -> tuple[str, str]:
    """(API record id, data.json record id) of a Socrata dataset."""
    return record_id(API, remote), record_id(FEED, f"https://{SOCRATA_HOST}/api/views/{remote}")


def _both(h: Harness) -> list[str]:
    """Remote ids of the datasets both sources kept."""
    out = []
    for ds in h.sim.datasets(SOCRATA_HOST):
        api_id, feed_id = _ids(ds.remote_id)
        if h.store.get(api_id, merged=False) is not None and h.store.get(feed_id, merged=False) is not None:
            out.append(ds.remote_id)
    return out


def _hits(client: TestClient, title: str) -> list[dict[str, Any]]:
    body = client.get("/api/search", params={"q": title, "jurisdiction": "seattle-wa", "size": 100}).json()
    return [r for r in body["results"] if r["title"] == title]


def test_the_seed_lists_two_sources_of_one_portal(h: Harness) -> None:
    plans = {p.source_id: p for p in h.seed.sources(only=ONLY)}
    assert {API, FEED} <= set(plans)
    assert plans[FEED].portal_platform == plans[API].portal_platform  # one Socrata portal


def test_a_dataset_seen_through_both_sources_is_one_search_hit_listing_both(h: Harness, api: TestClient) -> None:
    result = h.harvest(only=ONLY)
    assert result.status is RunStatus.SUCCEEDED and result.sources_ok == 2
    both = _both(h)
    assert len(both) >= 5
    counts = h.store.dataset_counts()
    assert counts["datasets_merged"] == counts["records_merged"] == len(both)
    # every dataset once: the index holds datasets, not records
    assert h.index.count() == counts["datasets_active"] == h.store.count() - len(both)
    everything = api.get("/api/search", params={"jurisdiction": "seattle-wa", "size": 100}).json()
    assert everything["total"] == counts["datasets_active"]
    facets = {f["value"]: f["count"] for f in everything["facets"]["jurisdiction"]}
    assert facets["seattle-wa"] == counts["datasets_active"]
    platform = {f["value"]: f["count"] for f in everything["facets"]["platform"]}
    assert platform == {"socrata": counts["datasets_active"]}  # both sources read one Socrata portal
    for remote in both:
        api_id, feed_id = _ids(remote)
        title = h.sim.dataset(SOCRATA_HOST, remote).title
        hits = _hits(api, title)
        assert [hit["id"] for hit in hits] == [api_id], title  # the Socrata API record is the primary one
        assert [s["source_id"] for s in hits[0]["sources"]] == [API, FEED]
        # the other source's record id answers with the same dataset
        page = api.get(f"/api/datasets/{feed_id}")
        assert page.status_code == 200 and page.headers["content-location"] == f"/api/datasets/{api_id}"
        body = page.json()
        assert body["id"] == api_id and body["aliases"] == [feed_id] and body["status"] == "active"
        assert [(s["source_id"], s["record_id"], s["status"]) for s in body["sources"]] == [
            (API, api_id, "active"),
            (FEED, feed_id, "active"),
        ]
        assert [s["source_id"] for s in body["record"]["pdi"]["sources"]] == [API, FEED]
        assert {e["source_id"] for e in body["history"]} == {API, FEED}
    # a second harvest changes nothing and keeps every id
    again = h.harvest(only=ONLY)
    assert (again.records_new, again.records_changed, again.records_withdrawn) == (0, 0, 0)
    assert h.store.dataset_counts() == counts and h.index.count() == counts["datasets_active"]


def test_withdrawn_only_when_every_source_has_dropped_it(h: Harness, api: TestClient) -> None:
    h.harvest(only=ONLY)
    remote = _both(h)[0]
    api_id, feed_id = _ids(remote)
    title = h.sim.dataset(SOCRATA_HOST, remote).title
    total = h.store.dataset_counts()["datasets_active"]

    # the portal hides it from its data.json: that source drops it, the catalog API still lists it
    h.sim.update_dataset(SOCRATA_HOST, remote, hide_from_data_json=True)
    first = h.harvest(only=ONLY)
    assert first.records_withdrawn == 0  # one complete harvest without it is not enough
    assert [s["source_id"] for s in _hits(api, title)[0]["sources"]] == [API, FEED]
    second = h.harvest(only=ONLY)
    feed_run = next(s for s in second.sources if s.source_id == FEED)
    assert feed_run.records_withdrawn == 1 and second.records_withdrawn == 1
    hits = _hits(api, title)
    assert [hit["id"] for hit in hits] == [api_id] and [s["source_id"] for s in hits[0]["sources"]] == [API]
    body = api.get(f"/api/datasets/{feed_id}").json()
    assert body["status"] == "active" and body["id"] == api_id
    assert [(s["source_id"], s["status"]) for s in body["sources"]] == [(API, "active"), (FEED, "withdrawn")]
    assert h.store.dataset_counts()["datasets_active"] == total

    # a failed harvest of the remaining source hides nothing
    h.sim.inject(SOCRATA_HOST, "500", path_contains="/api/catalog/v1")
    for _ in range(3):
        failed = h.harvest(only=ONLY, timeout_s=1.0, max_retries=1)
        assert failed.status is RunStatus.PARTIAL and failed.records_withdrawn == 0
    h.sim.clear_faults()
    assert [hit["id"] for hit in _hits(api, title)] == [api_id]

    # gone from the portal: the last source drops it after two complete harvests
    h.sim.remove_dataset(SOCRATA_HOST, remote)
    assert h.harvest(only=ONLY).records_withdrawn == 0
    assert [hit["id"] for hit in _hits(api, title)] == [api_id]
    assert h.harvest(only=ONLY).records_withdrawn == 1
    assert _hits(api, title) == []
    for asked in (api_id, feed_id):
        page = api.get(f"/api/datasets/{asked}").json()
        assert page["status"] == "withdrawn" and page["id"] == api_id
    assert h.store.get(api_id).status is RecordStatus.WITHDRAWN
    assert h.index.count() == h.store.dataset_counts()["datasets_active"] == total - 1


def test_the_primary_source_dropping_it_leaves_the_other_as_the_dataset(h: Harness, api: TestClient) -> None:
    """The reverse order: the API record is withdrawn first (settled as after a complete harvest of
    the catalog API without it) and the data.json record carries the dataset on."""
    h.harvest(only=ONLY)
    remote = _both(h)[0]
    api_id, feed_id = _ids(remote)
    title = h.sim.dataset(SOCRATA_HOST, remote).title
    seen = {s.record.id for s in h.store.iter_records() if s.record.pdi.source.source_id == API} - {api_id}
    assert h.store.settle_source(API, seen, run_id=None, withdraw_after=1) == [api_id]
    # what a run does after settling: index the datasets those records belong to now
    datasets, gone = h.store.index_view([api_id])
    h.index.upsert(to_document(r, jurisdiction_lookup(h.seed)) for r in datasets)
    h.index.delete(gone)
    hits = _hits(api, title)
    assert [hit["id"] for hit in hits] == [feed_id] and [s["source_id"] for s in hits[0]["sources"]] == [FEED]
    assert api.get(f"/api/datasets/{api_id}").json()["id"] == feed_id
    # the sync may refresh the freshness status the document was written without; nothing else
    first = sync_index(h.store, h.index, jurisdiction_lookup(h.seed))
    assert first.deleted == 0 and first.failed == 0
    assert sync_index(h.store, h.index, jurisdiction_lookup(h.seed)).changed is False  # nothing left to repair
    assert [hit["id"] for hit in _hits(api, title)] == [feed_id]


def test_the_index_is_rebuilt_with_one_document_per_dataset(h: Harness) -> None:
    h.harvest(only=ONLY)
    indexed, failed, _ = rebuild_index(h.store, h.index, jurisdiction_lookup(h.seed))
    assert (indexed, failed) == (h.store.dataset_counts()["datasets_active"], 0)
    ids = {hit.id for hit in h.index.search(SearchQuery(size=100, filters={"status": ["active"]})).hits}
    aliases = {_ids(r)[1] for r in _both(h)}
    assert ids and not ids & aliases
