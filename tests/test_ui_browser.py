"""The web UI in a real browser.

Debian's chromium, driven through Debian's matching chromedriver with Selenium (``scripts/chromium``
installs both; test tools' own browser downloads cannot work offline), loads the pages from a real
server — uvicorn on an ephemeral loopback port — over a catalog harvested from the portal simulator
over HTTP. Screenshots of every page are kept in ``test-artifacts/screenshots/`` (gitignored); their
paths are printed at the end of the module.

Without a browser these tests skip, saying how to get one — except under CI, where they fail.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from catalog.ids import record_id
from harvesters.http import HttpClient, HttpSettings
from pdi.runtime import jurisdiction_lookup
from scheduler.run import HarvestRun
from simulator.server import PortalSimulator
from simulator.vocab import column
from tests.conftest import REPO

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

SHOTS = REPO / "test-artifacts" / "screenshots"
SUBSET = ["seattle-wa", "atlanta-ga", "austin-tx", "hampton-va"]
SEATTLE = "data.seattle.gov"
SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=1">'
HOSTILE_TITLE = f"Use of Force Quokka Audit {IMG}"
# Raw tags are dropped by the mapping (harvesters/convert.py plain_text); the entity-encoded ones
# become literal "<script>…" and "<img …>" text in the stored description, which the page must show
# as text.
HOSTILE_DESCRIPTION = (
    f"Audit of use of force reports. {SCRIPT}{IMG} "
    "&lt;script&gt;window.__pwned=1&lt;/script&gt; &lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;"
)
NEW_COLUMN = "Body Camera Used"


def _browser_paths() -> tuple[str, str]:
    browser = os.environ.get("PDI_TEST_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    driver = os.environ.get("PDI_TEST_CHROMEDRIVER") or shutil.which("chromedriver")
    if driver is None and Path("/usr/lib/chromium/chromedriver").exists():
        driver = "/usr/lib/chromium/chromedriver"
    if not browser or not driver:
        message = "no chromium/chromedriver: run scripts/chromium (installs Debian's chromium and chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests: {message}")
        pytest.skip(message)
    return browser, driver


class _Server:
    """The API app served by uvicorn in a thread, on a loopback port the OS picks."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()


class Site:
    def __init__(self, url: str, seed: Any, hostile_id: str, changed_id: str, failing_source: str) -> None:
        self.url, self.seed = url, seed
        self.hostile_id, self.changed_id, self.failing_source = hostile_id, changed_id, failing_source


@pytest.fixture(scope="module")
def site(tmp_path_factory, seed) -> Iterator[Site]:
    from api.app import create_app
    from index.sqlite_fts import SqliteFtsIndex
    from pdi.settings import load_settings
    from store import Store

    data = tmp_path_factory.mktemp("ui-browser")
    settings = load_settings(data_dir=data)
    store = Store(settings.store_url)
    store.create_schema()
    index = SqliteFtsIndex(settings.index_path)
    lookup = jurisdiction_lookup(seed)
    http = HttpSettings(timeout_s=5.0, max_retries=1, backoff_base_s=0.01)
    plans = seed.sources(only=SUBSET)
    failing = next(p for p in plans if p.source_id.startswith("dcat_us:opendata.atlantapd.org"))
    with PortalSimulator(seed, seed_number=9, datasets_per_portal=(40, 60)) as sim:
        hostile = sim.add_dataset(
            SEATTLE,
            title=HOSTILE_TITLE,
            categories=["use_of_force"],
            description=HOSTILE_DESCRIPTION,
            columns=["Incident Number", "Force Type:text", "Occurred Date:calendar_date"],
        )
        HarvestRun(store, index, lookup, HttpClient(http, route=sim.route)).run(plans, trigger="test")
        # a column change for the history, and a failing source for the harvest page
        police = next(d for d in sim.datasets(SEATTLE) if d.police and len(d.columns) > 2 and d.remote_id != hostile)
        sim.update_dataset(SEATTLE, police.remote_id, columns=[*police.columns[1:], column(f"{NEW_COLUMN}:checkbox")])
        sim.inject(urlsplit(failing.url).hostname or "", "500")
        HarvestRun(store, index, lookup, HttpClient(http, route=sim.route)).run(plans, trigger="test")
    app = create_app(settings, store, index, seed)
    with _Server(app) as server:
        yield Site(
            server.url,
            seed,
            hostile_id=record_id(f"socrata:{SEATTLE}", hostile),
            changed_id=record_id(f"socrata:{SEATTLE}", police.remote_id),
            failing_source=failing.source_id,
        )
    index.close()
    store.close()


def _options(javascript: bool = True) -> Any:
    browser, _ = _browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1366,1600",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-extensions",
        "--lang=en-US",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    return options


def _driver(javascript: bool = True) -> Any:
    from selenium.webdriver.chrome.service import Service

    _, chromedriver = _browser_paths()
    # An explicit driver path: Selenium Manager (which would download one) is never asked.
    driver = webdriver.Chrome(service=Service(chromedriver), options=_options(javascript))
    driver.implicitly_wait(5)
    driver.set_page_load_timeout(30)
    return driver


SHOT_PATHS: list[Path] = []


@pytest.fixture(scope="module")
def browser(request, site) -> Iterator[Any]:
    _browser_paths()
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver = _driver()
    yield driver
    driver.quit()
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None and SHOT_PATHS:
        with capture.global_and_fixture_disabled():  # printed past pytest's output capture
            reporter.write_line("")
            reporter.write_line(f"web UI screenshots ({len(SHOT_PATHS)}):")
            for path in SHOT_PATHS:
                reporter.write_line(f"  {path.relative_to(REPO)}")


def shot(driver: Any, name: str) -> Path:
    """A screenshot of the whole page (not only the window), through Chrome's DevTools protocol."""
    path = SHOTS / f"{name}.png"
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 10_000), "scale": 1}
    data = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )["data"]
    path.write_bytes(base64.b64decode(data))
    if path not in SHOT_PATHS:
        SHOT_PATHS.append(path)
    return path


def click_and_wait(driver: Any, element: Any) -> None:
    """Follow a link or submit, and wait until the next page has replaced this one."""
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 20).until(EC.staleness_of(old))
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")


def count(driver: Any) -> int:
    return int(driver.find_element(By.ID, "result-count").get_attribute("data-total"))


def console_problems(driver: Any) -> list[str]:
    """Errors the page logged: a blocked script or style (CSP), a failed load, a script error."""
    try:
        entries = driver.get_log("browser")
    except WebDriverException:
        return []
    return [e["message"] for e in entries if e["level"] == "SEVERE"]


def visible_text(driver: Any, css: str) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, css).text)


def test_search_then_a_facet_narrows_the_results(site, browser):
    browser.get(site.url + "/")
    assert browser.title.startswith("Search")
    everything = count(browser)
    assert everything > 50
    box = browser.find_element(By.ID, "q")
    assert browser.find_element(By.CSS_SELECTOR, "label[for=q]").text
    box.send_keys("police")
    old = browser.find_element(By.TAG_NAME, "html")
    box.send_keys(Keys.ENTER)
    WebDriverWait(browser, 20).until(EC.staleness_of(old))
    assert "q=police" in browser.current_url
    searched = count(browser)
    assert 0 < searched <= everything
    assert len(browser.find_elements(By.CSS_SELECTOR, "li.result")) == min(20, searched)
    shot(browser, "01-search")

    facet = browser.find_elements(By.CSS_SELECTOR, "#facet-category a[data-value]:not(.active)")
    assert facet, "no category facet to click"
    pick = next(a for a in facet if int(a.find_element(By.CSS_SELECTOR, ".count").text) < searched)
    value = pick.get_attribute("data-value")
    expected = int(pick.find_element(By.CSS_SELECTOR, ".count").text)
    click_and_wait(browser, pick)
    assert f"category={value}" in browser.current_url and "q=police" in browser.current_url
    assert count(browser) == expected < searched
    active = browser.find_element(By.CSS_SELECTOR, f'#facet-category a.active[data-value="{value}"]')
    assert active.get_attribute("aria-current") == "true"
    for result in browser.find_elements(By.CSS_SELECTOR, "li.result")[:5]:
        assert result.find_elements(By.CSS_SELECTOR, ".tag"), "a result without its categories"
    shot(browser, "02-search-facet")

    # and the chip removes the filter again
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "ul.chips li:first-child a"))
    assert count(browser) == searched
    assert console_problems(browser) == []


def test_paging_and_the_order_choice(site, browser):
    browser.get(site.url + "/?q=police")
    first = [e.get_attribute("data-id") for e in browser.find_elements(By.CSS_SELECTOR, "li.result")]
    click_and_wait(browser, browser.find_element(By.ID, "next-page"))
    assert "cursor=" in browser.current_url and "page=2" in browser.current_url
    second = [e.get_attribute("data-id") for e in browser.find_elements(By.CSS_SELECTOR, "li.result")]
    assert second and not set(first) & set(second)
    assert "Showing 21–" in visible_text(browser, "p.range")
    # our script (allowed by the CSP) runs the search when the order changes
    old = browser.find_element(By.TAG_NAME, "html")
    Select(browser.find_element(By.ID, "sort")).select_by_value("modified")
    WebDriverWait(browser, 20).until(EC.staleness_of(old))
    assert "sort=modified" in browser.current_url and "cursor" not in browser.current_url
    assert "modified_after=" not in browser.current_url  # empty fields left out of the URL
    assert console_problems(browser) == []


def test_search_works_without_javascript(site):
    driver = _driver(javascript=False)
    try:
        driver.get(site.url + "/")
        assert "js" not in (driver.find_element(By.TAG_NAME, "html").get_attribute("class") or "")  # ui.js is off
        driver.find_element(By.ID, "q").send_keys("use of force")
        Select(driver.find_element(By.ID, "sort")).select_by_value("modified")
        click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.search button[type=submit]"))
        assert "q=use+of+force" in driver.current_url and "sort=modified" in driver.current_url
        assert count(driver) > 0
        link = driver.find_element(By.CSS_SELECTOR, "#facet-jurisdiction a[data-value]")
        click_and_wait(driver, link)
        assert "jurisdiction=" in driver.current_url
        shot(driver, "03-search-without-javascript")
    finally:
        driver.quit()


def test_dataset_page_has_json_ld_columns_and_its_schema_change(site, browser):
    browser.get(site.url + "/?q=police&jurisdiction=seattle-wa")
    link = browser.find_element(By.CSS_SELECTOR, "li.result h3 a")
    title = link.text
    click_and_wait(browser, link)
    assert "/datasets/" in browser.current_url
    assert visible_text(browser, "h1") == title

    browser.get(f"{site.url}/datasets/{site.changed_id}")
    title = visible_text(browser, "h1")
    raw = browser.execute_script("return document.getElementById('jsonld').textContent")
    data = json.loads(raw)
    assert data["@type"] == "Dataset" and data["name"] == title
    assert data["url"] == f"{site.url}/datasets/{site.changed_id}"
    assert {"@type": "Place", "name": "Seattle, WA"} in data["spatialCoverage"]
    assert all(d["contentUrl"].startswith(("http://", "https://")) for d in data["distribution"])
    names = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#columns tbody th")]
    assert NEW_COLUMN in names and len(names) > 2
    assert [v["name"] for v in data["variableMeasured"]] == names
    change = visible_text(browser, "#history tbody tr:first-child td.schema-change")
    assert f"added: {column(NEW_COLUMN).field_name}" in change and "removed:" in change
    assert "columns last changed" in visible_text(browser, "main")
    assert visible_text(browser, "#freshness")
    shot(browser, "04-dataset")
    assert console_problems(browser) == []


def test_hostile_portal_text_is_shown_as_text_and_never_runs(site, browser):
    browser.get(site.url + "/?q=quokka")
    assert count(browser) == 1
    result = browser.find_element(By.CSS_SELECTOR, "li.result h3 a")
    assert result.text == HOSTILE_TITLE
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    click_and_wait(browser, result)
    assert browser.current_url.endswith(f"/datasets/{site.hostile_id}")
    assert visible_text(browser, "h1") == HOSTILE_TITLE
    description = visible_text(browser, "#description")
    assert SCRIPT in description and '<img src=x onerror="window.__pwned=1">' in description
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    assert browser.find_elements(By.CSS_SELECTOR, "main img, main script, head img") == []
    scripts = browser.execute_script(
        "return Array.from(document.scripts).map(s => s.getAttribute('src') || s.getAttribute('type'))"
    )
    assert sorted(scripts) == ["/static/ui.js", "application/ld+json"]
    data = json.loads(browser.execute_script("return document.getElementById('jsonld').textContent"))
    assert data["name"] == HOSTILE_TITLE and SCRIPT in data["description"]
    shot(browser, "05-dataset-hostile-text")
    assert console_problems(browser) == []


def test_jurisdiction_page(site, browser):
    browser.get(site.url + "/")
    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Jurisdictions"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#jurisdictions tbody tr")
    assert len(rows) == len(site.seed) == 53
    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Seattle, WA"))
    assert visible_text(browser, "h1") == "Seattle, WA"
    portals = visible_text(browser, "#portals")
    assert "socrata:data.seattle.gov" in portals and "succeeded" in portals
    seattle = site.seed.get("seattle-wa")
    categories = {r.get_attribute("data-category"): r for r in browser.find_elements(By.CSS_SELECTOR, "#categories tr")}
    assert {c.value for c in seattle.committed_categories} <= set(categories)
    published = [r for r in categories.values() if r.find_elements(By.CSS_SELECTOR, "td a")]
    assert published, "no published category"
    shot(browser, "06-jurisdiction")
    link = published[0].find_element(By.CSS_SELECTOR, "td a")
    expected = int(link.text)
    click_and_wait(browser, link)
    assert "jurisdiction=seattle-wa" in browser.current_url and count(browser) == expected
    assert console_problems(browser) == []


def test_harvest_status_page(site, browser):
    browser.get(site.url + "/")
    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Harvests"))
    runs = browser.find_elements(By.CSS_SELECTOR, "#runs tbody tr")
    assert len(runs) == 2
    assert "partial" in runs[0].text and "succeeded" in runs[1].text
    assert site.failing_source in visible_text(browser, "#failing")
    detail = browser.find_element(By.CSS_SELECTOR, "details.run-detail[open]")
    errors = detail.find_elements(By.CSS_SELECTOR, "table.errors tbody tr")
    assert errors and "gather" in errors[0].text and site.failing_source in errors[0].text
    sources = browser.find_elements(By.CSS_SELECTOR, "#sources tbody tr")
    assert len(sources) == len(site.seed.sources())
    shot(browser, "07-harvests")
    assert console_problems(browser) == []


def test_coverage_dashboard(site, browser):
    import httpx

    api = httpx.get(site.url + "/api/coverage", timeout=30).json()
    history = httpx.get(site.url + "/api/coverage/history", timeout=30).json()["snapshots"]
    categories = [c["id"] for c in api["categories"]]
    browser.get(site.url + "/")
    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Coverage"))
    assert visible_text(browser, "h1") == "Coverage of the commitments"
    rows = browser.find_elements(By.CSS_SELECTOR, "#heatmap tbody tr")
    assert [r.get_attribute("data-jurisdiction") for r in rows] == [j.id for j in site.seed]
    cells = browser.execute_script(
        "return Array.from(document.querySelectorAll('#heatmap tbody tr')).map(r =>"
        " [r.dataset.jurisdiction, Array.from(r.querySelectorAll('td.cell')).map(c => [c.dataset.category,"
        " c.dataset.state, c.textContent.trim()])])"
    )
    by_id = {j["id"]: j for j in api["jurisdictions"]}
    for jid, row in cells:
        assert [c for c, _, _ in row] == categories, jid  # a cell for every category, in every row
        for category, state, text in row:
            cell = by_id[jid]["cells"][category]
            if cell["committed"] and not cell["published"]:
                assert state == "missing", (jid, category)
            elif cell["published"]:
                assert state in ("ok", "stale", "extra") and text.startswith(str(cell["published"])), (jid, category)
    states = {state for _, row in cells for _, state, _ in row}
    assert {"missing", "none"} <= states and states & {"ok", "stale", "extra"}
    overall = api["totals"]["overall"]
    assert f"{overall['committed_published']} of {overall['committed']}" in visible_text(browser, "#totals")
    # the trend: one point per snapshot (one is kept after every harvest: two here)
    assert len(history) == 2
    dots = browser.find_elements(By.CSS_SELECTOR, "#trend circle.dot-met")
    assert len(dots) == 2
    shot(browser, "08-coverage")
    # a published cell leads to its datasets
    seattle = next(r for r in rows if r.get_attribute("data-jurisdiction") == "seattle-wa")
    link = seattle.find_element(By.CSS_SELECTOR, "td.cell a")
    category = link.find_element(By.XPATH, "..").get_attribute("data-category")
    published = by_id["seattle-wa"]["cells"][category]["published"]
    click_and_wait(browser, link)
    assert f"category={category}" in browser.current_url and count(browser) == published
    assert console_problems(browser) == []
