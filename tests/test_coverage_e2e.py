"""Coverage end to end: the simulator's portals change, harvests see it, the right cells move.

Harvests go over real HTTP to the portal simulator; "now" everywhere (the harvest's snapshot, the
index sync, the API) is the simulator's clock, which the test moves forward.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from catalog.freshness import parse_periodicity, thresholds
from catalog.ids import record_id
from harvesters.http import HttpClient, HttpSettings
from pdi.runtime import jurisdiction_lookup
from scheduler.run import HarvestRun
from simulator.server import PortalSimulator
from store.coverage import load_facts
from store.store import RunStatus

SEATTLE = "data.seattle.gov"
SOURCE = f"socrata:{SEATTLE}"
JID = "seattle-wa"


class World:
    def __init__(self, settings, seed, store, index, sim):
        self.seed, self.store, self.index, self.sim = seed, store, index, sim
        self.api = TestClient(create_app(settings, store, index, seed, clock=lambda: sim.now))

    def harvest(self, only=(JID,), withdraw_after=2, platforms=None):
        http = HttpClient(HttpSettings(timeout_s=5.0, max_retries=1, backoff_base_s=0.01), route=self.sim.route)
        run = HarvestRun(
            self.store,
            self.index,
            jurisdiction_lookup(self.seed),
            http,
            withdraw_after=withdraw_after,
            clock=lambda: self.sim.now,
        )
        plans = [p for p in self.seed.sources(only=list(only)) if platforms is None or p.platform in platforms]
        summary = run.run(plans, trigger="test")
        assert summary.status is RunStatus.SUCCEEDED
        return summary

    def row(self):
        body = self.api.get("/api/coverage", params={"jurisdiction": JID}).json()
        assert body["generated_at"].startswith(self.sim.now.date().isoformat())
        return body["jurisdictions"][0]

    def statuses(self, category):
        body = self.api.get("/api/freshness", params={"jurisdiction": JID, "category": category, "limit": 500}).json()
        return {x["id"]: x["status"] for x in body["results"]}

    def facts(self):
        return {f.id: f for f in load_facts(self.store)}


@pytest.fixture
def world(settings, seed, store, embedded_index):
    with PortalSimulator(seed, seed_number=7, datasets_per_portal=(110, 160)) as sim:
        w = World(settings, seed, store, embedded_index, sim)
        with w.api:
            yield w


def test_cells_move_when_datasets_stop_updating_appear_and_disappear(world):
    first = world.harvest()
    facts = world.facts()
    assert facts, "the harvest kept police records"
    sims = {record_id(SOURCE, d.remote_id): d for d in world.sim.datasets(SEATTLE)}
    committed = {c.value for c in world.seed.get(JID).committed_categories}
    row0 = world.row()

    # 1. a dataset of a committed category that updates on a schedule stops updating; the simulated
    #    clock moves past the age at which HDX calls it delinquent, and the next harvest sees it
    def scheduled_and_fresh(f):
        d = sims.get(f.id)
        return (
            d is not None
            and d.updating
            and d.period is not None
            and f.series_id is None
            and f.periodicity_source.value == "declared"
            and f.assess(world.sim.now).status.value == "fresh"
            and set(f.categories) & committed
        )

    def cell_size(f):
        return max(row0["cells"][c]["published"] for c in set(f.categories) & committed)

    candidates = [f for f in facts.values() if scheduled_and_fresh(f)]
    # the shortest period (the least to wait), in the fullest cell (the most neighbours to keep still)
    target = min(candidates, key=lambda f: (sims[f.id].period, -cell_size(f), f.id))
    category = max(sorted(set(target.categories) & committed), key=lambda c: row0["cells"][c]["published"])
    before = world.statuses(category)
    assert before[target.id] == "fresh"
    assert row0["cells"][category]["fresh"] == sum(1 for s in before.values() if s == "fresh")
    world.sim.stop_updating(SEATTLE, sims[target.id].remote_id)
    delinquent_age = thresholds(parse_periodicity(target.periodicity).days).delinquent
    world.sim.advance(delinquent_age.days + 1)
    second = world.harvest()
    assert second.records_changed > 0  # the datasets that kept updating did
    after = world.statuses(category)
    assert after[target.id] == "delinquent"
    others = {k: v for k, v in before.items() if k != target.id}
    assert {k: v for k, v in after.items() if k != target.id} == others  # the others kept their status
    row1 = world.row()
    cell0, cell1 = row0["cells"][category], row1["cells"][category]
    assert cell1["fresh"] == cell0["fresh"] - 1
    assert cell1["delinquent"] == cell0["delinquent"] + 1
    assert cell1["published"] == cell0["published"]
    hits = world.api.get("/api/search", params={"jurisdiction": JID, "freshness": "delinquent", "size": 100})
    assert target.id in {h["id"] for h in hits.json()["results"]}  # the index was synced with the status

    # 2. a new use-of-force dataset appears: published (and fresh) move by one
    assert "use_of_force" in committed
    added = world.sim.add_dataset(SEATTLE, title="Use of Force Reports by Precinct", categories=["use_of_force"])
    third = world.harvest()
    assert third.records_new == 1
    new_id = record_id(SOURCE, added)
    assert "use_of_force" in world.facts()[new_id].categories
    row2 = world.row()
    assert row2["cells"]["use_of_force"]["published"] == row1["cells"]["use_of_force"]["published"] + 1
    assert row2["cells"]["use_of_force"]["fresh"] == row1["cells"]["use_of_force"]["fresh"] + 1
    assert world.statuses("use_of_force")[new_id] == "fresh"

    # 3. a dataset disappears: published drops after two complete harvests without it
    gone = next(
        f
        for f in sorted(world.facts().values(), key=lambda f: f.id)
        if f.id != target.id and f.id in sims and f.categories
    )
    gone_category = gone.categories[0]
    world.sim.remove_dataset(SEATTLE, sims[gone.id].remote_id)
    world.harvest()
    row3 = world.row()
    assert row3["cells"][gone_category]["published"] == row2["cells"][gone_category]["published"]  # one miss
    fifth = world.harvest()
    assert fifth.records_withdrawn == 1
    row4 = world.row()
    assert row4["cells"][gone_category]["published"] == row3["cells"][gone_category]["published"] - 1
    assert gone.id not in world.statuses(gone_category)
    assert row4["published"] == row3["published"] - 1

    # 4. the history kept a snapshot per harvest, as each one saw it
    snaps = world.api.get("/api/coverage/history").json()["snapshots"]
    assert [s["run_id"] for s in snaps] == [first.run_id, second.run_id, third.run_id, third.run_id + 1, fifth.run_id]
    published = [s["overall"]["published"] for s in snaps]
    assert published[2] == published[1] + 1 and published[4] == published[3] - 1
    assert snaps[1]["by_category"][category]["delinquent"] >= snaps[0]["by_category"][category]["delinquent"] + 1
    assert snaps[0]["taken_at"] < snaps[1]["taken_at"]
    assert (
        snaps[2]["by_category"]["use_of_force"]["published"] == snaps[1]["by_category"]["use_of_force"]["published"] + 1
    )
    assert snaps[-1]["taken_at"].startswith(world.sim.now.date().isoformat())  # taken at the simulator's "now"


def test_demo_catalog_coverage_lists_every_seeded_jurisdiction(settings, seed, store, embedded_index):
    with PortalSimulator(seed, seed_number=2016, datasets_per_portal=(12, 20)) as sim:
        world = World(settings, seed, store, embedded_index, sim)
        # every portal of the demo but the department web pages, which Scrapy crawls in a process
        # each (about 20 s apiece here; tests/test_harvesters_html.py covers them)
        platforms = {p.platform for p in seed.sources()} - {"html"}
        summary = world.harvest(only=[j.id for j in seed], platforms=platforms)
        assert summary.sources_total == len([p for p in seed.sources() if p.platform != "html"])
        with world.api:
            body = world.api.get("/api/coverage").json()
    assert len(seed) == 53
    assert [j["id"] for j in body["jurisdictions"]] == [j.id for j in seed]
    for j, row in zip(seed, body["jurisdictions"], strict=True):
        assert set(row["cells"]) == {c["id"] for c in body["categories"]}
        assert {c for c, cell in row["cells"].items() if cell["committed"]} == {c.value for c in j.committed_categories}
        assert row["committed"] == len(j.committed_categories)
        for cell in row["cells"].values():
            assert cell["published"] >= cell["fresh"] + cell["overdue"] + cell["delinquent"]
    overall = body["totals"]["overall"]
    assert overall["published"] == store.count() > 0
    assert overall["committed_published"] > 0 and overall["fresh"] > 0
    assert sum(row["published"] for row in body["jurisdictions"]) >= overall["published"]
    assert summary.sources_ok == summary.sources_total


def test_a_source_indexes_series_freshness_itself_leaving_the_index_sync_nothing(world):
    from index.sync import sync_index

    summary = world.harvest(only=("austin-tx",), platforms=("socrata",))
    facts = world.facts()
    inferred = [f for f in facts.values() if f.periodicity_source.value == "series" or f.superseded]
    assert inferred, "the simulated portal publishes yearly series"
    assert summary.index_synced == 0  # every document already carried the status of its facts
    # and those statuses are the facts' own: a fresh sync finds nothing to correct
    assert sync_index(world.store, world.index, jurisdiction_lookup(world.seed), now=world.sim.now).indexed == 0
    for fact in inferred[:5]:
        hit = world.api.get(f"/api/datasets/{fact.id}").json()
        assert hit["freshness"]["status"] == fact.assess(world.sim.now).status.value
