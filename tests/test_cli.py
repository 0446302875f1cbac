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
    "arcgis/arcgis_online_sharing_rest_search_response_TRUNCATED-4-of-46-results.json",
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


def test_map_reads_an_arcgis_online_search_and_a_hub_search_page(tmp_path: Path):
    search = reference_dir() / "portal-samples" / EXTRA_SAMPLES[2]
    hub_page = next((REPO / "tests" / "fixtures" / "arcgis_hub_search").glob("*.json"))
    for path, platform, count in ((search, "arcgis_online", 4), (hub_page, "arcgis_hub_search", 6)):
        r = subprocess.run(
            [*PDI, "map", str(path), "--platform", platform],
            cwd=tmp_path,
            env=_env(tmp_path),
            capture_output=True,
            text=True,
        )
        assert r.returncode == 0, r.stderr
        records = [json.loads(line) for line in r.stdout.splitlines()]
        assert len(records) == count and {x["pdi"]["source"]["platform"] for x in records} == {platform}
        assert f"as {platform}" in r.stderr
    r = subprocess.run(
        [*PDI, "map", str(search), "--platform", "arcgis_hub_search"],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "arcgis_hub_search" in r.stderr


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


def _classify(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PDI, "classify", *args], cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, input=stdin
    )


def test_classify_writes_every_line_back_with_its_categories(tmp_path: Path):
    lines = [
        {"id": 1, "title": "Terry Stops", "portal": "data.seattle.gov"},
        {"id": 2, "title": "Parks and Recreation Facilities", "keywords": "parks, recreation"},
        {
            "id": 3,
            "title": "Incident Data",
            "description": "Records of the police department",
            "columns": [{"name": "Force Type", "type": "text"}, "subject_resistance"],
        },
        {"id": 4, "title": "Police Beats", "theme": "Public Safety", "categories": ["stale"]},
        {"id": 5, "title": "Fire Department Calls for Service", "keywords": ["fire", "911"]},
        {"id": 6, "title": "Arrests and Citations", "keywords": ["police"], "note": "Café — 警察"},
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n\n", encoding="utf-8")
    r = _classify(tmp_path, str(src))
    assert r.returncode == 0, r.stderr
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert [o["id"] for o in out] == [1, 2, 3, 4, 5, 6]
    for given, got in zip(lines, out, strict=True):
        assert {k: v for k, v in got.items() if k != "categories"} == {
            k: v for k, v in given.items() if k != "categories"
        }
    assert [o["categories"] for o in out] == [
        ["pedestrian_stops"],
        [],
        ["use_of_force"],
        ["other_policing"],
        [],
        ["arrests", "citations"],
    ]
    assert "classification" not in out[0]
    assert r.stderr.strip().splitlines()[-1] == "classified 6 line(s) from " + str(src) + ": 4 police, 2 not police"


def test_classify_reads_stdin_and_explains(tmp_path: Path):
    r = _classify(tmp_path, "--explain", stdin='{"title": "CMPD Traffic Stops"}\n{"title": "Bus Stops"}\n')
    assert r.returncode == 0, r.stderr
    stops, bus = (json.loads(line) for line in r.stdout.splitlines())
    assert stops["categories"] == ["traffic_stops"]
    detail = stops["classification"]
    assert detail["police_related"] is True
    assert [c["category"] for c in detail["categories"]] == ["traffic_stops"]
    assert 0 < detail["categories"][0]["confidence"] < 1
    assert any("traffic stop" in e for e in detail["categories"][0]["evidence"])
    assert bus["categories"] == [] and bus["classification"]["police_related"] is False


def test_classify_reports_and_skips_bad_lines_and_exits_2(tmp_path: Path):
    text = "\n".join(
        [
            '{"title": "Officer Involved Shootings"}',
            "{not json",
            "[1, 2]",
            '{"title": 5}',
            '{"title": "T", "keywords": [1]}',
            '{"title": "T", "columns": [{"type": "text"}]}',
            '{"name": "has no known field"}',
            '{"title": "Use of Force"}',
        ]
    )
    r = _classify(tmp_path, "-", stdin=text)
    assert r.returncode == 2
    assert [json.loads(line)["categories"] for line in r.stdout.splitlines()] == [
        ["officer_involved_shootings"],
        ["use_of_force"],
    ]
    errors = r.stderr.strip().splitlines()
    assert [e.split(": ")[2] for e in errors[:-1]] == [f"line {n}" for n in (2, 3, 4, 5, 6, 7)]
    assert "not JSON" in errors[0] and "expected a JSON object" in errors[1] and "'title' must be a string" in errors[2]
    assert "'keywords'" in errors[3] and "'columns' item 0" in errors[4] and "none of title" in errors[5]
    assert errors[-1].endswith("6 bad line(s) skipped")


def test_classify_missing_file_is_one_line(tmp_path: Path):
    r = _classify(tmp_path, "nope.jsonl")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip().splitlines() == ["pdi classify: nope.jsonl: no such file"]


def test_map_output_pipes_into_classify(tmp_path: Path):
    sample = reference_dir() / "portal-samples" / "socrata" / "seattle_spd_911_incident_response_views_3k2p-39jp.json"
    mapped = subprocess.run(
        [*PDI, "map", str(sample)], cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True
    )
    assert mapped.returncode == 0, mapped.stderr
    r = _classify(tmp_path, stdin=mapped.stdout)
    assert r.returncode == 0, r.stderr
    record = json.loads(r.stdout)
    assert record["categories"] == [c["category"] for c in record["pdi"]["categories"]] == ["calls_for_service"]


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


@pytest.mark.parametrize(
    ("url", "platform"),
    [
        ("https://www.arcgis.com/sharing/rest/search?q=orgid:1bO0c7PxQdsGidPK", "arcgis_online"),
        ("https://data.baltimorecity.gov", "arcgis_hub_search"),
    ],
)
def test_check_recognises_arcgis_online_and_hub_search_sources(tmp_path: Path, url: str, platform: str):
    from tests.seeds import seed_with_arcgis

    seed_with_arcgis(tmp_path / "seed")
    env = _env(tmp_path, PDI_DEMO_PORT=str(_free_port()), PDI_SEED_DIR=str(tmp_path / "seed" / "jurisdictions"))
    r = subprocess.run(
        [*PDI, "check", url, "--demo", "--json"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout.splitlines()[-1])
    assert result["platform"] == platform and result["url"] == url
    assert result["datasets"] > result["police_related"] > 0


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


def test_coverage_prints_the_matrix_as_text_json_and_csv(tmp_path: Path):
    from datetime import UTC, datetime, timedelta

    from store import Store
    from tests.factories import make_dated_record

    now = datetime.now(UTC)
    store = Store(f"sqlite:///{(tmp_path / 'data' / 'pdi.sqlite').as_posix()}")
    store.create_schema()
    for rec in (
        make_dated_record("a", "Use of Force", last=now - timedelta(days=1), period="R/P1W"),
        make_dated_record("b", "Use of Force Archive", last=now - timedelta(days=30), period="R/P1W"),
    ):
        store.upsert_record(rec, source_url="https://x.invalid", raw_content={}, fetched_at=now, run_id=None)
    store.close()
    env = _env(tmp_path)

    def pdi(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*PDI, "coverage", *args], cwd=tmp_path, env=env, capture_output=True, text=True)

    r = pdi("--jurisdiction", "seattle-wa", "--json")
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    cell = body["jurisdictions"][0]["cells"]["use_of_force"]
    assert cell == {"committed": True, "published": 2, "fresh": 1, "overdue": 0, "delinquent": 1}
    r = pdi("--jurisdiction", "seattle-wa", "--category", "use_of_force", "--csv")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "jurisdiction,name,state,category,committed,published,fresh,overdue,delinquent",
        "seattle-wa,Seattle,WA,use_of_force,yes,2,1,0,1",
    ]
    r = pdi()
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    seattle = next(line for line in lines if line.startswith("seattle-wa "))
    assert seattle.split()[1:7] == ["7", "1", "2", "1", "0", "1"]
    assert "arrests" in seattle.split("missing: ")[1].split(", ")
    assert lines[-1].startswith("coverage: 1 of ") and "2 records: 1 fresh, 0 overdue, 1 delinquent" in lines[-1]
    r = pdi("--jurisdiction", "gotham-nj")
    assert r.returncode == 2 and r.stderr.strip() == (
        "pdi coverage: unknown jurisdiction id(s): gotham-nj (see `pdi seed`)"
    )
    assert pdi("--category", "jaywalking").returncode == 2
