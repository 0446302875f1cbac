"""Department web pages: the mapping of crawl items, the golden crawl, and gathers over the simulator.

No recorded crawl of a real department page exists in ``reference/portal-samples``; the golden
sample is ``tests/fixtures/html/*.jsonl``, a crawl of the simulator's Rutland page saved as the
crawl wrote it. Regenerate its golden with ``PDI_UPDATE_GOLDEN=1 pytest <this file>``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

from catalog.dcat import dataset_errors
from catalog.ids import source_id
from harvesters import registry
from harvesters.base import GatherError, GatherStats, RawRecord, SourceContext
from harvesters.detect import detect_platform
from harvesters.html import humanised_file_name, link_title, page_date
from harvesters.html_crawl import CrawlOptions, find_date, is_dataset_link, retry_wait
from harvesters.http import HttpClient, HttpSettings
from simulator import PortalSimulator
from simulator.platforms.html import HIDDEN_FILE
from simulator.server import route_url

HARVESTER = registry.get("html")
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "html"
GOLDEN = Path(__file__).resolve().parent / "golden" / "html"
UPDATE = os.environ.get("PDI_UPDATE_GOLDEN") == "1"
FETCHED_AT = datetime(2024, 1, 1, tzinfo=UTC)
HOST = "www.rutlandcitypolice.com"
PAGE = f"http://{HOST}/open-data/"


def _source(url: str = PAGE) -> SourceContext:
    return SourceContext(
        source_id=source_id("html", url), platform="html", url=url, portal_url=url, jurisdictions=("rutland-vt",)
    )


def _item(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "url": f"http://{HOST}/app/download/5136856/MotorVehicleStop.xlsx",
        "title": "Download",
        "page": PAGE,
        "page_title": "Open Data | Rutland City Police Department",
        "heading": "Motor Vehicle Stops",
        "context": "Motor vehicle stops, 2012 to present. Download",
        "date": None,
        "file_type": "xlsx",
        "depth": 0,
    }
    return {**base, **fields}


def _map(item: dict[str, Any]) -> dict[str, Any]:
    record = HARVESTER.map_record(RawRecord(item["url"], item["page"], FETCHED_AT, item), _source())
    dcat = record.to_dcat()
    assert dataset_errors(dcat) == [], dcat
    return dcat


# --------------------------------------------------------------------------------------------------
# the mapping
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Use of Force Report 2019 (PDF)", "Use of Force Report 2019"),
        ("Use of Force Report 2019 (PDF, 2 MB)", "Use of Force Report 2019"),
        ("Officer-Involved Shootings 2015-2023.xlsx", "Officer-Involved Shootings 2015-2023"),
        ("Calls for Service - Updated 03/2024 (CSV)", "Calls for Service"),
        ("Download the Traffic Stops data [XLSX]", "Traffic Stops data"),
        ("Annual Budget FY2024 - 1.4 MB", "Annual Budget FY2024"),
        ("Download", "Motor Vehicle Stop"),
        ("", "Motor Vehicle Stop"),
    ],
)
def test_titles_are_cleaned_link_texts(text: str, title: str) -> None:
    assert link_title(text, f"http://{HOST}/app/download/5136856/MotorVehicleStop.xlsx") == title


def test_file_names_are_humanised() -> None:
    url = f"http://{HOST}/app/download/5136813/ResponseToResistance+2015-2017.xls"
    assert humanised_file_name(url) == "Response To Resistance 2015-2017"
    assert humanised_file_name("https://x.gov/files/use_of_force-report.pdf") == "Use of force report"


@pytest.mark.parametrize(
    ("text", "found", "modified"),
    [
        ("Use of Force Report 2019 (PDF)", "2019", "2019"),
        ("Calls for Service - Updated 03/2024 (CSV)", "03/2024", "2024-03"),
        ("Stops (posted March 3, 2024) 2019", "March 3, 2024", "2024-03-03"),
        ("Crime Reports [XLS] (updated 2026-10-27)", "2026-10-27", "2026-10-27"),
        ("Officer-Involved Shootings 2015-2023.xlsx", "2015-2023", "2023"),
        ("Budget FY2024 page 12", None, None),
    ],
)
def test_dates_beside_links(text: str, found: str | None, modified: str | None) -> None:
    assert find_date(text) == found
    assert page_date(found) == modified


def test_a_link_maps_to_a_valid_record_with_its_file_and_page() -> None:
    dcat = _map(_item())
    assert dcat["title"] == "Motor Vehicle Stop"
    assert dcat["identifier"] == f"http://{HOST}/app/download/5136856/MotorVehicleStop.xlsx"
    assert dcat["landingPage"] == PAGE
    assert dcat["publisher"]["name"] == HOST
    assert dcat["keyword"] == ["Motor Vehicle Stops"]
    assert dcat["description"] == (
        "Published on Open Data | Rutland City Police Department: Motor Vehicle Stops. "
        "Motor vehicle stops, 2012 to present. Download"
    )
    (dist,) = dcat["distribution"]
    assert dist["downloadURL"] == dcat["identifier"]
    assert dist["mediaType"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "modified" not in dcat


@pytest.mark.parametrize(
    ("url", "file_type", "media"),
    [
        ("https://x.gov/f/a.csv", "csv", "text/csv"),
        ("https://x.gov/f/a.xls", "xls", "application/vnd.ms-excel"),
        ("https://x.gov/f/a.pdf", "pdf", "application/pdf"),
        ("https://x.gov/f/a.geojson", "geojson", "application/geo+json"),
        ("https://x.gov/f/a.zip", "zip", "application/zip"),
        ("https://x.gov/DocumentCenter/View/1234", "csv", "text/csv"),  # "Download (CSV)"
    ],
)
def test_media_types_from_extension_or_named_format(url: str, file_type: str, media: str) -> None:
    dcat = _map(_item(url=url, file_type=file_type, title="Download (CSV)"))
    assert dcat["distribution"][0]["mediaType"] == media


def test_dates_fill_modified_temporal_and_freshness() -> None:
    record = HARVESTER.map_record(
        RawRecord("u", PAGE, FETCHED_AT, _item(title="OIS 2015-2023.xlsx", date="2015-2023")), _source()
    )
    dcat = record.to_dcat()
    assert dataset_errors(dcat) == []
    assert dcat["modified"] == "2023" and dcat["temporal"] == "2015/2023"
    assert record.pdi.freshness.last_data_update == datetime(2023, 1, 1, tzinfo=UTC)
    assert _map(_item(date="03/2024"))["modified"] == "2024-03"


def test_hostile_link_text_is_plain_text() -> None:
    dcat = _map(_item(title="Crime Data <script>alert(1)</script> - Updated 10/2026 (XLSX)"))
    assert dcat["title"] == "Crime Data"


def test_what_counts_as_a_dataset_link() -> None:
    assert is_dataset_link("https://x.gov/a/report.PDF", "Report")
    assert is_dataset_link("https://x.gov/DocumentCenter/View/12", "Download")
    assert is_dataset_link("https://x.gov/DocumentCenter/View/12", "Stops data (CSV)")
    assert not is_dataset_link("https://x.gov/open-data/", "Open Data")
    assert not is_dataset_link("https://x.gov/logo.png", "Download our logo")


def _fixtures() -> list[str]:
    return sorted(p.name for p in FIXTURES.glob("*.jsonl"))


@pytest.mark.parametrize("name", _fixtures())
def test_recorded_crawl_maps_to_its_golden_records(name: str) -> None:
    document = [json.loads(line) for line in (FIXTURES / name).read_text("utf-8").splitlines() if line.strip()]
    assert detect_platform(document) == "html"
    raws = list(HARVESTER.split_document(document, f"tests/fixtures/html/{name}", FETCHED_AT))
    assert len(raws) == len({item["url"] for item in document})
    actual = []
    for raw in raws:
        dcat = HARVESTER.map_record(raw, _source()).to_dcat()
        assert dataset_errors(dcat) == [], raw.remote_id
        actual.append(json.loads(json.dumps(dcat, sort_keys=True, ensure_ascii=False)))
    golden = GOLDEN / name
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text("".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in actual), "utf-8")
    expected = [json.loads(line) for line in golden.read_text("utf-8").splitlines() if line.strip()]
    assert actual == expected


# --------------------------------------------------------------------------------------------------
# gathering over the portal simulator
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sim() -> Iterator[PortalSimulator]:
    with PortalSimulator(seed_number=2015) as s:
        yield s


def _http(sim: PortalSimulator, **settings: Any) -> HttpClient:
    options: dict[str, Any] = {"timeout_s": 5.0, "max_retries": 1, "backoff_base_s": 0.0, **settings}
    return HttpClient(HttpSettings(**options), route=sim.route, sleep=lambda _s: None)


def _gather(
    sim: PortalSimulator, url: str = PAGE, http: HttpClient | None = None
) -> tuple[list[RawRecord], GatherStats]:
    stats = GatherStats()
    return list(HARVESTER.gather(_source(url), http or _http(sim), stats)), stats


def test_gather_finds_every_link_once_keyed_by_the_real_host(sim: PortalSimulator) -> None:
    sim.clear_request_log()
    records, stats = _gather(sim)
    truth = {d.remote_id: d for d in sim.datasets(HOST)}
    ids = [r.remote_id for r in records]
    assert len(ids) == len(set(ids)) and set(ids) == set(truth)
    assert stats.complete and stats.pages == 2 and stats.total == len(truth)
    assert all(r.remote_id.startswith(f"http://{HOST}/open-data/") for r in records)
    assert {r.content["page"] for r in records} == {PAGE, PAGE + "earlier-releases/"}
    assert not any(HIDDEN_FILE in r.remote_id for r in records)
    assert sim.request_count(HOST, "staff-only") == 0  # robots.txt disallows it
    assert sim.request_count(HOST, "/robots.txt") == 1
    for record in records:
        dcat = HARVESTER.map_record(record, _source()).to_dcat()
        assert dataset_errors(dcat) == []
        truth_title = truth[record.remote_id].title.split(" <", 1)[0]
        assert dcat["title"] == truth_title or dcat["title"].lower() == truth_title.lower(), record.content
    assert any("<script>" in r.content["title"] for r in records)  # served escaped, read back as text


def test_gather_of_another_page_shape(sim: PortalSimulator) -> None:
    url = "https://www.bedfordva.gov/1177/Police-Data"
    records, stats = _gather(sim, url)
    assert {r.remote_id for r in records} == {d.remote_id for d in sim.datasets("www.bedfordva.gov")}
    assert all(r.remote_id.startswith("https://www.bedfordva.gov/1177/files/") for r in records)


def test_a_start_page_answering_500_fails_the_gather(sim: PortalSimulator) -> None:
    sim.inject(HOST, "500")
    try:
        with pytest.raises(GatherError, match="HTTP 500"):
            _gather(sim)
    finally:
        sim.clear_faults()


def test_an_empty_page_is_a_complete_gather_of_nothing() -> None:
    with PortalSimulator(seed_number=2015) as empty:
        for ds in empty.datasets(HOST):
            empty.remove_dataset(HOST, ds.remote_id)
        records, stats = _gather(empty)
    assert records == [] and stats.complete


def test_a_page_nobody_answers_fails_the_gather() -> None:
    with PortalSimulator(seed_number=2015) as gone:
        base = gone.base_url
    http = HttpClient(HttpSettings(timeout_s=2.0, max_retries=0), route=lambda url: route_url(base, url))
    with pytest.raises(GatherError, match="start page"):
        list(HARVESTER.gather(_source(), http, GatherStats()))


# --------------------------------------------------------------------------------------------------
# the crawl in the run's HTTP statistics; Retry-After and backoff
# --------------------------------------------------------------------------------------------------

SUBPAGE = "earlier-releases"


def test_the_crawls_requests_count_under_the_real_host(sim: PortalSimulator) -> None:
    sim.clear_request_log()
    http = _http(sim)
    _records, stats = _gather(sim, http=http)
    sent = sim.request_count(HOST)
    assert sent == 3 and sim.request_count(HOST, "/robots.txt") == 1  # robots.txt, the page, the one below
    assert dict(http.stats.requests) == {HOST: sent}  # the portal's host, never the simulator's
    assert stats.requests == sent and stats.pages == 2
    assert http.stats.bytes[HOST] > 0
    assert HOST not in http.stats.retries and HOST not in http.stats.refused_oversize


def test_a_429_holds_the_host_for_its_retry_after_then_the_crawl_succeeds(sim: PortalSimulator) -> None:
    sim.clear_request_log()
    sim.inject(HOST, "429", count=1, path_contains=SUBPAGE)  # the simulator sends Retry-After: 1
    http = _http(sim)
    try:
        records, stats = _gather(sim, http=http)
    finally:
        sim.clear_faults()
    throttled, retried = sim.requests(HOST, SUBPAGE)
    assert (throttled.status, retried.status) == (429, 200)
    assert retried.at - throttled.at >= 1.0
    assert stats.complete and {r.content["page"] for r in records} == {PAGE, f"{PAGE}{SUBPAGE}/"}
    assert http.stats.retries[HOST] == 1
    assert http.stats.requests[HOST] == sim.request_count(HOST) == 4 == stats.requests


def test_retry_after_is_capped_by_the_settings(sim: PortalSimulator) -> None:
    sim.clear_request_log()
    sim.inject(HOST, "429", count=1, path_contains=SUBPAGE)
    try:
        _records, stats = _gather(sim, http=_http(sim, retry_after_max_s=0.1))
    finally:
        sim.clear_faults()
    throttled, retried = sim.requests(HOST, SUBPAGE)
    assert stats.complete and retried.status == 200
    assert 0.1 <= retried.at - throttled.at < 1.0  # held for the cap, not the 1 s asked for


def test_a_500_without_retry_after_is_retried_after_a_backoff(sim: PortalSimulator) -> None:
    sim.clear_request_log()
    sim.inject(HOST, "500", count=1, path_contains=SUBPAGE)
    http = _http(sim, backoff_base_s=0.6)
    try:
        _records, stats = _gather(sim, http=http)
    finally:
        sim.clear_faults()
    failed, retried = sim.requests(HOST, SUBPAGE)
    assert (failed.status, retried.status) == (500, 200)
    assert retried.at - failed.at >= 0.3  # the first backoff: half to all of backoff_base_s
    assert stats.complete and http.stats.retries[HOST] == 1


def test_retries_run_out_and_fail_the_gather_with_every_request_counted(sim: PortalSimulator) -> None:
    sim.clear_request_log()
    sim.inject(HOST, "429", count=2, path_contains=SUBPAGE)
    http = _http(sim, retry_after_max_s=0.0)
    try:
        with pytest.raises(GatherError, match="HTTP 429"):
            _gather(sim, http=http)
    finally:
        sim.clear_faults()
    assert sim.request_count(HOST, SUBPAGE) == 2  # the request and its one retry
    assert http.stats.requests[HOST] == sim.request_count(HOST) and http.stats.retries[HOST] == 1


def test_a_page_over_the_size_cap_is_counted_as_refused(sim: PortalSimulator) -> None:
    sim.clear_request_log()
    sim.inject(HOST, "oversize", count=1, path_contains=SUBPAGE)
    http = _http(sim, max_body_bytes=200_000)
    try:
        with pytest.raises(GatherError, match="could not be read"):
            _gather(sim, http=http)
    finally:
        sim.clear_faults()
    assert http.stats.refused_oversize[HOST] == 1
    assert http.stats.requests[HOST] == sim.request_count(HOST) == 3


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", 7.0),
        ("600", 30.0),  # capped
        (formatdate(time.time() + 3600, usegmt=True), 30.0),  # an HTTP date, capped
        (formatdate(time.time() - 60, usegmt=True), 0.0),  # a date already past
    ],
)
def test_retry_wait_reads_retry_after_in_seconds_or_as_a_date(header: str, expected: float) -> None:
    assert retry_wait(header, 0, CrawlOptions(retry_after_max_s=30.0)) == expected


def test_retry_wait_backs_off_without_a_usable_retry_after() -> None:
    options = CrawlOptions(backoff_base_s=1.0, backoff_max_s=3.0)
    for header in (None, "soon"):
        assert 0.5 <= retry_wait(header, 0, options) <= 1.0
        assert 1.0 <= retry_wait(header, 1, options) <= 2.0
        assert 1.5 <= retry_wait(header, 5, options) <= 3.0  # capped at backoff_max_s


# --------------------------------------------------------------------------------------------------
# the shared crawl process (harvesters/crawl_worker.py, html_crawl --serve)
# --------------------------------------------------------------------------------------------------


def _crawl_options(sim: PortalSimulator, url: str = PAGE, **options: Any) -> dict[str, Any]:
    site = url.split("/", 3)
    real_site = f"{site[0]}//{site[2]}"
    return {"crawled_site": sim.route(real_site + "/").rstrip("/"), "reported_site": real_site, **options}


def test_gathers_at_once_share_one_crawl_process_and_each_gets_its_own_links(sim: PortalSimulator) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from harvesters.crawl_worker import WORKER

    bedford = "https://www.bedfordva.gov/1177/Police-Data"
    started = WORKER.started
    alone = {url: {r.remote_id for r in _gather(sim, url)[0]} for url in (PAGE, bedford)}
    pid = WORKER.pid
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda url: {r.remote_id for r in _gather(sim, url)[0]}, [PAGE, bedford] * 2))
    assert together == [alone[PAGE], alone[bedford]] * 2
    assert alone[PAGE] and alone[bedford] and not alone[PAGE] & alone[bedford]
    assert WORKER.pid == pid is not None and WORKER.started <= started + 1  # one process for all six


def test_a_crawl_past_its_time_limit_is_cancelled_and_a_crawl_beside_it_is_sent_again(
    sim: PortalSimulator, tmp_path: Path
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from harvesters.crawl_worker import CANCEL_GRACE_S, CrawlWorker

    bedford = "https://www.bedfordva.gov/1177/Police-Data"
    worker = CrawlWorker()
    try:
        sim.inject(HOST, "timeout", path_contains="open-data")  # this page answers after 35 s
        sim.inject("www.bedfordva.gov", "timeout", count=1, path_contains="Police-Data")  # once
        began = time.monotonic()
        with ThreadPoolExecutor(2) as pool:
            slow = pool.submit(
                worker.crawl, sim.route(PAGE), str(tmp_path / "a.jsonl"), _crawl_options(sim, timeout_s=60), 1.0
            )
            time.sleep(0.5)
            beside = pool.submit(
                worker.crawl,
                sim.route(bedford),
                str(tmp_path / "b.jsonl"),
                _crawl_options(sim, bedford, timeout_s=60),
                60.0,
            )
            late, other = slow.result(), beside.result()
        assert late.status == 1 and "did not finish within 1 s" in (late.message or "")
        # the page never answering, its process was killed after the grace; the crawl beside it,
        # stuck on its own page, went to a new process, where that page answered
        assert other.status == 0 and other.summary["items"] == len((tmp_path / "b.jsonl").read_text().splitlines()) > 0
        assert worker.started == 2
        assert time.monotonic() - began < 1 + 2 * CANCEL_GRACE_S + 10  # nobody waited the 35 s out
    finally:
        sim.clear_faults()
        worker.close()


def test_a_crawl_process_that_dies_fails_its_crawl_and_the_next_crawl_starts_another(
    sim: PortalSimulator, tmp_path: Path
) -> None:
    import signal
    import threading

    from harvesters.crawl_worker import CrawlWorker

    worker = CrawlWorker()
    try:
        sim.inject(HOST, "timeout", path_contains="open-data")
        result: list[Any] = []
        crawling = threading.Thread(
            target=lambda: result.append(
                worker.crawl(sim.route(PAGE), str(tmp_path / "a.jsonl"), _crawl_options(sim, timeout_s=60), 60.0)
            )
        )
        crawling.start()
        deadline = time.monotonic() + 10
        while worker.pid is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # the crawl is waiting on the page
        first = worker.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        crawling.join(15)
        assert not crawling.is_alive()
        assert result[0].status == 1 and "crawl process ended (exit status -9" in result[0].message
        sim.clear_faults()
        again = worker.crawl(sim.route(PAGE), str(tmp_path / "b.jsonl"), _crawl_options(sim), 30.0)
        assert again.status == 0 and worker.started == 2 and worker.pid != first
    finally:
        sim.clear_faults()
        worker.close()


def test_the_crawl_process_answers_a_bad_job_and_ends_when_its_input_does(tmp_path: Path) -> None:
    import subprocess
    import sys

    jobs = "\n".join(
        [
            "not json",
            json.dumps({"id": 1, "url": "http://127.0.0.1:9/x"}),  # no out path
            json.dumps({"id": 2, "url": "http://127.0.0.1:9/x", "out": str(tmp_path / "o.jsonl"), "options": {"x": 1}}),
        ]
    )
    done = subprocess.run(
        [sys.executable, "-m", "harvesters.html_crawl", "--serve"],
        input=jobs + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    replies = [json.loads(line) for line in done.stdout.splitlines()]
    assert done.returncode == 0
    assert [(r["id"], r["status"]) for r in replies] == [(None, 1), (1, 1), (2, 1)]
    assert "not JSON" in replies[0]["message"]
    assert "'out'" in replies[1]["message"] and "unknown crawl options: x" in replies[2]["message"]


def test_the_idle_crawl_process_is_told_to_end(sim: PortalSimulator, tmp_path: Path) -> None:
    from harvesters.crawl_worker import CrawlWorker

    worker = CrawlWorker(idle_s=0.5)
    try:
        done = worker.crawl(sim.route(PAGE), str(tmp_path / "a.jsonl"), _crawl_options(sim), 30.0)
        assert done.status == 0 and worker.pid is not None
        deadline = time.monotonic() + 10
        while worker.pid is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert worker.pid is None
        again = worker.crawl(sim.route(PAGE), str(tmp_path / "b.jsonl"), _crawl_options(sim), 30.0)
        assert again.status == 0 and worker.started == 2
    finally:
        worker.close()
