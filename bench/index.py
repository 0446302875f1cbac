"""Index benchmark: our indexing and search path against the raw backend, for each backend.

    python bench/index.py [--records 10000] [--es-url http://127.0.0.1:9200] [--queries 300]

Records come from the portal simulator (every dataset of every seeded portal, police or not,
mapped and classified as a harvest does), cached under ~/.cache/pdi-catalog/ for reuse. For each
backend (the embedded index always; Elasticsearch when --es-url or PDI_TEST_ES_URL is given) it
prints ``name=value`` lines:

- ``index_records_per_s``: ``index.upsert`` in harvest-sized batches (document building, text
  analysis and the write), and ``raw_bulk_records_per_s``: the same prepared documents written
  straight to the engine (Elasticsearch ``_bulk``; for the embedded index, plain ``executemany``
  into the same tables); ``index_ratio_vs_raw_bulk`` = ours / raw (1.0 = no overhead).
- ``search_p50_ms``/``search_p99_ms`` through the API over HTTP (uvicorn on loopback), and
  ``raw_search_*`` for the same query straight to the engine (Elasticsearch ``_search`` over HTTP;
  the embedded index in-process); ``search_p99_ratio_vs_raw`` = API p99 / raw p99.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as `python bench/index.py`, this file's folder comes first on sys.path and its name would
# hide the `index` package; look the project up from the repository root instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse
import json
import os
import socket
import statistics
import tempfile
import threading
import time
from typing import Any

import requests

from catalog.classify import classify_record
from catalog.record import CatalogRecord
from catalog_seed import load_seed
from harvesters import registry
from harvesters.base import GatherStats, SourceContext
from harvesters.http import HttpClient
from index.base import SearchIndex, SearchQuery
from index.documents import to_document
from pdi.runtime import jurisdiction_lookup

CACHE = Path(os.environ.get("PDI_BENCH_CACHE", Path.home() / ".cache" / "pdi-catalog"))
QUERY_MIX = [
    {"q": "use of force"},
    {"q": "OIS"},
    {"q": "calls for service", "state": "TX"},
    {"q": "police"},
    {"category": "arrests"},
    {"q": "traffic stops", "sort": "modified"},
    {"q": "complaints", "jurisdiction": "seattle-wa"},
    {},
    {"q": "budget"},
    {"q": "2019 crime"},
]


def records(n: int, seed_number: int) -> list[CatalogRecord]:
    path = CACHE / f"bench-records-{n}-{seed_number}.jsonl"
    if path.exists():
        return [CatalogRecord.model_validate_json(line) for line in path.read_text().splitlines()]
    from simulator.server import PortalSimulator

    seed = load_seed()
    plans = seed.sources()
    # Socrata listings skip non-dataset assets (charts, maps), about a tenth of a portal: ask for more
    per_portal = max(20, int(n / len(plans) * 1.15) + 20)
    out: list[CatalogRecord] = []
    print(f"# generating {n} records from the simulator ({per_portal} datasets per portal)", file=sys.stderr)
    with PortalSimulator(seed, seed_number=seed_number, datasets_per_portal=(per_portal, per_portal)) as sim:
        http = HttpClient(route=sim.route)
        for plan in plans:
            harvester = registry.get(plan.platform)
            ctx = SourceContext(
                source_id=plan.source_id,
                platform=plan.platform,
                url=plan.url,
                portal_platform=plan.portal_platform,
                jurisdictions=plan.jurisdictions,
            )
            for raw in harvester.gather(ctx, http, GatherStats()):
                out.append(classify_record(harvester.map_record(raw, ctx)))
            if len(out) >= n:
                break
    out = out[:n]
    if len(out) < n:
        raise SystemExit(f"the simulator gave only {len(out)} records")
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(r.model_dump_json(by_alias=True) for r in out) + "\n")
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def time_index(index: SearchIndex, recs: list[CatalogRecord], lookup: dict[str, Any]) -> float:
    index.clear()
    started = time.perf_counter()
    for i in range(0, len(recs), 500):
        report = index.upsert(to_document(r, lookup) for r in recs[i : i + 500])
        assert not report.failed, list(report.failed.items())[:3]
    return len(recs) / (time.perf_counter() - started)


def time_raw_bulk(index: SearchIndex, recs: list[CatalogRecord], lookup: dict[str, Any]) -> float:
    docs = [to_document(r, lookup) for r in recs]
    if index.name == "elasticsearch":
        from elasticsearch import helpers

        from index.elasticsearch import ElasticsearchIndex

        assert isinstance(index, ElasticsearchIndex)
        sources = [ElasticsearchIndex._source(d) for d in docs]
        index.clear()
        started = time.perf_counter()
        for i in range(0, len(sources), 500):
            helpers.bulk(
                index.client,
                ({"_index": index.alias, "_id": s["id"], "_source": s} for s in sources[i : i + 500]),
                refresh=False,
            )
            index.client.indices.refresh(index=index.alias)
        return len(sources) / (time.perf_counter() - started)
    from index.sqlite_fts import NO_DATE, SqliteFtsIndex
    from index.text import analyzed

    assert isinstance(index, SqliteFtsIndex)
    rows = [
        (
            d.id,
            d.modified.timestamp() if d.modified else NO_DATE,
            d.content_hash,
            json.dumps(d.summary),
            analyzed(d.title),
            analyzed(" ".join(d.keywords)),
            analyzed(d.jurisdiction_text),
            analyzed(" ".join(d.columns)),
            analyzed(d.description),
            [(f, v) for f, vs in d.facets.items() for v in vs],
        )
        for d in docs
    ]
    index.clear()
    conn = index._conn()
    started = time.perf_counter()
    for i in range(0, len(rows), 500):
        with conn:
            for r in rows[i : i + 500]:
                cur = conn.execute("INSERT INTO docs(id, mod_key, content_hash, summary) VALUES (?,?,?,?)", r[:4])
                conn.execute(
                    "INSERT INTO fts(rowid, title, keywords, jurisdiction, columns, description) VALUES (?,?,?,?,?,?)",
                    (cur.lastrowid, *r[4:9]),
                )
                conn.executemany(
                    "INSERT INTO facets(doc, field, value) VALUES (?,?,?)", [(cur.lastrowid, f, v) for f, v in r[9]]
                )
    return len(rows) / (time.perf_counter() - started)


def _query(params: dict[str, str]) -> SearchQuery:
    from index.base import SortOrder

    filters = {k: [v] for k, v in params.items() if k in ("state", "category", "jurisdiction")}
    filters["status"] = ["active"]
    return SearchQuery(q=params.get("q"), filters=filters, sort=SortOrder(params.get("sort", "relevance")))


def time_search(index: SearchIndex, settings: Any, n: int) -> dict[str, float]:
    import uvicorn

    from api.app import create_app
    from store import Store

    store = Store(settings.store_url)
    store.create_schema()
    app = create_app(settings, store, index, load_seed())
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    session = requests.Session()
    api_ms: list[float] = []
    raw_ms: list[float] = []
    es_url = getattr(index, "url", None)
    for i in range(n):
        params = QUERY_MIX[i % len(QUERY_MIX)]
        started = time.perf_counter()
        r = session.get(f"http://127.0.0.1:{port}/api/search", params=params, timeout=30)
        api_ms.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, r.text
        query = _query(params)
        if es_url:
            body, _ = index.query_body(query)  # type: ignore[attr-defined]
            alias = index.alias  # type: ignore[attr-defined]
            started = time.perf_counter()
            rr = session.post(f"{es_url}/{alias}/_search", json=body, timeout=30)
            raw_ms.append((time.perf_counter() - started) * 1000)
            assert rr.status_code == 200, rr.text
        else:
            started = time.perf_counter()
            index.search(query)
            raw_ms.append((time.perf_counter() - started) * 1000)
    server.should_exit = True
    thread.join(timeout=10)
    store.close()
    return {
        "search_p50_ms": statistics.median(api_ms),
        "search_p99_ms": pct(api_ms, 99),
        "raw_search_p50_ms": statistics.median(raw_ms),
        "raw_search_p99_ms": pct(raw_ms, 99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Index benchmark: our path against the raw backend.")
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed-number", type=int, default=2015)
    parser.add_argument("--es-url", default=os.environ.get("PDI_TEST_ES_URL"))
    args = parser.parse_args()

    from index.sqlite_fts import SqliteFtsIndex
    from pdi.settings import load_settings

    recs = records(args.records, args.seed_number)
    lookup = jurisdiction_lookup(load_seed())
    workdir = Path(tempfile.mkdtemp(prefix="pdi-bench-"))
    settings = load_settings(data_dir=workdir)
    backends: list[SearchIndex] = [SqliteFtsIndex(workdir / "index.sqlite")]
    if args.es_url:
        from index.elasticsearch import ElasticsearchIndex

        backends.append(ElasticsearchIndex(args.es_url, alias=f"pdi-bench-{os.getpid()}"))
    print(f"records={len(recs)}")
    for index in backends:
        label = "embedded" if index.name != "elasticsearch" else "elasticsearch"
        raw = time_raw_bulk(index, recs, lookup)
        ours = time_index(index, recs, lookup)
        assert index.count() == len(recs)
        figures = time_search(index, settings, args.queries)
        print(f"{label}.index_records_per_s={ours:.0f}")
        print(f"{label}.raw_bulk_records_per_s={raw:.0f}")
        print(f"{label}.index_ratio_vs_raw_bulk={ours / raw:.3f}")
        for key, value in figures.items():
            print(f"{label}.{key}={value:.2f}")
        print(f"{label}.search_p99_ratio_vs_raw={figures['search_p99_ms'] / figures['raw_search_p99_ms']:.2f}")
        if label == "elasticsearch":
            index.client.indices.delete(index=f"{index.alias}-*", ignore_unavailable=True)  # type: ignore[attr-defined]
        index.close()


if __name__ == "__main__":
    main()
