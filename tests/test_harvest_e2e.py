"""Harvest end to end over real HTTP: simulator → harvesters → store → index."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest

from catalog.dcat import dataset_errors
from catalog.ids import record_id
from catalog.vocabulary import RecordStatus
from harvesters.http import HttpClient, HttpSettings
from index.base import SearchQuery
from pdi.runtime import harvest_parts, jurisdiction_lookup
from scheduler.run import HarvestRun, ProbePolicy, Shards
from simulator.server import PortalSimulator
from store import Store
from store.store import RunStatus

SUBSET = ["seattle-wa", "hampton-va", "atlanta-ga"]  # Socrata, Socrata + statewide CKAN, ArcGIS Hub feed
SEATTLE = "data.seattle.gov"


class Harness:
    def __init__(self, seed, store, index, sim):
        self.seed, self.store, self.index, self.sim = seed, store, index, sim
        self.sleeps: list[float] = []

    def harvest(self, only=SUBSET, withdraw_after=2, full=False, probes=None, **http):
        """One run; ``full`` reads every catalog whole (``pdi harvest --full``), as the fault
        tests need: a steady probe would settle a source without reading the faulty pages."""
        settings = HttpSettings(**{"timeout_s": 5.0, "max_retries": 2, "backoff_base_s": 0.01, **http})
        self.client = HttpClient(settings, route=self.sim.route, sleep=self.sleeps.append)
        policy = probes or ProbePolicy(enabled=not full)
        run = HarvestRun(
            self.store,
            self.index,
            jurisdiction_lookup(self.seed),
            self.client,
            withdraw_after=withdraw_after,
            probes=policy,
        )
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


FAULTS = ["500", "malformed", "truncated", "paging_loop", "schema_drift", "timeout"]


# Read whole (--full) every fault reaches the gather. With probes on, a fault on every catalog
# request fails the probe first, and the run then gathers and meets it too; a paging loop starts
# only on the second page, which a steady probe spares the run from reading (see the probe tests).
@pytest.mark.parametrize(
    ("fault", "full"), [(f, True) for f in FAULTS] + [(f, False) for f in FAULTS if f != "paging_loop"]
)
def test_a_failing_source_keeps_every_record_and_records_the_error(h, fault, full):
    h.harvest()
    before = h.active_ids()
    h.sim.inject(SEATTLE, fault, path_contains="/api/catalog/v1")
    for _ in range(3):  # more failed harvests than withdraw_after: still nothing withdrawn
        result = h.harvest(timeout_s=1.0, max_retries=1, full=full)
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
        full = ProbePolicy(enabled=False)  # every page read, so every page revalidated
        run = HarvestRun(h.store, h.index, jurisdiction_lookup(h.seed), client, probes=full)
        summary = run.run(h.seed.sources(only=SUBSET))
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


# ---- probes: an unchanged catalog is settled from one cheap request -------------------------------


def test_a_steady_probe_settles_every_source_from_a_request_or_two(h):
    first = h.harvest()
    history = {i: len(h.store.history(i)) for i in h.active_ids()}
    h.sim.clear_request_log()
    second = h.harvest()
    assert second.status is RunStatus.SUCCEEDED
    assert all(s.unchanged_by_probe for s in second.sources), [s.source_id for s in second.sources]
    assert second.records_unchanged == first.records_new and second.records_new == second.records_changed == 0
    assert h.sim.request_count() == len(second.sources)  # one probe each, nothing else read
    assert {i: len(h.store.history(i)) for i in h.active_ids()} == history  # no writes for unchanged records
    kept = h.store.source_probe(f"socrata:{SEATTLE}")
    assert kept is not None and kept["tracks_changes"] and kept["probed_at"] > kept["full_read_at"]


def test_a_changed_or_removed_dataset_moves_the_probe_and_its_source_is_read(h):
    h.harvest()
    changed, removed = h.police_remote_ids(SEATTLE)[:2]
    h.sim.update_dataset(SEATTLE, changed, description="Revised by the police department.")
    third = h.harvest()
    seattle = next(s for s in third.sources if s.source_id == f"socrata:{SEATTLE}")
    assert not seattle.unchanged_by_probe and seattle.records_changed == 1
    assert all(s.unchanged_by_probe for s in third.sources if s is not seattle)
    h.sim.remove_dataset(SEATTLE, removed)
    gone = record_id(f"socrata:{SEATTLE}", removed)
    after = [h.harvest(), h.harvest()]  # the count moved: read whole, then steady again
    assert [s.unchanged_by_probe for r in after for s in r.sources if s.source_id == f"socrata:{SEATTLE}"] == [
        False,
        True,
    ]
    # missed by two complete harvests (one read whole, one settled from its probe): withdrawn
    assert after[1].records_withdrawn == 1
    stored = h.store.get(gone)
    assert stored is not None and stored.record.pdi.status is RecordStatus.WITHDRAWN


def test_structural_probes_are_trusted_only_for_their_window(seed, store, embedded_index):
    with PortalSimulator(seed, seed_number=7, datasets_per_portal=(20, 30)) as sim:
        h = Harness(seed, store, embedded_index, sim)
        only = ["detroit-mi", "bedford-va"]  # ArcGIS Server directory, department web page
        first = h.harvest(only=only)
        assert first.status is RunStatus.SUCCEEDED and first.records_new > 0
        platforms = {s.platform for s in first.sources}
        assert {"arcgis_server", "html"} <= platforms
        again = h.harvest(only=only)
        assert all(s.unchanged_by_probe for s in again.sources)
        expired = h.harvest(only=only, probes=ProbePolicy(structure_trusted_for=timedelta(0)))
        structural = [s for s in expired.sources if s.platform in ("arcgis_server", "html")]
        assert structural and not any(s.unchanged_by_probe for s in structural)
        assert all(s.unchanged_by_probe for s in expired.sources if s not in structural)  # change-tracking
        assert expired.records_unchanged == first.records_new and expired.status is RunStatus.SUCCEEDED


def test_full_harvest_reads_every_catalog_whole(h):
    h.harvest()
    again = h.harvest(full=True)
    assert not any(s.unchanged_by_probe for s in again.sources)
    assert again.pages >= len(again.sources) and again.records_unchanged > 0


# ---- shards: a run spread over processes by host ----------------------------------------------------


def test_a_run_spread_over_two_processes_equals_one_in_one(h, settings, tmp_path):
    """Both shards write one store and one embedded index; nothing doubled, nothing lost, every
    source's progress relayed, and the other process's requests counted in the run's host stats."""
    parts = partial(harvest_parts, settings, HttpSettings(timeout_s=5.0), h.sim.base_url)
    events: list[tuple[str, str]] = []
    client = HttpClient(HttpSettings(timeout_s=5.0), route=h.sim.route)
    run = HarvestRun(
        h.store,
        h.index,
        jurisdiction_lookup(h.seed),
        client,
        shards=Shards(2, parts),
        progress=lambda event, r: events.append((event, r.source_id)),
    )
    plans = h.seed.sources(only=SUBSET)
    hosts = {p.url.split("/")[2] for p in plans}
    assert len(hosts) >= 2 and len(run._shard(plans)) == 2  # two groups of whole hosts
    summary = run.run(plans, trigger="test")
    assert summary.status is RunStatus.SUCCEEDED and summary.sources_ok == len(plans)
    assert {s for e, s in events if e == "done"} == {p.source_id for p in plans}
    assert h.store.count() == summary.records_new == h.index.count() > 20
    served = {host: h.sim.request_count(host=host) for host in hosts}
    assert {host: n for host, n in h.store.host_totals().items() if host in hosts} == {
        host: {"requests": n, "retries": 0, "bytes": h.store.host_totals()[host]["bytes"]} for host, n in served.items()
    }
    # the same sources in one process find exactly what the two found
    other = tmp_path / "one"
    other.mkdir()
    single_store = Store(f"sqlite:///{other / 'pdi.sqlite'}")
    single_store.create_schema()
    alone = HarvestRun(single_store, None, jurisdiction_lookup(h.seed), HttpClient(route=h.sim.route))
    assert alone.run(plans).records_new == summary.records_new
    assert {s.record.id for s in single_store.iter_records()} == h.active_ids()
    single_store.close()


# ---- resume: an unfinished gather goes on from its last whole page ----------------------------------


def test_an_unfinished_gather_resumes_from_its_last_committed_page(seed, store, embedded_index):
    with PortalSimulator(seed, seed_number=7, datasets_per_portal=(420, 450)) as sim:
        h = Harness(seed, store, embedded_index, sim)
        first = h.harvest(only=["seattle-wa"])
        assert first.status is RunStatus.SUCCEEDED
        before = h.active_ids()
        # the catalog changes (the probe moves), and the read of it breaks on its fourth page
        sim.update_dataset(SEATTLE, h.police_remote_ids(SEATTLE)[0], description="Revised.")
        sim.inject(SEATTLE, "500", path_contains="offset=300")
        original = HarvestRun.__init__

        def every_page(self, *args, **kwargs):  # checkpoint at every page, not every 5 s
            original(self, *args, **kwargs)
            self.checkpoint_every_s = 0.0

        HarvestRun.__init__ = every_page
        try:
            broken = h.harvest(only=["seattle-wa"], max_retries=0)
            assert broken.status is RunStatus.FAILED and broken.records_withdrawn == 0
            kept = store.checkpoint(f"socrata:{SEATTLE}")
            assert kept is not None and kept["next_offset"] == 300 and kept["seen"] <= before
            sim.clear_faults()
            sim.clear_request_log()
            resumed = h.harvest(only=["seattle-wa"])
        finally:
            HarvestRun.__init__ = original
        (source,) = [s for s in resumed.sources if s.source_id == f"socrata:{SEATTLE}"]
        assert source.status is RunStatus.SUCCEEDED and source.resumed_at == 300
        pages = [r.query for r in sim.requests(SEATTLE, "/api/catalog/v1") if "order=dataset_id" in r.query]
        assert pages and all("offset=0&" not in q and "offset=100&" not in q for q in pages)
        # what the broken read committed counts as seen: nothing is missed, nothing withdrawn
        assert resumed.records_withdrawn == 0 and h.active_ids() == before
        assert all(r["missed_harvests"] == 0 for r in _missed(store, f"socrata:{SEATTLE}"))
        assert store.checkpoint(f"socrata:{SEATTLE}") is None  # a complete read drops it


def test_a_checkpoint_is_not_used_once_the_catalog_changed(seed, store, embedded_index):
    with PortalSimulator(seed, seed_number=7, datasets_per_portal=(420, 450)) as sim:
        h = Harness(seed, store, embedded_index, sim)
        h.harvest(only=["seattle-wa"])
        store.save_checkpoint(f"socrata:{SEATTLE}", "a-probe-of-another-catalog", 300, set())
        sim.clear_request_log()
        again = h.harvest(only=["seattle-wa"], full=False)
        (source,) = [s for s in again.sources if s.source_id == f"socrata:{SEATTLE}"]
        # steady probe: settled unread; a stale checkpoint is never resumed from
        assert source.unchanged_by_probe and source.resumed_at == 0
        sim.update_dataset(SEATTLE, h.police_remote_ids(SEATTLE)[0], description="Changed again.")
        moved = h.harvest(only=["seattle-wa"])
        (source,) = [s for s in moved.sources if s.source_id == f"socrata:{SEATTLE}"]
        assert source.resumed_at == 0 and source.records_changed == 1
        assert store.checkpoint(f"socrata:{SEATTLE}") is None


def _missed(store, source_id):
    from sqlalchemy import select

    from store import schema as t

    with store._read() as conn:
        rows = conn.execute(
            select(t.records.c.id, t.records.c.missed_harvests).where(t.records.c.source_id == source_id)
        ).all()
    return [dict(r._mapping) for r in rows]
