"""Gather and enrich against a fake of the HTTP client object (no network, no simulator).

The fake stands in for ``harvesters.http.HttpClient`` only: ``get_json`` for our own calls, and
``session`` / ``new_session()`` giving real ``requests`` sessions whose transport answers from the
same handler, so ckanapi and sodapy run unmodified. End-to-end gathers over the portal simulator
live elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter

from catalog.dcat import dataset_errors
from harvesters import registry
from harvesters.base import GatherError, GatherStats, RawRecord, SourceContext
from harvesters.http import FetchError, HttpSettings

FETCHED_AT = datetime(2024, 1, 1, tzinfo=UTC)

# handler(url without query, params) -> (status, body); a bytes body is sent as it is
Handler = Callable[[str, dict[str, str]], tuple[int, Any]]


class _HandlerAdapter(BaseAdapter):
    def __init__(self, fake: FakeHttp) -> None:
        super().__init__()
        self.fake = fake

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        parts = urlsplit(request.url or "")
        params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        status, body = self.fake.answer(f"{parts.scheme}://{parts.netloc}{parts.path}", params)
        response = requests.Response()
        response.status_code = status
        response.url = request.url or ""
        response.request = request
        if isinstance(body, bytes):
            response._content = body
            response.headers["Content-Type"] = "text/html"
        else:
            response._content = json.dumps(body).encode()
            response.headers["Content-Type"] = "application/json; charset=utf-8"
        response.reason = "OK" if status == 200 else "Error"
        return response

    def close(self) -> None:
        pass


class FakeHttp:
    """Quacks like HttpClient: get_json, session, new_session(), settings."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.settings = HttpSettings()
        self.calls: list[tuple[str, dict[str, str]]] = []
        self._session: requests.Session | None = None

    def answer(self, url: str, params: dict[str, str]) -> tuple[int, Any]:
        self.calls.append((url, params))
        return self.handler(url, params)

    def get_json(self, url: str, params: dict[str, Any] | None = None) -> Any:
        status, body = self.answer(url, {k: str(v) for k, v in (params or {}).items()})
        if status != 200:
            raise FetchError(f"HTTP {status}", url, status)
        if isinstance(body, bytes):
            raise FetchError("response is not valid JSON", url, status)
        return body

    def new_session(self) -> requests.Session:
        session = requests.Session()
        session.mount("http://", _HandlerAdapter(self))
        session.mount("https://", _HandlerAdapter(self))
        return session

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            self._session = self.new_session()
        return self._session


def _source(platform: str, url: str) -> SourceContext:
    return SourceContext(source_id=f"{platform}:test", platform=platform, url=url, jurisdictions=("example-city-xx",))


def _gather(platform: str, url: str, handler: Handler) -> tuple[list[RawRecord], GatherStats, FakeHttp]:
    http = FakeHttp(handler)
    stats = GatherStats()
    records = list(registry.get(platform).gather(_source(platform, url), http, stats))  # type: ignore[arg-type]
    return records, stats, http


def _gather_until_error(platform: str, url: str, handler: Handler) -> tuple[list[RawRecord], GatherStats, GatherError]:
    http = FakeHttp(handler)
    stats = GatherStats()
    records: list[RawRecord] = []
    with pytest.raises(GatherError) as info:
        for raw in registry.get(platform).gather(_source(platform, url), http, stats):  # type: ignore[arg-type]
            records.append(raw)
    return records, stats, info.value


# --------------------------------------------------------------------------------------------------
# Socrata
# --------------------------------------------------------------------------------------------------

SOCRATA = "https://data.example.gov"


def _four_by_four(n: int) -> str:
    return f"{n:04d}-aaaa"


def _cetera_result(n: int) -> dict[str, Any]:
    ident = _four_by_four(n)
    return {
        "resource": {"id": ident, "name": f"Dataset {n}", "type": "dataset", "description": ""},
        "classification": {"domain_category": "Public Safety", "domain_tags": ["police"]},
        "metadata": {"domain": "data.example.gov"},
        "permalink": f"https://data.example.gov/d/{ident}",
    }


def _cetera(total: int, *, report_total: bool = True) -> Handler:
    def handler(url: str, params: dict[str, str]) -> tuple[int, Any]:
        assert url == f"{SOCRATA}/api/catalog/v1"
        offset, limit = int(params["offset"]), int(params["limit"])
        body: dict[str, Any] = {"results": [_cetera_result(n) for n in range(offset, min(offset + limit, total))]}
        if report_total:
            body["resultSetSize"] = total
        return 200, body

    return handler


def test_socrata_pages_through_the_discovery_api() -> None:
    records, stats, http = _gather("socrata", SOCRATA, _cetera(250))
    assert [r.remote_id for r in records] == [_four_by_four(n) for n in range(250)]
    assert stats.pages == 3 and stats.requests == 3 and stats.complete
    assert [int(p["offset"]) for _, p in http.calls] == [0, 100, 200]
    first = http.calls[0][1]
    assert first == {
        "domains": "data.example.gov",
        "search_context": "data.example.gov",
        "only": "dataset",
        "limit": "100",
        "offset": "0",
        "order": "dataset_id",
    }
    assert set(records[0].content) == {"catalog"}
    assert records[0].content["catalog"] == _cetera_result(0)  # untouched
    assert "offset=0" in records[0].source_url


def test_socrata_without_a_total_stops_at_an_empty_page() -> None:
    records, stats, _ = _gather("socrata", SOCRATA, _cetera(150, report_total=False))
    assert len(records) == 150
    assert stats.pages == 3 and stats.complete


def test_socrata_stops_on_a_repeated_page() -> None:
    def ignores_offset(url: str, params: dict[str, str]) -> tuple[int, Any]:
        return 200, {"results": [_cetera_result(n) for n in range(100)], "resultSetSize": 1000}

    records, stats, error = _gather_until_error("socrata", SOCRATA, ignores_offset)
    assert "paging loop" in str(error)
    assert "offset=100" in (error.url or "")
    assert len(records) == 100
    assert not stats.complete


def test_socrata_stops_when_a_page_holds_only_datasets_already_read() -> None:
    pages = {0: [0, 1], 2: [2, 3], 4: [1, 0]}

    def cycling(url: str, params: dict[str, str]) -> tuple[int, Any]:
        ids = pages.get(int(params["offset"]), [])
        return 200, {"results": [_cetera_result(n) for n in ids]}

    records, stats, error = _gather_until_error("socrata", SOCRATA, cycling)
    assert "already read" in str(error)
    assert len(records) == 4 and not stats.complete


@pytest.mark.parametrize(
    "body",
    [
        {"error": "search unavailable"},
        {"results": "none"},
        ["not", "an", "object"],
        {"results": [{"unexpected": "shape"}], "resultSetSize": 1},
    ],
)
def test_socrata_malformed_page_is_a_gather_error(body: Any) -> None:
    records, stats, error = _gather_until_error("socrata", SOCRATA, lambda url, params: (200, body))
    assert records == []
    assert error.url and error.url.startswith(f"{SOCRATA}/api/catalog/v1?")
    assert not stats.complete


def test_socrata_failed_page_is_a_gather_error_after_the_records_already_read() -> None:
    def fails_second_page(url: str, params: dict[str, str]) -> tuple[int, Any]:
        if params["offset"] == "0":
            return _cetera(300)(url, params)
        return 503, b"<html>busy</html>"

    records, stats, error = _gather_until_error("socrata", SOCRATA, fails_second_page)
    assert len(records) == 100
    assert "offset 100" in str(error) and "HTTP 503" in str(error)
    assert stats.pages == 1 and stats.requests == 2 and not stats.complete


def test_socrata_empty_page_before_the_announced_total_is_a_gather_error() -> None:
    def short(url: str, params: dict[str, str]) -> tuple[int, Any]:
        if params["offset"] == "0":
            return 200, {"results": [_cetera_result(n) for n in range(100)], "resultSetSize": 500}
        return 200, {"results": [], "resultSetSize": 500}

    records, stats, error = _gather_until_error("socrata", SOCRATA, short)
    assert "100 of the 500" in str(error)
    assert len(records) == 100 and not stats.complete


def test_socrata_duplicates_across_pages_are_yielded_once_and_entries_without_id_noted() -> None:
    def overlapping(url: str, params: dict[str, str]) -> tuple[int, Any]:
        offset = int(params["offset"])
        if offset == 0:
            return 200, {
                "results": [_cetera_result(0), _cetera_result(1), {"resource": {}}],
                "resultSetSize": 5,
            }
        return 200, {"results": [_cetera_result(1), _cetera_result(2)], "resultSetSize": 5}

    records, stats, _ = _gather("socrata", SOCRATA, overlapping)
    assert [r.remote_id for r in records] == [_four_by_four(0), _four_by_four(1), _four_by_four(2)]
    assert len(stats.errors) == 1 and "without a resource id" in stats.errors[0]
    assert stats.complete


SEATTLE_VIEW = {
    "id": "3k2p-39jp",
    "name": "Seattle Police Department 911 Incident Response",
    "viewType": "tabular",
    "rowsUpdatedAt": 1433350568,
    "columns": [
        {"name": "CAD CDW ID", "fieldName": "cad_cdw_id", "dataTypeName": "text"},
        {"name": "Region", "fieldName": ":@computed_region_x", "dataTypeName": "number"},
    ],
}


@pytest.mark.parametrize("base", ["https://data.example.gov", "http://127.0.0.1:8123"])
def test_socrata_enrich_reads_the_views_document_with_sodapy(base: str) -> None:
    def views(url: str, params: dict[str, str]) -> tuple[int, Any]:
        assert url == f"{base}/api/views/3k2p-39jp.json"  # sodapy keeps the source's scheme
        return 200, SEATTLE_VIEW

    http = FakeHttp(views)
    harvester = registry.get("socrata")
    source = _source("socrata", base)
    raw = RawRecord("3k2p-39jp", f"{base}/api/catalog/v1?offset=0", FETCHED_AT, {"catalog": _cetera_result(1)})
    enriched = harvester.enrich(raw, source, http)  # type: ignore[arg-type]
    assert enriched.content == {"catalog": _cetera_result(1), "view": SEATTLE_VIEW}
    assert enriched.source_url == f"{base}/api/views/3k2p-39jp.json"
    assert len(http.calls) == 1
    again = harvester.enrich(raw, source, http)  # type: ignore[arg-type]
    assert again.content["view"] == SEATTLE_VIEW
    record = harvester.map_record(enriched, source)
    assert [col.name for col in record.pdi.columns] == ["CAD CDW ID"]
    assert record.title == SEATTLE_VIEW["name"]
    assert dataset_errors(record.to_dcat()) == []


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, {"code": "not_found", "message": "Cannot find view"}),
        (200, b"<html></html>"),
        (200, {"id": "zzzz-zzzz"}),
    ],
)
def test_socrata_enrich_failures_are_fetch_errors(status: int, body: Any) -> None:
    http = FakeHttp(lambda url, params: (status, body))
    raw = RawRecord("3k2p-39jp", "x", FETCHED_AT, {"catalog": {}})
    with pytest.raises(FetchError) as info:
        registry.get("socrata").enrich(raw, _source("socrata", SOCRATA), http)  # type: ignore[arg-type]
    assert info.value.url == f"{SOCRATA}/api/views/3k2p-39jp.json"


# --------------------------------------------------------------------------------------------------
# CKAN (through ckanapi and the fake's session)
# --------------------------------------------------------------------------------------------------

CKAN = "https://ckan.example.gov"


def _package(n: int) -> dict[str, Any]:
    return {"id": f"pkg-{n:04d}", "name": f"dataset-{n}", "title": f"Dataset {n}", "resources": []}


def _package_search(total: int) -> Handler:
    def handler(url: str, params: dict[str, str]) -> tuple[int, Any]:
        assert url == f"{CKAN}/api/action/package_search"
        start, rows = int(params["start"]), int(params["rows"])
        results = [_package(n) for n in range(start, min(start + rows, total))]
        return 200, {"success": True, "result": {"count": total, "results": results}}

    return handler


def test_ckan_pages_through_package_search() -> None:
    records, stats, http = _gather("ckan", CKAN, _package_search(230))
    assert [r.remote_id for r in records] == [f"pkg-{n:04d}" for n in range(230)]
    assert stats.pages == 3 and stats.requests == 3 and stats.complete
    assert [p["start"] for _, p in http.calls] == ["0", "100", "200"]
    assert all(p["rows"] == "100" and p["sort"] == "metadata_created asc, id asc" for _, p in http.calls)
    assert records[5].content == _package(5)  # untouched


def test_ckan_stops_on_a_repeated_page() -> None:
    def ignores_start(url: str, params: dict[str, str]) -> tuple[int, Any]:
        return 200, {"success": True, "result": {"count": 900, "results": [_package(n) for n in range(100)]}}

    records, stats, error = _gather_until_error("ckan", CKAN, ignores_start)
    assert "paging loop" in str(error) and "start=100" in (error.url or "")
    assert len(records) == 100 and not stats.complete


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (200, {"success": True, "result": {"count": 3}}, "no 'results' list"),
        (200, {"success": True, "result": "nothing"}, "no 'results' list"),
        (200, {"success": False, "error": {"__type": "Search Query Error", "message": "bad sort"}}, "failed"),
        (500, b"<html>Internal Server Error</html>", "failed"),
        (200, b"not json at all", "failed"),
    ],
)
def test_ckan_malformed_or_failed_page_is_a_gather_error(status: int, body: Any, message: str) -> None:
    records, stats, error = _gather_until_error("ckan", CKAN, lambda url, params: (status, body))
    assert message in str(error)
    assert error.url and error.url.startswith(f"{CKAN}/api/action/package_search?")
    assert records == [] and not stats.complete


def test_ckan_empty_page_before_count_is_a_gather_error() -> None:
    def short(url: str, params: dict[str, str]) -> tuple[int, Any]:
        results = [_package(n) for n in range(100)] if params["start"] == "0" else []
        return 200, {"success": True, "result": {"count": 250, "results": results}}

    records, stats, error = _gather_until_error("ckan", CKAN, short)
    assert "100 of the 250" in str(error) and not stats.complete


# --------------------------------------------------------------------------------------------------
# DCAT-US data.json
# --------------------------------------------------------------------------------------------------

DATA_JSON = "https://city.example.gov/data.json"


def test_dcat_us_reads_a_v11_catalog() -> None:
    catalog = {
        "@type": "dcat:Catalog",
        "dataset": [
            {"identifier": "a", "title": "Use of force"},
            {"identifier": "b", "title": "Stops"},
            {"title": "no identifier"},
            {"identifier": "a", "title": "repeated"},
        ],
    }
    records, stats, http = _gather("dcat_us", DATA_JSON, lambda url, params: (200, catalog))
    assert [r.remote_id for r in records] == ["a", "b"]
    assert records[0].content == {"identifier": "a", "title": "Use of force"}
    assert http.calls == [(DATA_JSON, {})]
    assert stats.pages == 1 and stats.requests == 1 and stats.complete
    assert len(stats.errors) == 2


def test_dcat_us_reads_a_v10_array_without_its_self_entry() -> None:
    array = [
        {"identifier": "https://city.example.gov/data.json", "title": "Project Open Data, /data.json file"},
        {"identifier": "abcd-1234", "title": "Calls for service", "keyword": "police, 911"},
    ]
    records, stats, _ = _gather("dcat_us", DATA_JSON, lambda url, params: (200, array))
    assert [r.remote_id for r in records] == ["abcd-1234"]
    assert stats.complete


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (200, {"datasets": []}, "not a DCAT-US catalog"),
        (200, [], "not a DCAT-US catalog"),
        (200, b"<html>", "could not be read"),
        (404, {"error": "gone"}, "could not be read"),
    ],
)
def test_dcat_us_unreadable_catalog_is_a_gather_error(status: int, body: Any, message: str) -> None:
    records, stats, error = _gather_until_error("dcat_us", DATA_JSON, lambda url, params: (status, body))
    assert message in str(error) and error.url == DATA_JSON
    assert records == [] and not stats.complete
