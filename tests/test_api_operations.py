from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from harvesters.http import HttpClient
from pdi.runtime import jurisdiction_lookup
from pdi.settings import load_settings
from scheduler.run import HarvestRun
from simulator.server import PortalSimulator

KEY = "k" * 32


@pytest.fixture
def harvested(settings, store, embedded_index, seed):
    with PortalSimulator(seed, seed_number=4, datasets_per_portal=(20, 30)) as sim:
        sim.inject("data.seattle.gov", "500", path_contains="/api/catalog/v1")
        http = HttpClient(route=sim.route)
        HarvestRun(store, embedded_index, jurisdiction_lookup(seed), http).run(
            seed.sources(only=["seattle-wa", "atlanta-ga"])
        )
    return store


def _client(tmp_path, store, index, seed, admin_key="", trigger=None):
    settings = load_settings(data_dir=tmp_path / "data", admin_key=admin_key)
    return TestClient(create_app(settings, store, index, seed, trigger=trigger))


def test_harvests_show_runs_sources_and_errors(tmp_path, harvested, embedded_index, seed):
    with _client(tmp_path, harvested, embedded_index, seed) as c:
        body = c.get("/api/harvests").json()
    run = body["runs"][0]
    assert run["status"] == "partial" and run["sources_total"] == 2
    statuses = {s["source_id"]: s["status"] for s in run["sources"]}
    assert statuses["socrata:data.seattle.gov"] == "failed"
    error = run["errors"][0]
    assert error["stage"] == "gather" and "data.seattle.gov" in error["url"]
    sources = {s["source_id"]: s for s in body["sources"]}
    assert len(sources) == len(seed.sources())
    assert sources["socrata:data.seattle.gov"]["last_status"] == "failed"
    assert sources["socrata:data.seattle.gov"]["last_success_at"] is None
    atlanta = [s for s in sources.values() if "atlantapd" in s["source_id"]][0]
    assert atlanta["last_status"] == "succeeded" and atlanta["last_success_at"]


def test_metrics_in_prometheus_text(tmp_path, harvested, embedded_index, seed):
    with _client(tmp_path, harvested, embedded_index, seed) as c:
        r = c.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert "# TYPE pdi_harvest_runs_total counter" in text
    assert 'pdi_harvest_runs_total{status="partial"} 1' in text
    assert 'pdi_source_failed_runs_total{source="socrata:data.seattle.gov"} 1' in text
    assert 'pdi_source_seconds_since_last_success{source="dcat_us:opendata.atlantapd.org' in text
    assert 'pdi_records{status="active"}' in text
    active = re.search(r'^pdi_records\{status="active"\} (\d+)$', text, re.M)
    assert active and f'pdi_datasets{{status="active"}} {active[1]}' in text  # nothing seen twice here
    assert "\npdi_datasets_merged 0\n" in text and "\npdi_records_merged 0\n" in text
    assert 'pdi_host_requests_total{host="data.seattle.gov"}' in text
    assert 'pdi_host_retries_total{host="data.seattle.gov"} 3' in text  # 500 retried 3 times
    for line in text.splitlines():
        assert (
            line.startswith("#") or line.rsplit(" ", 1)[1].replace(".", "").replace("e+", "").replace("-", "").isdigit()
        )


def test_admin_trigger_needs_the_key(tmp_path, store, embedded_index, seed):
    calls = []

    def trigger(ids):
        calls.append(ids)
        return {"sources": ids, "mode": "scheduler"}

    with _client(tmp_path, store, embedded_index, seed, admin_key=KEY, trigger=trigger) as c:
        assert c.post("/api/admin/harvest").status_code == 401
        assert c.post("/api/admin/harvest", headers={"X-PDI-Admin-Key": "nope"}).status_code == 401
        r = c.post("/api/admin/harvest", params={"jurisdiction": "hampton-va"}, headers={"X-PDI-Admin-Key": KEY})
        assert r.status_code == 202
        assert set(r.json()["sources"]) == {"socrata:data.hampton.gov", "ckan:data.virginia.gov"}
        r = c.post("/api/admin/harvest", headers={"Authorization": f"Bearer {KEY}"})
        assert r.status_code == 202 and len(r.json()["sources"]) == len(seed.sources())
        assert (
            c.post(
                "/api/admin/harvest", params={"jurisdiction": "gotham"}, headers={"X-PDI-Admin-Key": KEY}
            ).status_code
            == 400
        )
    assert len(calls) == 2
    with _client(tmp_path, store, embedded_index, seed, admin_key="", trigger=trigger) as c:
        r = c.post("/api/admin/harvest", headers={"X-PDI-Admin-Key": "anything"})
        assert r.status_code == 403 and "PDI_ADMIN_KEY" in r.json()["error"]
