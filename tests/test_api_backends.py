"""The API serves the same totals and facet counts whichever index backs it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from harvesters.http import HttpClient
from index.elasticsearch import ElasticsearchIndex
from index.sqlite_fts import SqliteFtsIndex
from pdi.runtime import jurisdiction_lookup, rebuild_index
from scheduler.run import HarvestRun
from simulator.server import PortalSimulator
from tests.conftest import elasticsearch_url

PARAMS = [
    {"q": "use of force"},
    {"q": "OIS"},
    {"q": "calls for service", "state": "WA"},
    {},
    {"category": "complaints"},
    {"platform": "ckan"},
    {"modified_after": "2026-01-01"},
    {"freshness": "fresh"},
    {"freshness": "overdue,delinquent", "q": "police"},
]
NOW = datetime(2026, 11, 20, tzinfo=UTC)  # freshness is judged at this moment by both


@pytest.fixture(scope="module")
def clients(tmp_path_factory, seed):
    from pdi.settings import load_settings
    from store import Store

    url = elasticsearch_url()
    data = tmp_path_factory.mktemp("api-backends")
    settings = load_settings(data_dir=data)
    store = Store(settings.store_url)
    store.create_schema()
    lookup = jurisdiction_lookup(seed)
    with PortalSimulator(seed, seed_number=5, datasets_per_portal=(60, 90)) as sim:
        HarvestRun(store, None, lookup, HttpClient(route=sim.route)).run(
            seed.sources(only=["seattle-wa", "hampton-va", "atlanta-ga", "austin-tx"])
        )
    fts = SqliteFtsIndex(data / "index.sqlite")
    es = ElasticsearchIndex(url, alias=f"pdi-api-{uuid.uuid4().hex[:8]}")
    for idx in (fts, es):
        rebuild_index(store, idx, lookup, now=NOW)
    with (
        TestClient(create_app(settings, store, fts, seed, clock=lambda: NOW)) as a,
        TestClient(create_app(settings, store, es, seed, clock=lambda: NOW)) as b,
    ):
        yield a, b
    es.client.indices.delete(index=f"{es.alias}-*", ignore_unavailable=True, allow_no_indices=True)
    es.close()
    fts.close()
    store.close()


@pytest.mark.parametrize("params", PARAMS, ids=str)
def test_same_totals_and_facets(clients, params):
    a, b = (c.get("/api/search", params=params).json() for c in clients)
    assert a["total"] == b["total"] > 0
    assert a["facets"] == b["facets"]


def test_same_jurisdiction_counts(clients):
    a, b = (c.get("/api/jurisdictions").json() for c in clients)
    assert [(j["id"], j["datasets"]) for j in a] == [(j["id"], j["datasets"]) for j in b]
    assert sum(j["datasets"] for j in a) > 0
