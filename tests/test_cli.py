"""The `pdi` command as a user runs it: a real process, real files, real HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from catalog.dcat import dataset_errors
from tests.conftest import REPO, reference_dir

PDI = [sys.executable, "-m", "pdi.cli"]
SAMPLE_DIRS = ("socrata", "ckan", "dcat", "opendatasoft")
EXTRA_SAMPLES = (
    "arcgis/sce_drpep_arcgis_hub_dcat-us-1.1_feed_TRUNCATED-5-datasets.json",
    "arcgis/columbia_mo_arcgis_rest_layer_metadata_f-json.json",
)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PDI_")}
    env.update({"PDI_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(REPO), **extra})
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _samples() -> list[Path]:
    ref = reference_dir() / "portal-samples"
    return sorted([*(p for d in SAMPLE_DIRS for p in (ref / d).glob("*.json")), *(ref / e for e in EXTRA_SAMPLES)])


@pytest.mark.parametrize("sample", _samples(), ids=lambda p: p.name[:50])
def test_map_prints_valid_titled_dcat_records_for_every_sample(sample: Path, tmp_path: Path):
    r = subprocess.run([*PDI, "map", str(sample)], cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines
    for line in lines:
        record = json.loads(line)
        assert record["title"].strip()
        assert dataset_errors(record) == [], record["title"]
        assert record["pdi"]["id"] and record["pdi"]["source"]["remote_id"]


def test_map_recognises_hub_feeds_and_honours_platform(tmp_path: Path):
    hub = (
        reference_dir()
        / "portal-samples"
        / "arcgis"
        / "sce_drpep_arcgis_hub_dcat-us-1.1_feed_TRUNCATED-5-datasets.json"
    )
    r = subprocess.run([*PDI, "map", str(hub)], cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 5
    r = subprocess.run(
        [*PDI, "map", str(hub), "--platform", "ckan"], cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True
    )
    assert r.returncode == 2 and "ckan" in r.stderr


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "not a JSON document"),
        ('{"hello": "world"}', "no harvester recognizes this document"),
        ("", "not a JSON document"),
    ],
)
def test_map_rejects_what_it_cannot_read_in_one_line(tmp_path: Path, content: str, fragment: str):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    r = subprocess.run([*PDI, "map", str(bad)], cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and fragment.lower() in r.stderr.lower(), r.stderr


def test_map_missing_file(tmp_path: Path):
    r = subprocess.run([*PDI, "map", "nope.json"], cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True)
    assert r.returncode == 2 and "no such file" in r.stderr


def test_harvest_demo_twice_reports_nothing_new_the_second_time(tmp_path: Path):
    env = _env(tmp_path, PDI_DEMO_PORT=str(_free_port()))
    args = [*PDI, "harvest", "--demo", "--json", "--jurisdiction", "seattle-wa", "--jurisdiction", "atlanta-ga"]
    first = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "[1/2]" in first.stderr and "[2/2]" in first.stderr  # progress while it runs
    summary = json.loads(first.stdout.strip().splitlines()[-1])
    for key in (
        "sources_ok",
        "sources_failed",
        "records_new",
        "records_changed",
        "records_unchanged",
        "records_withdrawn",
        "datasets_active",
        "datasets_merged",
        "records_merged",
    ):
        assert key in summary
    assert summary["sources_ok"] == 2 and summary["records_new"] > 0
    second = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    again = json.loads(second.stdout.strip().splitlines()[-1])
    assert (again["records_new"], again["records_changed"]) == (0, 0)
    assert again["records_unchanged"] == summary["records_new"]
    assert (tmp_path / "data" / "pdi.sqlite").exists()
    s = subprocess.run([*PDI, "search", "police", "--json"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert json.loads(s.stdout)["total"] == summary["records_new"] == summary["datasets_active"]
    assert summary["datasets_merged"] == summary["records_merged"] == 0  # no portal of these lists one twice


def test_harvest_unknown_jurisdiction(tmp_path: Path):
    r = subprocess.run(
        [*PDI, "harvest", "--demo", "--jurisdiction", "gotham-nj"],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
    )
    assert r.returncode != 0 and "gotham-nj" in r.stderr


def test_up_demo_serves_the_whole_catalog(tmp_path: Path):
    port = _free_port()
    env = _env(tmp_path, PDI_DEMO_PORT=str(_free_port()))
    log = open(tmp_path / "up.log", "w")
    proc = subprocess.Popen(
        [*PDI, "up", "--demo", "--port", str(port), "--quiet"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            assert proc.poll() is None, (tmp_path / "up.log").read_text()[-3000:]
            try:
                if requests.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "pdi up did not serve /health in time"
            time.sleep(0.5)
        body = requests.get(f"{base}/api/search", params={"q": "use of force"}, timeout=30).json()
        jurisdictions = {r["jurisdiction"] for r in body["results"]} | {
            f["value"] for f in body["facets"]["jurisdiction"]
        }
        assert len(jurisdictions) >= 3
        assert body["facets"]["category"] and body["facets"]["category"][0]["value"] == "use_of_force"
        listed = requests.get(f"{base}/api/jurisdictions", timeout=30).json()
        assert len(listed) == 53
        assert sum(j["datasets"] for j in listed) > 1000
        first = body["results"][0]
        page = requests.get(f"{base}/api/datasets/{first['id']}", timeout=30).json()
        assert page["record"]["title"] == first["title"]
        # the demo simulator keeps serving so dataset links resolve
        landing = page["record"].get("landingPage")
        if landing and landing.startswith("http://127.0.0.1"):
            assert requests.get(landing, timeout=10).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_harvest_demo_reuses_a_simulator_already_serving_on_the_demo_port(tmp_path: Path, seed):
    from simulator.server import PortalSimulator

    port = _free_port()
    with PortalSimulator(seed, seed_number=2015, port=port, datasets_per_portal=(20, 30)) as sim:
        env = _env(tmp_path, PDI_DEMO_PORT=str(port))
        r = subprocess.run(
            [*PDI, "harvest", "--demo", "--json", "--jurisdiction", "seattle-wa"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert r.returncode == 0, r.stderr
        assert f"already serving at {sim.base_url}" in r.stderr
        assert json.loads(r.stdout.splitlines()[-1])["records_new"] > 0
        assert sim.request_count("data.seattle.gov") > 0
        assert "app_token" not in r.stderr  # sodapy's throttling notice is not repeated per client


def test_scheduler_once(tmp_path: Path):
    env = _env(tmp_path, PDI_DEMO_PORT=str(_free_port()))
    r = subprocess.run(
        [*PDI, "scheduler", "--demo", "--once", "--jurisdiction", "atlanta-ga"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("harvest succeeded: 1/1 sources ok")


def test_harvest_reindex_and_search_on_elasticsearch(tmp_path: Path):
    import uuid

    from elasticsearch import Elasticsearch

    from tests.conftest import elasticsearch_url

    url = elasticsearch_url()
    alias = f"pdi-cli-{uuid.uuid4().hex[:8]}"
    env = _env(tmp_path, PDI_DEMO_PORT=str(_free_port()), PDI_INDEX_URL=url, PDI_INDEX_NAME=alias)
    try:
        h = subprocess.run(
            [*PDI, "harvest", "--demo", "--json", "--jurisdiction", "seattle-wa"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert h.returncode == 0, h.stderr
        new = json.loads(h.stdout.splitlines()[-1])["records_new"]
        r = subprocess.run([*PDI, "reindex", "--json"], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["indexed"] == new
        s = subprocess.run([*PDI, "search", "police", "--json"], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert json.loads(s.stdout)["total"] == new
        es = Elasticsearch(url)
        assert len(es.indices.get_alias(name=alias)) == 1  # the old physical index is gone
    finally:
        Elasticsearch(url).indices.delete(index=f"{alias}-*", ignore_unavailable=True, allow_no_indices=True)


def test_unreachable_database_is_one_line(tmp_path: Path):
    env = _env(tmp_path, PDI_DATABASE_URL="postgresql://pdi@127.0.0.1:9/pdi")
    r = subprocess.run([*PDI, "reindex"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert len(r.stderr.strip().splitlines()) == 1 and "cannot connect to store" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("url", "platform"),
    [
        ("https://data.seattle.gov", "socrata"),
        ("https://data.virginia.gov", "ckan"),
        ("https://opendata.atlantapd.org", "dcat_us"),
    ],
)
def test_check_says_platform_size_and_police_share_and_stores_nothing(tmp_path: Path, url: str, platform: str):
    env = _env(tmp_path, PDI_DEMO_PORT=str(_free_port()))
    r = subprocess.run(
        [*PDI, "check", url, "--demo", "--json"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout.splitlines()[-1])
    assert result["platform"] == platform
    assert result["datasets"] > result["police_related"] > 0
    assert all(e["categories"] for e in result["examples"])
    assert not (tmp_path / "data").exists()  # stores nothing


def test_check_reports_when_nothing_answers(tmp_path: Path):
    env = _env(tmp_path, PDI_DEMO_PORT=str(_free_port()))
    r = subprocess.run(
        [*PDI, "check", "https://no-such-portal.example", "--demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1 and "no platform answered" in r.stderr


def test_portal_text_cannot_drive_the_terminal():
    from pdi.cli import _printable

    assert _printable("Use of Force\x1b[2J\x1b]0;pwned\x07 2019") == "Use of Force?[2J?]0;pwned? 2019"
    assert _printable("Café — 警察\tok") == "Café — 警察\tok"
