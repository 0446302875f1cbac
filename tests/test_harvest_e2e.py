"""Harvest end to end over real HTTP: simulator → harvesters → store → index."""

from __future__ import annotations

import pytest

from catalog.dcat import dataset_errors
from catalog.ids import record_id
from catalog.vocabulary import RecordStatus
from harvesters.http import HttpClient, HttpSettings
from index.base import SearchQuery
from pdi.runtime import jurisdiction_lookup
from scheduler.run import HarvestRun
from simulator.server import PortalSimulator
from store.store import RunStatus

SUBSET = ["seattle-wa", "hampton-va", "atlanta-ga"]  # Socrata, Socrata + statewide CKAN, ArcGIS Hub feed
SEATTLE = "data.seattle.gov"


class Harness:
    def __init__(self, seed, store, index, sim):
        self.seed, self.store, self.index, self.sim = seed, store, index, sim
        self.sleeps: list[float] = []

    def harvest(self, only=SUBSET, withdraw_after=2, **http):
        settings = HttpSettings(**{"timeout_s": 5.0, "max_retries": 2, "backoff_base_s": 0.01, **http})
        client = HttpClient(settings, route=self.sim.route, sleep=self.sleeps.append)
        run = HarvestRun(self.store, self.index, jurisdiction_lookup(self.seed), client, withdraw_after=withdraw_after)
        return run.run(self.seed.sources(only=only), trigger="test")

    def active_ids(self):
        return {s.record.id for s in self.store.iter_records(status=RecordStatus.ACTIVE)}

    def police_remote_ids(self, host):
        return [d.remote_id for d in self.sim.datasets(host) if d.police]


@pytest.fixture
def h(seed, store, embedded_index):
    with PortalSimulator(seed, seed_number=7, datasets_per_portal=(110, 160)) as sim:
        sim.fault_delay_s = 3.0
        yield Harness(seed, store, embedded_index, sim)


def test_harvest_fills_store_and_index_and_a_second_harvest_changes_nothing(h):
    first = h.harvest()
    assert first.status is RunStatus.SUCCEEDED
    assert first.sources_ok == first.sources_total == 4
    assert first.records_new > 20 and first.records_changed == 0
    assert h.store.count() == first.records_new == h.index.count()
    for stored in h.store.iter_records():
        dcat = stored.record.to_dcat()
        assert dataset_errors(dcat) == [], stored.record.id
        assert stored.record.pdi.police_related and stored.record.pdi.categories
        assert set(stored.record.pdi.jurisdictions) <= {
            "seattle-wa",
            "hampton-va",
            "atlanta-ga",
            "bedford-va",
            "danville-va",
            "newport-news-va",
        }
    ids = h.active_ids()
    views_before = h.sim.request_count(SEATTLE, "/api/views/")
    second = h.harvest()
    # an unchanged dataset costs no detail request: its stored views document is reused
    assert h.sim.request_count(SEATTLE, "/api/views/") == views_before
    assert (second.records_new, second.records_changed, second.records_withdrawn) == (0, 0, 0)
    assert second.records_unchanged == first.records_new
    assert h.active_ids() == ids  # identifiers are stable across harvests


def test_kept_datasets_match_the_simulators_ground_truth(h):
    h.harvest()
    kept = {
        s.record.pdi.source.remote_id
        for s in h.store.iter_records()
        if s.record.pdi.source.source_id == f"socrata:{SEATTLE}"
    }
    truth = set(h.police_remote_ids(SEATTLE))
    precision = len(kept & truth) / len(kept)
    recall = len(kept & truth) / len(truth)
    assert precision >= 0.9 and recall >= 0.8, (precision, recall)


def test_socrata_records_carry_columns_from_the_views_metadata(h):
    h.harvest(only=["seattle-wa"])
    rec = next(iter(h.store.iter_records())).record
    assert rec.pdi.columns and all(c.type for c in rec.pdi.columns)
    assert rec.pdi.freshness.last_data_update is not None


def test_a_changed_dataset_is_updated_with_history(h):
    h.harvest()
    remote = h.police_remote_ids(SEATTLE)[0]
    h.sim.update_dataset(SEATTLE, remote, description="Revised: every use of force report since 2014, by the police.")
    result = h.harvest()
    assert (result.records_new, result.records_changed) == (0, 1)
    rid = record_id(f"socrata:{SEATTLE}", remote)
    assert h.store.get(rid).record.description.startswith("Revised")
    assert [e["change"] for e in h.store.history(rid)][:2] == ["changed", "new"]
    assert h.index.search(SearchQuery(q="revised")).hits[0].id == rid


def test_new_dataset_appears_and_removed_one_is_withdrawn_after_two_complete_harvests(h):
    h.harvest()
    added = h.sim.add_dataset(
        SEATTLE, title="Officer Involved Shootings 2026", categories=["officer_involved_shootings"]
    )
    gone = h.police_remote_ids(SEATTLE)[0]
    h.sim.remove_dataset(SEATTLE, gone)
    gone_id = record_id(f"socrata:{SEATTLE}", gone)
    r1 = h.harvest()
    assert r1.records_new == 1 and r1.records_withdrawn == 0
    assert h.store.get(record_id(f"socrata:{SEATTLE}", added)) is not None
    assert h.store.get(gone_id).status is RecordStatus.ACTIVE  # one miss is not enough
    r2 = h.harvest()
    assert r2.records_withdrawn == 1
    stored = h.store.get(gone_id)
    assert stored.status is RecordStatus.WITHDRAWN  # still retrievable, with its status
    assert gone_id not in {
        hit.id for hit in h.index.search(SearchQuery(size=100, filters={"jurisdiction": ["seattle-wa"]})).hits
    }


@pytest.mark.parametrize("fault", ["500", "malformed", "truncated", "paging_loop", "schema_drift", "timeout"])
def test_a_failing_source_keeps_every_record_and_records_the_error(h, fault):
    h.harvest()
    before = h.active_ids()
    h.sim.inject(SEATTLE, fault, path_contains="/api/catalog/v1")
    for _ in range(3):  # more failed harvests than withdraw_after: still nothing withdrawn
        result = h.harvest(timeout_s=1.0, max_retries=1)
        assert result.status is RunStatus.PARTIAL
        assert result.sources_failed == 1 and result.records_withdrawn == 0
    assert h.active_ids() == before
    assert h.index.count() == len(before)
    run = h.store.runs()[0]
    errors = h.store.errors(run["id"])
    assert errors and errors[0]["stage"] == "gather" and errors[0]["source_id"] == f"socrata:{SEATTLE}"
    assert errors[0]["url"] and SEATTLE in errors[0]["url"]
    failed = [s for s in h.store.source_runs(run["id"]) if s["status"] == "failed"]
    assert [s["source_id"] for s in failed] == [f"socrata:{SEATTLE}"]


def test_429_with_retry_after_is_honoured(h):
    h.sim.inject(SEATTLE, "429", count=1, path_contains="/api/catalog/v1")
    result = h.harvest(only=["seattle-wa"])
    assert result.status is RunStatus.SUCCEEDED and result.retries == 1
    assert 1.0 in h.sleeps


def test_oversize_response_is_refused(h):
    h.sim.oversize_bytes = 3 * 1024 * 1024
    h.sim.inject(SEATTLE, "oversize", path_contains="/api/catalog/v1")
    result = h.harvest(only=["seattle-wa"], max_body_bytes=1024 * 1024)
    assert result.status is RunStatus.FAILED
    assert "cap" in h.store.errors(h.store.runs()[0]["id"])[0]["message"]


def test_index_down_during_harvest_then_reindex_catches_up(h, monkeypatch):
    from index.base import IndexUnavailable
    from pdi.runtime import rebuild_index

    def down(*_a, **_k):
        raise IndexUnavailable("connection refused")

    monkeypatch.setattr(h.index, "upsert", down)
    result = h.harvest(only=["seattle-wa"])
    assert result.status is RunStatus.SUCCEEDED and result.index_errors > 0
    assert h.store.count() == result.records_new > 0
    monkeypatch.undo()
    indexed, failed, _ = rebuild_index(h.store, h.index, jurisdiction_lookup(h.seed))
    assert (indexed, failed) == (result.records_new, 0)
    assert h.index.count() == h.store.count()


def test_index_down_during_harvest_catches_up_on_the_next_run(h, monkeypatch):
    from index.base import IndexUnavailable

    def down(*_a, **_k):
        raise IndexUnavailable("connection refused")

    monkeypatch.setattr(h.index, "upsert", down)
    first = h.harvest(only=["seattle-wa"])
    assert first.index_errors > 0 and h.index.count() == 0
    monkeypatch.undo()
    second = h.harvest(only=["seattle-wa"])
    assert second.records_new == 0 and second.index_synced == first.records_new
    assert h.index.count() == h.store.count() == first.records_new


def test_a_schema_change_is_kept_in_history_and_flagged(h, settings):
    from dataclasses import replace

    from fastapi.testclient import TestClient

    from api.app import create_app

    h.harvest(only=["seattle-wa"])
    target = next(d for d in h.sim.datasets(SEATTLE) if d.police and d.asset_type == "dataset" and len(d.columns) >= 3)
    cols = list(target.columns)
    dropped, renamed, retyped = cols[0], cols[1], cols[2]
    cols[1] = replace(renamed, name=renamed.name + " New", field_name=renamed.field_name + "_new")
    cols[2] = replace(retyped, datatype="number" if retyped.datatype != "number" else "text")
    new_cols = [*cols[1:], replace(cols[-1], name="Added Column", field_name="added_column")]
    h.sim.update_dataset(SEATTLE, target.remote_id, columns=new_cols)
    result = h.harvest(only=["seattle-wa"])
    assert result.records_changed == 1
    rid = record_id(f"socrata:{SEATTLE}", target.remote_id)
    latest = h.store.history(rid)[0]
    assert "pdi.columns" in latest["fields"]
    change = latest["columns"]
    assert dropped.field_name in change["removed"] and "added_column" in change["added"]
    assert {
        "name": retyped.field_name,
        "from": change["retyped"][0]["from"],
        "to": change["retyped"][0]["to"],
    } in change["retyped"]
    with TestClient(create_app(settings, h.store, h.index, h.seed)) as c:
        page = c.get(f"/api/datasets/{rid}").json()
    assert page["schema_changed_at"] is not None
    assert page["history"][0]["columns"]["removed"] == change["removed"]


def test_conditional_requests_revalidate_unchanged_pages(h):
    from store.store import StoreHttpCache

    cache = StoreHttpCache(h.store)

    def run():
        client = HttpClient(HttpSettings(timeout_s=5.0), route=h.sim.route, cache=cache)
        summary = HarvestRun(h.store, h.index, jurisdiction_lookup(h.seed), client).run(h.seed.sources(only=SUBSET))
        return summary, client.stats

    first, stats1 = run()
    assert sum(stats1.not_modified.values()) == 0
    second, stats2 = run()
    assert (second.records_new, second.records_changed) == (0, 0)
    assert sum(stats2.not_modified.values()) == sum(stats2.requests.values()) > 0  # every page answered 304
    assert sum(stats2.bytes.values()) < sum(stats1.bytes.values()) / 10
    remote = h.police_remote_ids(SEATTLE)[0]
    h.sim.update_dataset(SEATTLE, remote, description="Revised once more, by the police department.")
    third, _ = run()
    assert third.records_changed == 1  # a changed page is sent whole again
