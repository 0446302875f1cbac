from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from catalog.vocabulary import Category
from index.documents import to_document
from pdi.runtime import jurisdiction_lookup
from tests.factories import make_record

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def client(settings, store, embedded_index, seed):
    records = [
        make_record("s1", "Use of Force Incidents", jurisdiction="seattle-wa", modified=T0),
        make_record(
            "a1",
            "Use of Force 2020",
            jurisdiction="austin-tx",
            source="socrata:data.austintexas.gov",
            modified=T0 + timedelta(days=1),
        ),
        make_record(
            "d1",
            "Dallas Police Use of Force",
            jurisdiction="dallas-tx",
            source="socrata:www.dallasopendata.com",
            modified=T0 + timedelta(days=2),
        ),
        make_record(
            "d2",
            "Arrests",
            jurisdiction="dallas-tx",
            source="socrata:www.dallasopendata.com",
            modified=T0 + timedelta(days=3),
            description="<script>alert(1)</script> arrests by police",
        ),
    ]
    for r in records:
        store.upsert_record(r, source_url="https://x.invalid", raw_content={}, fetched_at=T0, run_id=None)
    embedded_index.upsert(to_document(r, jurisdiction_lookup(seed)) for r in records)
    app = create_app(settings, store, embedded_index, seed)
    with TestClient(app) as c:
        c.records = {r.pdi.source.remote_id: r for r in records}
        yield c


def test_search_shape(client):
    r = client.get("/api/search", params={"q": "use of force"})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"total", "results", "facets", "next_cursor"}
    assert body["total"] == 3
    assert {x["jurisdiction"] for x in body["results"]} == {"seattle-wa", "austin-tx", "dallas-tx"}
    first = body["results"][0]
    assert {"id", "title", "jurisdiction", "categories"} <= set(first)
    assert first["categories"][0] == "use_of_force"
    assert {f["value"] for f in body["facets"]["category"]} >= {"use_of_force"}
    assert {"jurisdiction", "state", "category", "platform", "format"} <= set(body["facets"])
    labels = {f["value"]: f["label"] for f in body["facets"]["jurisdiction"]}
    assert labels["seattle-wa"] == "Seattle, WA"


def test_search_filters_sort_and_cursor(client):
    r = client.get("/api/search", params={"state": "tx", "sort": "modified", "size": 1})
    body = r.json()
    assert body["total"] == 3
    seen = [body["results"][0]["title"]]
    while body["next_cursor"]:
        body = client.get(
            "/api/search",
            params={"state": "TX", "sort": "modified", "size": 1, "cursor": body["next_cursor"]},
        ).json()
        seen += [x["title"] for x in body["results"]]
    assert seen == ["Arrests", "Dallas Police Use of Force", "Use of Force 2020"]
    assert (
        client.get("/api/search", params={"category": "arrests,use_of_force", "jurisdiction": "dallas-tx"}).json()[
            "total"
        ]
        == 2
    )
    assert client.get("/api/search", params={"modified_after": "2026-01-03"}).json()["total"] == 2
    assert client.get("/api/search", params={"format": "csv"}).json()["total"] == 4


@pytest.mark.parametrize(
    ("params", "status", "fragment"),
    [
        ({"category": "jaywalking"}, 400, "category"),
        ({"jurisdiction": "gotham-nj"}, 400, "gotham-nj"),
        ({"state": "Texas"}, 400, "state"),
        ({"platform": "myspace"}, 400, "platform"),
        ({"modified_after": "last tuesday"}, 400, "modified_after"),
        ({"sort": "random"}, 422, "sort"),
        ({"size": 0}, 422, "size"),
        ({"size": "many"}, 422, "size"),
        ({"cursor": "garbage"}, 400, "cursor"),
        ({"q": "x" * 600}, 422, "q"),
    ],
)
def test_bad_parameters_get_a_4xx_with_a_message(client, params, status, fragment):
    r = client.get("/api/search", params=params)
    assert r.status_code == status
    assert fragment in r.json()["error"]


def test_dataset_page(client):
    rec = client.records["d2"]
    r = client.get(f"/api/datasets/{rec.id}")
    assert r.status_code == 200
    body = r.json()
    assert body["record"]["title"] == "Arrests"
    assert body["record"]["@type"] == "dcat:Dataset"
    assert body["record"]["pdi"]["categories"][0]["category"] == "arrests"
    assert body["history"][0]["change"] == "new"
    assert body["jurisdictions"] == [{"id": "dallas-tx", "name": "Dallas", "state": "TX"}]
    assert client.get("/api/datasets/nope").status_code == 404
    assert "nope" in client.get("/api/datasets/nope").json()["error"]


def test_jurisdictions(client):
    body = client.get("/api/jurisdictions").json()
    assert len(body) == 53
    dallas = next(j for j in body if j["id"] == "dallas-tx")
    assert dallas["name"] == "Dallas" and dallas["state"] == "TX" and dallas["datasets"] == 2
    assert dallas["portals"][0]["platform"] == "socrata"
    oak = next(j for j in body if j["id"] == "oak-creek-wi")
    assert oak["portals"] == [] and oak["no_portal_known"]
    detail = client.get("/api/jurisdictions/dallas-tx").json()
    assert {c["value"]: c["count"] for c in detail["categories"]}["use_of_force"] == 1
    assert [d["title"] for d in detail["recent"]] == ["Arrests", "Dallas Police Use of Force"]
    assert client.get("/api/jurisdictions/gotham-nj").status_code == 404


def test_categories_expose_the_whole_vocabulary(client):
    body = client.get("/api/categories").json()
    assert [c["id"] for c in body] == [c.value for c in Category]
    uof = next(c for c in body if c["id"] == "use_of_force")
    assert "response to resistance" in uof["synonyms"] and "force_type" in uof["columns"]
    assert uof["definition"] and uof["title_terms"] and uof["police_by_itself"] is True
    assert next(c for c in body if c["id"] == "hate_crimes")["broader"] == ["crime_incidents"]
    assert "CategoryOut" in client.get("/openapi.json").json()["components"]["schemas"]


def test_health_and_docs(client):
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["store"]["detail"]["records"] == 4
    assert body["index"]["detail"]["documents"] == 4
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/api/search" in spec["paths"] and "SearchResponse" in spec["components"]["schemas"]


def test_index_unavailable_is_a_503(client, embedded_index, monkeypatch):
    from index.base import IndexUnavailable

    def down(*_a, **_k):
        raise IndexUnavailable("connection refused")

    monkeypatch.setattr(embedded_index, "search", down)
    r = client.get("/api/search", params={"q": "force"})
    assert r.status_code == 503
    assert "unavailable" in r.json()["error"] and "Traceback" not in r.text


def _cursor(obj) -> str:
    import base64
    import json

    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "params",
    [
        {"q": "\x00"},
        {"q": '" OR 1=1 --'},
        {"q": "NEAR(a b)"},
        {"q": "ünïcødé 警察"},
        {"q": "   "},
        {"cursor": _cursor({"s": "modified", "k": ["x", None]})},
        {"cursor": _cursor({"s": "modified", "k": [True, "a"]})},
        {"cursor": _cursor({"s": "relevance", "k": [1.0, "a"]}), "q": "force"},
        {"cursor": _cursor([1, 2])},
        {"cursor": "%%%"},
        {"modified_after": "2026-13-45"},
        {"modified_after": "2026-01-01T00:00:00+25:00"},
        {"jurisdiction": ","},
        {"category": ""},
        {"size": "-1"},
        {"sort": ""},
    ],
)
def test_odd_input_never_gives_a_500(client, params):
    r = client.get("/api/search", params=params)
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert r.json()["error"]


@pytest.mark.parametrize(
    "path", ["/api/datasets/%00", "/api/datasets/" + "x" * 300, "/api/jurisdictions/..%2F..", "/api/datasets/a b"]
)
def test_odd_paths_never_give_a_500(client, path):
    r = client.get(path)
    assert 400 <= r.status_code < 500


def test_unreachable_elasticsearch_gives_503_and_degraded_health(settings, store, seed):
    from index.elasticsearch import ElasticsearchIndex

    down = ElasticsearchIndex("http://127.0.0.1:9", alias="pdi-nowhere")  # nothing listens on port 9
    with TestClient(create_app(settings, store, down, seed)) as c:
        r = c.get("/api/search", params={"q": "use of force"})
        assert r.status_code == 503
        assert "Elasticsearch is unreachable" in r.json()["error"]
        assert "Traceback" not in r.text
        assert r.headers["Retry-After"]
        health = c.get("/health").json()
        assert health["status"] == "degraded" and not health["index"]["ok"]
        assert c.get("/api/jurisdictions").status_code == 200  # served from the seed and store
