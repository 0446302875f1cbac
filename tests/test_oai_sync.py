"""Incremental sync over real HTTP while the catalog changes: OAI-PMH from/until and deleted
records, and the changes feed, each against a running uvicorn server whose store a harvest of
the portal simulator changes between two syncs."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from lxml import etree

from api.app import create_app
from api.oai.protocol import OAI_NS
from catalog.ids import record_id
from catalog.vocabulary import RecordStatus
from harvesters.http import HttpClient
from pdi.runtime import jurisdiction_lookup
from scheduler.run import HarvestRun
from simulator.server import PortalSimulator
from tests.live_server import serve
from tests.oai_xsd import validate
from tests.test_oai import harvest

NS = {"o": OAI_NS}
SEATTLE = "data.seattle.gov"
SOURCE = f"socrata:{SEATTLE}"
REPOSITORY = "pdi-catalog.local"


class Sync:
    def __init__(self, seed, store, index, sim, url):
        self.seed, self.store, self.index, self.sim, self.url = seed, store, index, sim, url

    def harvest_portals(self):
        run = HarvestRun(self.store, self.index, jurisdiction_lookup(self.seed), HttpClient(route=self.sim.route))
        summary = run.run(self.seed.sources(only=["seattle-wa"]), trigger="test")
        assert summary.sources_failed == 0
        return summary

    def search_total(self) -> int:
        return requests.get(f"{self.url}/api/search", params={"size": 1}, timeout=30).json()["total"]

    def oai(self, **params) -> etree._Element:
        r = requests.get(f"{self.url}/oai", params=params, timeout=30)
        validate(r.content)
        return etree.fromstring(r.content)

    def kept_remote_ids(self) -> list[str]:
        return sorted(
            s.record.pdi.source.remote_id
            for s in self.store.iter_records(status=RecordStatus.ACTIVE)
            if s.record.pdi.source.source_id == SOURCE
        )


@pytest.fixture
def sync(seed, store, embedded_index, settings):
    with (
        PortalSimulator(seed, seed_number=7, datasets_per_portal=(40, 60)) as sim,
        serve(create_app(settings, store, embedded_index, seed)) as url,
    ):
        yield Sync(seed, store, embedded_index, sim, url)


def _next_second() -> None:
    """Wait until the wall clock is in a later second: datestamps have second granularity, so a
    harvest's responseDate must fall after the second of the changes it has already seen."""
    now = datetime.now(UTC)
    time.sleep(1.05 - now.microsecond / 1_000_000)


def _identifiers(doc: etree._Element) -> list[str]:
    return [e.text for e in doc.iterfind(".//o:header/o:identifier", NS)]


def _response_date(pages: list[bytes]) -> str:
    return etree.fromstring(pages[0]).findtext("o:responseDate", namespaces=NS)


def test_from_returns_only_what_changed_since_the_last_harvest(sync):
    sync.harvest_portals()
    _next_second()
    first, pages = harvest(sync.url, "ListIdentifiers", metadataPrefix="oai_dc")
    assert len(first) == sync.search_total() > 5
    last_harvest = _response_date(pages)

    remote = sync.kept_remote_ids()[0]
    sync.sim.update_dataset(
        SEATTLE, remote, description="Revised: every use of force report since 2014, by the police."
    )
    _next_second()
    result = sync.harvest_portals()
    assert (result.records_new, result.records_changed) == (0, 1)
    changed = f"oai:{REPOSITORY}:{record_id(SOURCE, remote)}"

    again, pages = harvest(sync.url, "ListRecords", metadataPrefix="oai_dc", **{"from": last_harvest})
    assert [r.header.identifier for r in again] == [changed]
    assert again[0].metadata["description"][0].startswith("Revised")
    for page in pages:
        validate(page)
    # until bounds the other side: up to the first harvest, everything but the change
    before = sync.oai(verb="ListIdentifiers", metadataPrefix="oai_dc", until=last_harvest)
    assert sorted(_identifiers(before)) == sorted(h.identifier for h in first if h.identifier != changed)
    # both, at day granularity (inclusive): from the first change's day to today holds everything
    first_day = min(s.last_changed for s in sync.store.iter_records()).strftime("%Y-%m-%d")
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    days = sync.oai(verb="ListIdentifiers", metadataPrefix="oai_dc", **{"from": first_day, "until": today})
    assert len(_identifiers(days)) == len(first)


def test_a_withdrawn_dataset_is_a_deleted_record_for_good(sync):
    sync.harvest_portals()
    remote = sync.kept_remote_ids()[0]
    rid = record_id(SOURCE, remote)
    identifier = f"oai:{REPOSITORY}:{rid}"
    _next_second()
    before = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    sync.sim.remove_dataset(SEATTLE, remote)
    sync.harvest_portals()
    assert sync.store.get(rid).status is RecordStatus.ACTIVE  # one miss is not enough
    assert sync.harvest_portals().records_withdrawn == 1
    assert sync.store.get(rid).status is RecordStatus.WITHDRAWN

    doc = sync.oai(verb="GetRecord", metadataPrefix="oai_dc", identifier=identifier)
    record = doc.find("o:GetRecord/o:record", NS)
    assert record.find("o:header", NS).get("status") == "deleted"
    assert record.find("o:metadata", NS) is None
    # a harvest from before the withdrawal hears of it
    changed = sync.oai(verb="ListIdentifiers", metadataPrefix="oai_dc", **{"from": before})
    headers = changed.findall("o:ListIdentifiers/o:header", NS)
    assert [(h.findtext("o:identifier", namespaces=NS), h.get("status")) for h in headers] == [(identifier, "deleted")]
    # a full harvest lists it as deleted; a client skipping deletions counts what search counts
    everything, _ = harvest(sync.url, "ListRecords", metadataPrefix="oai_ddi25")
    deleted = [r.header.identifier for r in everything if r.header.deleted]
    assert deleted == [identifier]
    kept, _ = harvest(sync.url, "ListRecords", metadataPrefix="oai_dc", ignore_deleted=True)
    assert len(kept) == sync.search_total() == len(everything) - 1
    # the changes feed says so too
    feed = requests.get(f"{sync.url}/api/changes", params={"since": before}, timeout=30).json()
    assert [(c["id"], c["status"]) for c in feed["changes"]] == [(rid, "withdrawn")]
    assert feed["changes"][0]["withdrawn_at"] is not None and feed["has_more"] is False


def test_the_changes_feed_pages_by_cursor_and_resumes_from_the_last_one(sync):
    sync.harvest_portals()
    total = sync.search_total()
    seen: list[dict] = []
    params: dict[str, str | int] = {"size": 7}
    while True:
        page = requests.get(f"{sync.url}/api/changes", params=params, timeout=30).json()
        seen += page["changes"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
        params = {"size": 7, "cursor": cursor}
    assert len(seen) == total == len({c["id"] for c in seen})
    keys = [(c["changed_at"], c["id"]) for c in seen]
    assert keys == sorted(keys)
    assert all(c["status"] == "active" and c["record"]["pdi"]["id"] == c["id"] for c in seen)

    # nothing changed: the saved cursor gives nothing, and stays where it was
    page = requests.get(f"{sync.url}/api/changes", params={"cursor": cursor}, timeout=30).json()
    assert page == {"changes": [], "has_more": False, "next_cursor": cursor}

    remote = sync.kept_remote_ids()[-1]
    sync.sim.update_dataset(SEATTLE, remote, title="Use of Force Incidents (revised)")
    sync.harvest_portals()
    page = requests.get(f"{sync.url}/api/changes", params={"cursor": cursor}, timeout=30).json()
    assert [c["id"] for c in page["changes"]] == [record_id(SOURCE, remote)]
    assert page["changes"][0]["record"]["title"] == "Use of Force Incidents (revised)"
    assert page["has_more"] is False and page["next_cursor"] != cursor


@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({"since": "last tuesday"}, 400, "since"),
        ({"cursor": "not-a-cursor"}, 400, "cursor"),
        ({"since": "2026-01-01", "cursor": "eyJ0IjoiMjAyNiJ9"}, 400, "exclusive"),
        ({"size": 0}, 422, "size"),
        ({"size": 5000}, 422, "size"),
    ],
)
def test_the_changes_feed_refuses_bad_parameters(sync, params, status, says):
    r = requests.get(f"{sync.url}/api/changes", params=params, timeout=30)
    assert r.status_code == status
    assert says in r.json()["error"]


def test_the_changes_feed_since_a_time(sync):
    sync.harvest_portals()
    future = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert requests.get(f"{sync.url}/api/changes", params={"since": future}, timeout=30).json() == {
        "changes": [],
        "has_more": False,
        "next_cursor": None,
    }
    first_day = min(s.last_changed for s in sync.store.iter_records()).strftime("%Y-%m-%d")
    page = requests.get(f"{sync.url}/api/changes", params={"since": first_day, "size": 1000}, timeout=30).json()
    assert len(page["changes"]) == sync.search_total()
