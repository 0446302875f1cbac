"""Harvest benchmark: a full harvest of every seeded portal against the simulator with a set latency.

    python bench/harvest.py [--quick] [--latency-ms 50] [--workers 8] [--min-delay-s 0]

The portal simulator runs in a process of its own (real portals are elsewhere: its work is not the
harvest's) and delays every response by ``--latency-ms`` (default 50; 10 with ``--quick``). The HTTP
settings are fixed here, not read from the environment (per-host concurrency 2, no minimum delay
unless ``--min-delay-s``, one retry), and printed as ``setting.*`` lines. Three runs, each with its
own HTTP client revalidating from its own store's cache (as ``pdi harvest`` does), in its own
temporary data folder (SQLite store + embedded index), removed at the end. Request counts are the
simulator's (its request log, per portal host): they include the requests of crawled web pages
(``html`` sources), which do not go through our HTTP client; ``*_client_requests`` are the HTTP
client's alone. ``hosts`` counts portal hosts; ``requests_for_no_portal`` are requests that named
none (a crawl's ``/robots.txt`` of the simulator itself), counted in ``requests`` but in no host's
share.

- ``full_wall_s``: a first harvest of every source with our ``HarvestRun`` (``--workers``, default
  the settings default of 8; hosts spread over ``--processes`` as ``pdi harvest`` does)
  into a fresh store and index. ``sources``, ``requests``, ``hosts``
  describe it. ``politeness_bound_s`` = max over hosts of (requests to that host x latency / per-host
  concurrency), from that run's per-host request counts: no polite harvest can be faster;
  ``wall_over_politeness_bound`` = full_wall_s / politeness_bound_s (1.0 = as fast as politeness
  allows). ``serial_source_bound_s`` = max over hosts of (requests x latency): the bound when every
  source read its catalog one request at a time (ours use the per-host limit); ``latency_bound_s`` = the
  larger of that and (all requests x latency / workers).
- ``noop_wall_s``: a second harvest into the first store with nothing changed in the simulator
  (probes on, as ``pdi harvest`` runs: a source whose probe is steady is settled unread);
  ``noop_over_full`` = noop_wall_s / full_wall_s, ``noop_requests`` its requests,
  ``noop_not_modified`` those answered 304 and served from the cache.
- ``full_cpu_s`` etc.: CPU seconds of the bench's process and of the processes it waited for (harvest
  shards, crawls), not the simulator's; ``full_simulator_cpu_s``: the simulator process's CPU
  seconds during the full run (it shares the machine's cores with the harvest).
- ``sequential_wall_s``: the same sources one after another in one thread (a ``HarvestRun`` with
  one worker) into another fresh store; ``sequential_over_wall`` = sequential_wall_s / full_wall_s.
  ``--no-sequential`` skips this run (about three minutes of the full benchmark's four).

``--quick`` (under a minute on 2 cores): 12 jurisdictions covering every platform (Socrata, CKAN,
DCAT-US, ArcGIS Server, department web pages), 20-30 datasets per portal, 10 ms latency. The full run uses every seeded
source at the simulator's default sizes. Every portal's catalog is generated before the clock
starts, so no run pays for (or benefits from) the simulator's lazy generation.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as `python bench/harvest.py`, this file's folder comes first on sys.path and its name would
# hide the `index` package; look the project up from the repository root instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse
import os
import resource
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from functools import partial
from multiprocessing import get_context
from multiprocessing.connection import Connection

from catalog_seed import load_seed
from catalog_seed.loader import SourcePlan
from harvesters.http import HttpClient, HttpSettings
from index.documents import JurisdictionInfo
from index.sqlite_fts import SqliteFtsIndex
from pdi.runtime import jurisdiction_lookup
from pdi.settings import Settings
from scheduler.run import HarvestRun, HarvestSummary, Shards
from simulator.server import PortalSimulator, route_url
from store import Store
from store.store import StoreHttpCache

# 12 jurisdictions whose sources cover every platform: Socrata, CKAN (including the statewide
# data.virginia.gov), ArcGIS Hub DCAT-US, ArcGIS Server directories and (Bedford, New York) web pages.
QUICK_JURISDICTIONS = (
    "atlanta-ga",
    "austin-tx",
    "baltimore-md",
    "bedford-va",
    "charlotte-mecklenburg-nc",
    "hartford-ct",
    "newark-nj",
    "new-york-ny",
    "san-jose-ca",
    "seattle-wa",
    "tucson-az",
    "detroit-mi",
)
QUICK_DATASETS = (20, 30)
SIM_DEFAULT_DATASETS = (150, 350)  # PortalSimulator's default datasets_per_portal


def _serve_simulator(conn: Connection, seed_number: int, sizes: tuple[int, int], latency_ms: float) -> None:
    """The simulator's own process: serve every seeded portal, answer the bench's questions."""
    with PortalSimulator(load_seed(), seed_number=seed_number, datasets_per_portal=sizes, latency_ms=latency_ms) as sim:
        portal_hosts = set(sim.hosts())
        for host in portal_hosts:  # generate every catalog now, outside the timed runs
            sim.datasets(host)
        conn.send(sim.base_url)
        while True:
            command = conn.recv()
            if command == "clear":
                sim.clear_request_log()
                conn.send(None)
            elif command == "counts":
                logged = sim.request_log
                conn.send((Counter(r.host for r in logged if r.host in portal_hosts), len(logged)))
            elif command == "cpu":
                conn.send(time.process_time())
            else:
                conn.send(None)
                return


class RemoteSimulator:
    """The portal simulator in a process of its own, as real portals are elsewhere: its work
    (generating and serving responses) is not counted in the harvest's CPU or GIL."""

    def __init__(self, seed_number: int, sizes: tuple[int, int], latency_ms: float) -> None:
        self._conn, child = get_context("spawn").Pipe()
        self._process = get_context("spawn").Process(
            target=_serve_simulator, args=(child, seed_number, sizes, latency_ms), daemon=True
        )
        self._process.start()
        self.base_url: str = self._conn.recv()
        self.route = partial(route_url, self.base_url)

    def clear_request_log(self) -> None:
        self._conn.send("clear")
        self._conn.recv()

    def counts(self) -> tuple[Counter[str], int]:
        """Requests served since the log was cleared: by portal host, and in all."""
        self._conn.send("counts")
        counts: tuple[Counter[str], int] = self._conn.recv()
        return counts

    def cpu_s(self) -> float:
        """CPU seconds the simulator's process has used so far."""
        self._conn.send("cpu")
        used: float = self._conn.recv()
        return used

    def close(self) -> None:
        self._conn.send("stop")
        self._conn.recv()
        self._process.join(timeout=10)


@dataclass
class Timed:
    summary: HarvestSummary
    wall_s: float
    cpu_s: float
    per_host: Counter[str]  # requests the simulator served, by portal host
    stray: int  # requests it served that named no portal host (a crawler's /robots.txt of the simulator)
    client_requests: int  # requests the HTTP client sent (portal APIs; the html crawl has its own)
    not_modified: int  # 304s answered from the store's cache
    simulator_cpu_s: float  # CPU the simulator's process used meanwhile (on the same cores)


def _open_parts(
    store_url: str, index_path: Path, http_settings: HttpSettings, base_url: str
) -> tuple[Store, SqliteFtsIndex, HttpClient]:
    """A harvest shard's own store, index and client (see ``scheduler.run.Shards``)."""
    store = Store(store_url)
    return (
        store,
        SqliteFtsIndex(index_path),
        HttpClient(http_settings, route=partial(route_url, base_url), cache=StoreHttpCache(store)),
    )


def _cpu_s() -> float:
    """CPU seconds of this process and of its finished children: harvest shards and crawls (the
    simulator's process is still running, so not counted)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def harvest(
    sim: RemoteSimulator,
    data_dir: Path,
    plans: list[SourcePlan],
    jurisdictions: dict[str, JurisdictionInfo],
    http_settings: HttpSettings,
    workers: int,
    processes: int,
    label: str,
) -> Timed:
    """One HarvestRun into the store and index of ``data_dir`` (created when missing), timed."""
    store = Store(f"sqlite:///{(data_dir / 'pdi.sqlite').as_posix()}")
    store.create_schema()
    index = SqliteFtsIndex(data_dir / "index.sqlite")
    # as `pdi harvest` builds it: revalidation (ETag / Last-Modified) from this store's cache
    http = HttpClient(http_settings, route=sim.route, cache=StoreHttpCache(store))
    # as `pdi harvest` spreads hosts over processes, each opening the same store and index again
    parts = partial(_open_parts, store.url, data_dir / "index.sqlite", http_settings, sim.base_url)
    run = HarvestRun(store, index, jurisdictions, http, workers=workers, shards=Shards(processes, parts))
    sim.clear_request_log()
    print(
        f"# {label}: {len(plans)} sources, {workers} workers, {processes} processes, into {data_dir}",
        file=sys.stderr,
        flush=True,
    )
    cpu, sim_cpu = _cpu_s(), sim.cpu_s()
    started = time.perf_counter()
    summary = run.run(plans, trigger="bench")
    wall = time.perf_counter() - started
    cpu, sim_cpu = _cpu_s() - cpu, sim.cpu_s() - sim_cpu
    per_host, logged = sim.counts()
    index.close()
    store.close()
    failed = [s for s in summary.sources if s.error]
    for s in failed:
        print(f"# {label}: {s.source_id} {s.status.value}: {s.error}", file=sys.stderr)
    print(
        f"# {label}: {summary.status.value} in {wall:.1f}s (cpu {cpu:.1f}s): {summary.requests} requests, "
        f"{summary.records_new} new, {summary.records_changed} changed, {summary.records_unchanged} unchanged, "
        f"{summary.records_skipped} not police",
        file=sys.stderr,
        flush=True,
    )
    return Timed(
        summary,
        wall,
        cpu,
        per_host,
        logged - sum(per_host.values()),
        sum(http.stats.requests.values()),
        sum(http.stats.not_modified.values()),
        sim_cpu,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Harvest benchmark against the portal simulator.")
    parser.add_argument("--quick", action="store_true", help="12 jurisdictions, 20-30 datasets per portal, 10 ms")
    parser.add_argument("--latency-ms", type=float, default=None, help="delay of every response (default 50; 10)")
    parser.add_argument("--workers", type=int, default=None, help="sources harvested at once (default 8)")
    parser.add_argument(
        "--processes", type=int, default=None, help="processes hosts are spread over (default: as pdi harvest)"
    )
    parser.add_argument("--min-delay-s", type=float, default=0.0, help="minimum gap between requests to a host")
    parser.add_argument("--seed-number", type=int, default=2015)
    parser.add_argument(
        "--no-sequential", action="store_true", help="skip the sequential run (no sequential_* lines; for quick checks)"
    )
    args = parser.parse_args()

    latency_ms = args.latency_ms if args.latency_ms is not None else (10.0 if args.quick else 50.0)
    workers = args.workers or int(Settings.model_fields["harvest_workers"].default)
    processes = args.processes or min(4, os.cpu_count() or 1)
    sizes = QUICK_DATASETS if args.quick else SIM_DEFAULT_DATASETS
    http_settings = HttpSettings(per_host_concurrency=2, per_host_min_delay_s=args.min_delay_s, max_retries=1)

    seed = load_seed()
    plans = seed.sources(only=QUICK_JURISDICTIONS if args.quick else None)
    jurisdictions = jurisdiction_lookup(seed)

    for name in ("per_host_concurrency", "per_host_min_delay_s", "max_retries", "timeout_s", "backoff_base_s"):
        print(f"setting.{name}={getattr(http_settings, name)}")
    print(f"setting.workers={workers}")
    print(f"setting.processes={processes}")
    print(f"setting.latency_ms={latency_ms:g}")
    print(f"setting.datasets_per_portal={sizes[0]}-{sizes[1]}")
    print(f"setting.quick={int(args.quick)}")

    print("setting.simulator=own process")
    sim = RemoteSimulator(args.seed_number, sizes, latency_ms)
    with tempfile.TemporaryDirectory(prefix="pdi-bench-harvest-") as tmp:
        full_dir, seq_dir = Path(tmp) / "full", Path(tmp) / "sequential"
        full_dir.mkdir()
        seq_dir.mkdir()

        full = harvest(sim, full_dir, plans, jurisdictions, http_settings, workers, processes, "full")
        noop = harvest(sim, full_dir, plans, jurisdictions, http_settings, workers, processes, "noop")
        seq = (
            None
            if args.no_sequential
            else harvest(sim, seq_dir, plans, jurisdictions, http_settings, 1, 1, "sequential")
        )
    sim.close()

    latency_s = latency_ms / 1000
    requests_total = sum(full.per_host.values()) + full.stray
    top_host, top_requests = full.per_host.most_common(1)[0]
    politeness = top_requests * latency_s / http_settings.per_host_concurrency
    serial_source = top_requests * latency_s
    latency_bound = max(serial_source, requests_total * latency_s / workers)

    print(f"sources={len(plans)}")
    for platform, n in sorted(Counter(p.platform for p in plans).items()):
        print(f"sources.{platform}={n}")
    print(f"requests={requests_total}")
    print(f"hosts={len(full.per_host)}")
    print(f"requests_for_no_portal={full.stray}")
    print(f"datasets_seen={sum(s.records_seen for s in full.summary.sources)}")
    print(f"records_kept={full.summary.records_new}")
    print(f"full_status={full.summary.status.value}")
    print(f"full_wall_s={full.wall_s:.2f}")
    print(f"full_cpu_s={full.cpu_s:.2f}")
    print(f"full_simulator_cpu_s={full.simulator_cpu_s:.2f}")
    slowest = max(full.summary.sources, key=lambda s: s.duration_s)
    print(f"slowest_source={slowest.source_id}")
    print(f"slowest_source_s={slowest.duration_s:.2f}")
    print(f"busiest_host={top_host}")
    print(f"busiest_host_requests={top_requests}")
    print(f"politeness_bound_s={politeness:.2f}")
    print(f"wall_over_politeness_bound={full.wall_s / politeness:.2f}")
    print(f"serial_source_bound_s={serial_source:.2f}")
    print(f"latency_bound_s={latency_bound:.2f}")
    print(f"wall_over_latency_bound={full.wall_s / latency_bound:.2f}")
    if seq is not None:
        print(f"sequential_status={seq.summary.status.value}")
        print(f"sequential_requests={sum(seq.per_host.values()) + seq.stray}")
        print(f"sequential_wall_s={seq.wall_s:.2f}")
        print(f"sequential_cpu_s={seq.cpu_s:.2f}")
        print(f"sequential_over_wall={seq.wall_s / full.wall_s:.2f}")
    print(f"noop_status={noop.summary.status.value}")
    print(f"noop_requests={sum(noop.per_host.values()) + noop.stray}")
    print(f"noop_not_modified={noop.not_modified}")
    print(f"noop_records_unchanged={noop.summary.records_unchanged}")
    print(f"noop_records_changed={noop.summary.records_new + noop.summary.records_changed}")
    print(f"noop_wall_s={noop.wall_s:.2f}")
    print(f"noop_cpu_s={noop.cpu_s:.2f}")
    print(f"noop_over_full={noop.wall_s / full.wall_s:.2f}")
    for t, label in ((full, "full"), (noop, "noop"), (seq, "sequential")):
        if t is not None:
            print(f"{label}_client_requests={t.client_requests}")


if __name__ == "__main__":
    main()
