from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
import yaml

from catalog.vocabulary import Category
from catalog_seed import SeedError, default_seed_dir, load_seed
from tests.conftest import REPO, reference_dir


def test_seed_has_all_53_pdi_jurisdictions(seed):
    assert len(seed) == 53
    reference_ids = {r["jurisdiction_id"] for r in csv.DictReader(open(reference_dir() / "pdi_jurisdictions.csv"))}
    assert {j.id for j in seed} == reference_ids


def test_seed_marks_the_original_21(seed):
    originals = {j.id for j in seed if j.in_original_21}
    assert len(originals) == 21
    assert {"seattle-wa", "camden-county-nj", "richmond-ca", "rutland-vt"} <= originals
    assert "denver-co" not in originals


def test_every_jurisdiction_has_portals_or_says_why_not(seed):
    for j in seed:
        assert j.portals or j.no_portal_known, j.id
    oak_creek = seed.get("oak-creek-wi")
    assert oak_creek.portals == [] and "No portal" in oak_creek.no_portal_known


def test_portals_come_from_the_reference_table(seed):
    rows = list(csv.DictReader(open(reference_dir() / "pdi_jurisdictions.csv")))
    expected = {(r["jurisdiction_id"], r["portal_url"]) for r in rows if r["portal_url"]}
    got = {(j.id, p.url) for j in seed for p in j.portals}
    assert got == expected


def test_categories_are_vocabulary_ids(seed):
    austin = seed.get("austin-tx")
    assert Category.USE_OF_FORCE in austin.committed_categories
    assert Category.TRAFFIC_STOPS in austin.committed_categories


def test_sources_are_shared_between_jurisdictions_listing_one_state_portal(seed):
    plans = {p.source_id: p for p in seed.sources()}
    virginia = plans["ckan:data.virginia.gov"]
    assert virginia.scope == "state"
    assert set(virginia.jurisdictions) == {"bedford-va", "danville-va", "hampton-va", "newport-news-va"}
    assert plans["socrata:data.seattle.gov"].jurisdictions == ("seattle-wa",)
    hub = [p for p in plans.values() if p.platform == "dcat_us"]
    assert hub and all(p.url.endswith("/api/feed/dcat-us/1.1.json") for p in hub)


def test_arcgis_server_portals_are_harvested_from_their_rest_services_root(seed):
    rows = list(csv.DictReader(open(reference_dir() / "pdi_jurisdictions.csv")))
    expected = {(r["jurisdiction_id"], r["portal_url"]) for r in rows if r["portal_platform"] == "arcgis_server"}
    plans = [p for p in seed.sources() if p.platform == "arcgis_server"]
    assert len(plans) == len(expected) == 7
    assert {(p.jurisdictions[0], p.url) for p in plans} == expected
    assert all(p.url.endswith("/rest/services") and p.portal_platform == "arcgis_server" for p in plans)
    charlotte = {p.platform for p in seed.sources(only=["charlotte-mecklenburg-nc"])}
    assert charlotte == {"dcat_us", "arcgis_server"}
    for j in seed:
        for portal in j.portals:
            if portal.platform in ("arcgis_server", "opendatasoft"):
                assert portal.sources and portal.not_harvested is None, j.id


def test_seed_script_reads_opendatasoft_and_arcgis_server_portals():
    import importlib.util

    spec = importlib.util.spec_from_file_location("seed_from_reference", REPO / "scripts" / "seed_from_reference.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.sources_for("opendatasoft", "https://burlingtonvt.opendatasoft.com/explore/") == (
        [{"platform": "opendatasoft", "url": "https://burlingtonvt.opendatasoft.com"}],
        None,
    )
    assert script.sources_for("arcgis_server", "https://gis.example.gov/arcgis/rest/services/") == (
        [{"platform": "arcgis_server", "url": "https://gis.example.gov/arcgis/rest/services"}],
        None,
    )
    sources, why = script.sources_for(
        "arcgis_server", "https://gis.example.gov/arcgis/rest/services/CMPD/X/MapServer/0"
    )
    assert sources == [] and why and "rest/services" in why


def test_department_web_pages_are_crawled_from_the_page_itself(seed):
    rows = list(csv.DictReader(open(reference_dir() / "pdi_jurisdictions.csv")))
    expected = {(r["jurisdiction_id"], r["portal_url"]) for r in rows if r["portal_platform"] == "html"}
    plans = [p for p in seed.sources() if p.platform == "html"]
    assert len(plans) == len(expected) == 14
    assert {(p.jurisdictions[0], p.url) for p in plans} == expected
    rutland = seed.sources(only=["rutland-vt"])
    assert [(p.platform, p.url) for p in rutland] == [("html", "http://www.rutlandcitypolice.com/open-data/")]


def test_sources_can_be_limited_to_jurisdictions(seed):
    plans = seed.sources(only=["hampton-va"])
    assert {p.source_id for p in plans} == {"socrata:data.hampton.gov", "ckan:data.virginia.gov"}


@pytest.fixture
def seed_copy(tmp_path: Path) -> Path:
    target = tmp_path / "seed"
    shutil.copytree(default_seed_dir(), target)
    return target


def _edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data))


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda d: d.__setitem__("state", "Texas"), "state", "pattern"),
        (
            lambda d: d["portals"][0]["sources"][0].__setitem__("platform", "sharepoint"),
            "portals[0].sources[0].platform",
            "unknown harvester platform 'sharepoint'",
        ),
        (
            lambda d: d["portals"][0].__setitem__("platform", "geocities"),
            "portals[0].platform",
            "Input should be",
        ),
        (
            lambda d: d.__setitem__("committed_categories", ["jaywalking"]),
            "committed_categories[0]",
            "Input should be",
        ),
        (lambda d: d.__setitem__("mayor", "someone"), "mayor", "Extra inputs"),
        (lambda d: d.pop("agency"), "agency", "Field required"),
        (
            lambda d: d["portals"][0].__setitem__("url", "data.austintexas.gov"),
            "portals[0].url",
            "absolute http",
        ),
        (lambda d: d.__setitem__("id", "austin"), "id", "does not match the file name"),
    ],
)
def test_bad_entry_names_file_and_field(seed_copy: Path, change, field: str, message: str):
    path = seed_copy / "austin-tx.yaml"
    _edit(path, change)
    with pytest.raises(SeedError) as info:
        load_seed(seed_copy)
    text = str(info.value)
    assert str(path) in text
    assert f"field '{field}'" in text
    assert message in text


def test_broken_yaml_is_a_clear_error(seed_copy: Path):
    path = seed_copy / "dallas-tx.yaml"
    path.write_text("id: dallas-tx\nname: [unclosed\n")
    with pytest.raises(SeedError, match="dallas-tx.yaml: not valid YAML"):
        load_seed(seed_copy)


def test_missing_seed_directory(tmp_path: Path):
    with pytest.raises(SeedError, match="seed directory not found"):
        load_seed(tmp_path / "nope")


def test_seed_with_data_json_script_adds_each_socrata_portals_data_json(tmp_path):
    import subprocess
    import sys

    def script(target: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own script
            [sys.executable, str(REPO / "scripts" / "seed_with_data_json.py"), str(target)],
            cwd=REPO,
            capture_output=True,
            text=True,
            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        )

    run = script(tmp_path / "seed")
    assert run.returncode == 0, run.stderr
    bundled = load_seed().sources()
    added = [p for p in load_seed(tmp_path / "seed").sources() if p.source_id not in {b.source_id for b in bundled}]
    assert {p.portal_url for p in added} == {p.portal_url for p in bundled if p.platform == "socrata"}
    assert all(p.platform == "dcat_us" and p.url == f"{p.portal_url.rstrip('/')}/data.json" for p in added)
    assert f"{len(added)} Socrata data.json sources added" in run.stdout
    again = script(tmp_path / "seed")
    assert again.returncode == 2 and "exists" in again.stderr
