"""The web UI's pages over HTTP (no browser; tests/test_ui_browser.py drives a real one)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from api import ui
from api.app import create_app
from api.ui import CSP
from catalog.record import Column, Distribution
from index.documents import to_document
from pdi.runtime import jurisdiction_lookup
from tests.factories import make_record

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOSTILE = '</script><script>alert(1)</script><img src=x onerror="alert(2)">'
HTML = {"accept": "text/html"}


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the text inside <script> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._in_script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = dict(attrs)
            self.scripts.append((self._in_script, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = None

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)


def tags(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    return parser


def total(html: str) -> int:
    match = re.search(r'id="result-count" data-total="(\d+)"', html)
    assert match, "no result count on the page"
    return int(match.group(1))


def links(html: str, pattern: str) -> list[str]:
    return [
        unescape(a["href"] or "") for t, a in tags(html).tags if t == "a" and re.search(pattern, a.get("href") or "")
    ]


@pytest.fixture
def records():
    hostile = make_record(
        "x1",
        f"Use of Force {HOSTILE}",
        description=f"Reports of force. {HOSTILE}",
        columns=["Incident Number"],
        modified=T0,
    )
    hostile = hostile.model_copy(
        update={
            "landingPage": "javascript:alert(3)",
            "distribution": [
                Distribution(downloadURL="javascript:alert(4)", format="CSV"),
                Distribution(downloadURL="https://example.invalid/x1.csv", format="CSV", title="CSV export"),
            ],
        }
    )
    hostile.pdi.columns.append(Column(name="<b>Officer</b>", description=HOSTILE, type="text"))
    return [
        hostile,
        make_record("s2", "Officer Involved Shootings", jurisdiction="seattle-wa", modified=T0 + timedelta(days=1)),
        make_record(
            "a1",
            "Use of Force 2020",
            jurisdiction="austin-tx",
            source="socrata:data.austintexas.gov",
            modified=T0 + timedelta(days=2),
        ),
        make_record(
            "d1",
            "Dallas Police Use of Force",
            jurisdiction="dallas-tx",
            source="socrata:www.dallasopendata.com",
            modified=T0 + timedelta(days=3),
        ),
        make_record(
            "d2",
            "Arrests",
            jurisdiction="dallas-tx",
            source="socrata:www.dallasopendata.com",
            modified=T0 + timedelta(days=4),
        ),
    ]


@pytest.fixture
def client(settings, store, embedded_index, seed, records):
    for r in records:
        store.upsert_record(r, source_url="https://x.invalid", raw_content={}, fetched_at=T0, run_id=None)
    embedded_index.upsert(to_document(r, jurisdiction_lookup(seed)) for r in records)
    with TestClient(create_app(settings, store, embedded_index, seed)) as c:
        c.records = records
        yield c


@pytest.mark.parametrize(
    "path", ["/", "/?q=force", "/datasets/{id}", "/jurisdictions", "/jurisdictions/seattle-wa", "/harvests"]
)
def test_pages_are_html_with_a_strict_content_security_policy(client, path):
    r = client.get(path.format(id=client.records[0].id))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["content-security-policy"] == CSP
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP and "unsafe-eval" not in CSP
    assert r.headers["x-content-type-options"] == "nosniff"
    page = tags(r.text)
    # the only scripts: our own file, and (on a dataset page) the JSON-LD data block
    for attrs, _ in page.scripts:
        assert attrs.get("src") == "/static/ui.js" or attrs.get("type") == "application/ld+json", attrs
    assert ("html", {"lang": "en"}) in page.tags and any(t == "h1" for t, _ in page.tags)


def test_static_files_are_served(client):
    css = client.get("/static/ui.css")
    js = client.get("/static/ui.js")
    assert css.status_code == js.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "javascript" in js.headers["content-type"]


def test_portal_text_is_escaped_and_only_http_links_are_followed(client):
    hostile = client.records[0]
    for path in (f"/datasets/{hostile.id}", "/?q=force", "/jurisdictions/seattle-wa"):
        html = client.get(path).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path  # shown, as text
        assert "<script>alert" not in html and "<img" not in html and "<b>" not in html, path
        page = tags(html)
        hrefs = [a.get("href") or "" for t, a in page.tags if t == "a"]
        assert hrefs and not [h for h in hrefs if not h.startswith(("/", "#", "http://", "https://"))], path
    html = client.get(f"/datasets/{hostile.id}").text
    assert "javascript:alert(3)" in html  # the landing page is shown as text, not as a link
    assert links(html, r"^https://example\.invalid/x1\.csv$")
    (attrs, text), *_ = [s for s in tags(html).scripts if s[0].get("type") == "application/ld+json"]
    data = json.loads(text)
    assert data["name"] == hostile.title and data["description"] == hostile.description
    assert "</" not in text
    assert [d["contentUrl"] for d in data["distribution"]] == ["https://example.invalid/x1.csv"]
    assert [v["name"] for v in data["variableMeasured"]] == ["Incident Number", "<b>Officer</b>"]
    assert data["url"].endswith(f"/datasets/{hostile.id}")


def test_dataset_page_shows_columns_history_and_sources(client):
    hostile = client.records[0]
    html = client.get(f"/datasets/{hostile.id}").text
    assert "Incident Number" in html and "&lt;b&gt;Officer&lt;/b&gt;" in html
    assert re.search(r'<table class="data" id="history">.*?<td>new</td>', html, re.S)
    assert "socrata:data.seattle.gov" in html
    assert links(html, r"^/jurisdictions/seattle-wa$")
    assert links(html, rf"^/api/datasets/{hostile.id}$")


def test_search_page_answers_as_the_api_does(client):
    for params in ({}, {"q": "use of force"}, {"state": "TX"}, {"category": "use_of_force", "q": "police"}):
        page = client.get("/", params=params).text
        api = client.get("/api/search", params=params).json()
        assert total(page) == api["total"], params
        shown = [a["data-id"] for t, a in tags(page).tags if t == "li" and "data-id" in a]
        assert shown == [r["id"] for r in api["results"]], params


def test_a_facet_link_narrows_the_search_and_again_widens_it(client):
    page = client.get("/", params={"q": "use of force"}).text
    assert total(page) == 3
    dallas = links(page, r"jurisdiction=dallas-tx")
    assert len(dallas) == 1
    narrowed = client.get(dallas[0]).text
    assert total(narrowed) == 1
    assert "Dallas Police Use of Force" in narrowed
    assert 'aria-current="true"' in narrowed  # the active value is marked
    # the same link now removes the filter; the query is kept
    back = [h for h in links(narrowed, r"q=use\+of\+force") if "jurisdiction" not in h]
    assert back and total(client.get(back[0]).text) == 3


def test_paging_follows_the_search_cursor(client):
    first = client.get("/", params={"sort": "modified", "size": 2}).text
    nxt = links(first, r"cursor=")
    assert len(nxt) == 1 and "page=2" in nxt[0]
    second = client.get(nxt[0]).text
    assert "Showing 3–4" in second
    assert links(second, r"^/\?sort=modified&size=2$")  # back to the first page

    def ids(html):
        return [a["data-id"] for t, a in tags(html).tags if t == "li" and "data-id" in a]

    assert len(ids(second)) == 2 and not set(ids(first)) & set(ids(second))
    third = client.get(links(second, r"cursor=")[0]).text
    assert len(ids(third)) == 1 and not links(third, r"cursor=")  # the last page has no next link


def test_errors_are_pages_for_pages_and_json_for_the_api(client):
    r = client.get("/datasets/nope")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "no dataset with id" in r.text and r.headers["content-security-policy"] == CSP
    assert client.get("/api/datasets/nope").json() == {"error": "no dataset with id 'nope'"}
    bad_cursor = client.get("/", params={"cursor": "bad"})
    assert bad_cursor.status_code == 400 and "cursor is not valid" in bad_cursor.text
    bad_size = client.get("/", params={"size": 1000})
    assert bad_size.status_code == 422 and "size" in bad_size.text and "<h1>" in bad_size.text
    assert client.get("/", params={"modified_after": "soon"}).status_code == 400
    assert client.get("/jurisdictions/gotham-nj").status_code == 404
    assert client.get("/no-such-page", headers=HTML).headers["content-type"].startswith("text/html")
    assert client.get("/no-such-page").json() == {"error": "Not Found"}


def test_jurisdiction_page_lists_portals_commitments_and_datasets_by_category(client, seed):
    seattle = seed.get("seattle-wa")
    html = client.get("/jurisdictions/seattle-wa").text
    assert "Seattle, WA" in html
    for portal in seattle.portals:
        assert portal.url in html
    rows = re.findall(r'<tr data-category="([a-z_]+)"', html)
    assert set(rows) == {c.value for c in seattle.committed_categories} | {"use_of_force", "officer_involved_shootings"}
    assert links(html, r"jurisdiction=seattle-wa&category=officer_involved_shootings")
    assert "Officer Involved Shootings" in html


def test_harvests_page_without_runs_says_so(client):
    html = client.get("/harvests").text
    assert "No harvest has run yet" in html
    assert html.count("never run") > 50  # every seeded source is listed


def test_coverage_dashboard_shows_the_api_matrix(client, seed):
    html = client.get("/coverage").text
    api = client.get("/api/coverage").json()
    rows = re.findall(r'<tr data-jurisdiction="([a-z0-9-]+)">(.*?)</tr>', html, re.S)
    assert [jid for jid, _ in rows] == [j["id"] for j in api["jurisdictions"]] == [j.id for j in seed]
    categories = [c["id"] for c in api["categories"]]
    for (jid, row), j in zip(rows, api["jurisdictions"], strict=True):
        cells = re.findall(r'<td class="cell [^"]*" data-category="([a-z_]+)" data-state="([a-z]+)"', row)
        assert [c for c, _ in cells] == categories, jid
        for category, state in cells:
            cell = j["cells"][category]
            assert state == ui.cell_state(cell["committed"], cell["published"], cell["fresh"]), (jid, category)
    seattle = dict(rows)["seattle-wa"]
    assert 'data-category="use_of_force" data-state="' in seattle
    assert links(seattle, r"jurisdiction=seattle-wa&category=use_of_force")
    overall = api["totals"]["overall"]
    assert f"{overall['committed_published']} of {overall['committed']}" in html
    assert "No snapshot yet" in html  # nothing harvested in this fixture: no trend


def test_coverage_page_takes_the_api_parameters(client):
    params = {"jurisdiction": "dallas-tx", "category": "arrests"}
    r = client.get("/coverage", params=params)
    assert re.findall(r'<tr data-jurisdiction="([a-z0-9-]+)">', r.text) == ["dallas-tx"]
    (row,) = client.get("/api/coverage", params=params).json()["jurisdictions"]
    cell = row["cells"]["arrests"]
    assert cell["published"] == 1  # "Arrests", d2
    expected = (ui.cell_state(cell["committed"], 1, cell["fresh"]), "1")
    assert re.findall(r'<td class="cell ([a-z]+) heat-(\d)"', r.text) == [expected]
    csv = client.get("/coverage", params={"format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv") and csv.text.splitlines()[0].startswith("jurisdiction")
    assert client.get("/coverage", params={"category": "nope"}).status_code == 400


@pytest.mark.parametrize(
    ("committed", "published", "fresh", "state"),
    [
        (True, 3, 1, "ok"),
        (True, 3, 0, "stale"),
        (True, 0, 0, "missing"),
        (False, 2, 0, "extra"),
        (False, 2, 2, "extra"),
        (False, 0, 0, "none"),
    ],
)
def test_cell_state(committed, published, fresh, state):
    assert ui.cell_state(committed, published, fresh) == state


def test_heat_levels():
    assert [ui.heat_level(n) for n in (0, 1, 2, 3, 4, 9, 10, 500)] == [0, 1, 2, 2, 3, 3, 4, 4]


def test_trend_chart_places_the_snapshots_across_the_width():
    from api.coverage import CoverageSnapshot

    def snap(run_id, met, fresh):
        overall = {
            "committed": 10,
            "committed_published": met,
            "missing": 10 - met,
            "published": 100,
            "fresh": fresh,
            "overdue": 0,
            "delinquent": 0,
        }
        return CoverageSnapshot(run_id=run_id, taken_at=T0 + timedelta(days=run_id), overall=overall, by_category={})

    chart = ui.trend_chart([snap(1, 5, 0), snap(2, 10, 100)])
    pad, w, h = ui.TREND_PAD, ui.TREND_WIDTH, ui.TREND_HEIGHT
    assert chart["lines"]["met"]["dots"] == [(pad, pad + (h - 2 * pad) / 2), (w - pad, pad)]
    assert chart["lines"]["fresh"]["dots"] == [(pad, h - pad), (w - pad, pad)]
    assert chart["lines"]["met"]["points"] == "36.0,100.0 684.0,36.0"
    single = ui.trend_chart([snap(1, 5, 0)])
    assert single["lines"]["met"]["dots"] == [(w / 2, pad + (h - 2 * pad) / 2)]
