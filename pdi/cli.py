"""The `pdi` command: harvest, index, search and serve the PDI catalog.

Progress goes to stderr; results and the closing summary go to stdout, so `--json` output can be
piped (its last stdout line is one JSON object).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from catalog_seed import SeedError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


_CONTROL = dict.fromkeys([*range(0, 9), *range(11, 32), 127, *range(128, 160)], "?")


def _printable(text: str) -> str:
    """Portal text for a terminal: control characters (escape sequences) shown as '?'."""
    return str(text).translate(_CONTROL)


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _settings(args: argparse.Namespace) -> Any:
    from pdi.settings import load_settings

    overrides: dict[str, object] = {}
    for name in ("data_dir", "port", "host", "seed_dir", "index_url", "database_url"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    return load_settings(**overrides)


# ---- harvest -------------------------------------------------------------------------------


class _RunningSimulator:
    """A demo simulator another `pdi` process (e.g. `pdi up --demo`) is already serving."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def route(self, url: str) -> str:
        from simulator.server import route_url

        return route_url(self.base_url, url)


def _running_simulator(port: int, seed_number: int) -> _RunningSimulator | None:
    import requests

    base = f"http://127.0.0.1:{port}"
    try:
        info = requests.get(f"{base}/_sim", timeout=5).json()
    except (requests.RequestException, ValueError):
        return None
    if isinstance(info, dict) and info.get("seed_number") == seed_number and "portals" in info:
        return _RunningSimulator(base)
    return None


def _demo_today(sim: Any) -> None:
    """The demo's portals live on today's date (UTC midnight): their catalog is generated as of the
    simulator's fixed start, and every dataset has since been updated on its schedule (stale ones
    not), as real portals would be. Freshness, judged by the wall clock, then reads as it would on
    real portals, whatever the day; two runs on one day serve the same data."""
    from datetime import UTC, datetime

    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    days = (today - sim.now).total_seconds() / 86400
    if days > 0:
        sim.advance(days)


def _start_demo_simulator(settings: Any, stack: ExitStack, seed: Any) -> Any:
    from simulator.server import PortalSimulator

    sim = PortalSimulator(seed, seed_number=settings.demo_seed_number, port=settings.demo_port)
    _demo_today(sim)
    try:
        sim.start()
    except OSError as exc:
        running = _running_simulator(settings.demo_port, settings.demo_seed_number)
        if running is not None:
            _err(f"demo: using the portal simulator already serving at {running.base_url}")
            return running
        raise SystemExit(
            f"pdi: cannot start the demo portal simulator on port {settings.demo_port}: {exc}. "
            "Set PDI_DEMO_PORT to a free port."
        ) from None
    stack.callback(sim.stop)
    _err(f"demo: portal simulator serving {len(seed.sources())} sources at {sim.base_url}")
    return sim


def _run_factory(rt: Any, sim: Any, progress: Any = None, full: bool = False) -> Any:
    """Builds harvest runs over the runtime's store and index (a fresh HTTP client each)."""
    from dataclasses import replace
    from functools import partial

    from harvesters.http import HttpClient
    from pdi.runtime import harvest_parts
    from scheduler.run import HarvestRun, Shards
    from store.store import StoreHttpCache

    http_settings = rt.settings.http()
    if sim is not None and "http_per_host_min_delay_s" not in rt.settings.model_fields_set:
        # the demo's portals are our own simulator on loopback: no need to space requests out
        http_settings = replace(http_settings, per_host_min_delay_s=0.0)

    processes = rt.settings.harvest_processes or min(4, os.cpu_count() or 1)
    open_parts = partial(harvest_parts, rt.settings, http_settings, sim.base_url if sim is not None else None)
    shards = Shards(processes, open_parts) if processes > 1 else None

    def make_run() -> HarvestRun:
        return HarvestRun(
            rt.store,
            rt.index,
            rt.jurisdictions,
            HttpClient(http_settings, route=sim.route if sim is not None else None, cache=StoreHttpCache(rt.store)),
            withdraw_after=rt.settings.withdraw_after,
            workers=rt.settings.harvest_workers,
            progress=progress,
            probes=rt.settings.probes(full=full),
            shards=shards,
        )

    return make_run


def _background_trigger(rt: Any, sim: Any) -> Any:
    """Harvest now in a thread of this process (when no scheduler runs in it)."""
    import threading

    make_run = _run_factory(rt, sim)

    def trigger(source_ids: list[str] | None) -> dict[str, Any]:
        wanted = set(source_ids) if source_ids is not None else None
        plans = [p for p in rt.seed.sources() if wanted is None or p.source_id in wanted]
        threading.Thread(target=lambda: make_run().run(plans, trigger="api"), daemon=True).start()
        return {"sources": [p.source_id for p in plans], "mode": "background"}

    return trigger


def _run_harvest(rt: Any, args: argparse.Namespace, sim: Any) -> Any:
    from scheduler.run import SourceResult

    only = args.jurisdiction or None
    if only:
        unknown = [j for j in only if rt.seed.get(j) is None]
        if unknown:
            raise SystemExit(f"pdi: unknown jurisdiction id(s): {', '.join(unknown)} (see `pdi jurisdictions`)")
    plans = rt.seed.sources(only=only)
    done = 0

    def progress(event: str, r: SourceResult) -> None:
        nonlocal done
        if event == "done":
            done += 1
            mark = {"succeeded": "ok  ", "skipped": "skip"}.get(r.status.value, "FAIL")
            line = (
                f"[{done}/{len(plans)}] {mark} {r.source_id}: {r.records_seen} datasets, "
                f"{r.records_new} new, {r.records_changed} changed, {r.records_unchanged} unchanged, "
                f"{r.records_withdrawn} withdrawn, {r.records_skipped} not police ({r.duration_s:.1f}s)"
            )
            if r.unchanged_by_probe:
                line += " — unchanged since the last whole read (probe)"
            if r.error:
                line += f" — {_printable(r.error)}"
            _err(line)
        elif event == "progress" and not args.quiet:
            _err(f"      … {r.source_id}: {r.records_seen} datasets read")

    _err(f"harvesting {len(plans)} sources with {rt.settings.harvest_workers} workers")
    make_run = _run_factory(rt, sim, progress, full=bool(getattr(args, "full", False)))
    return make_run().run(plans, trigger="demo" if sim is not None else "cli")


def _summary_line(s: Any) -> str:
    return (
        f"harvest {s.status.value}: {s.sources_ok}/{s.sources_total} sources ok, {s.sources_failed} failed; "
        f"records {s.records_new} new, {s.records_changed} changed, {s.records_unchanged} unchanged, "
        f"{s.records_withdrawn} withdrawn, {s.records_failed} failed; {s.requests} requests in {s.duration_s:.1f}s "
        f"(run {s.run_id})"
    )


def cmd_harvest(args: argparse.Namespace) -> int:
    from pdi.runtime import open_runtime

    settings = _settings(args)
    with ExitStack() as stack:
        rt = open_runtime(settings)
        stack.callback(rt.close)
        sim = _start_demo_simulator(settings, stack, rt.seed) if args.demo else None
        summary = _run_harvest(rt, args, sim)
        datasets = rt.store.dataset_counts()
    if args.json:
        print(json.dumps({**summary.as_dict(), **datasets}), flush=True)
    else:
        print(
            f"{_summary_line(summary)}; {datasets['datasets_active']} datasets active, "
            f"{datasets['datasets_merged']} of them seen through several sources",
            flush=True,
        )
    return EXIT_OK if summary.sources_failed == 0 else EXIT_FAILED


# ---- serve / up ----------------------------------------------------------------------------


def _serve(rt: Any, host: str, port: int, trigger: Any = None) -> None:
    import uvicorn

    from api.app import create_app
    from index.base import IndexOutdated, IndexUnavailable
    from index.sync import sync_index
    from pdi.runtime import rebuild_index

    try:
        try:
            report = sync_index(rt.store, rt.index, rt.jurisdictions)
        except IndexOutdated as exc:
            _err(f"{exc}; rebuilding it from the store now")
            indexed, failed, seconds = rebuild_index(rt.store, rt.index, rt.jurisdictions)
            _err(f"reindexed {indexed} records ({failed} failed) in {seconds:.1f}s")
        else:
            if report.changed:
                _err(f"index caught up with the store: {report.indexed} indexed, {report.deleted} removed")
    except IndexUnavailable as exc:
        _err(f"warning: the search index is unavailable ({exc}); search answers 503 until it is back")
    app = create_app(rt.settings, rt.store, rt.index, rt.seed, trigger=trigger)
    _err(f"serving the web UI at http://{host}:{port}/ and the API at http://{host}:{port}/api (docs: /docs)")
    uvicorn.run(app, host=host, port=port, log_level="warning")


def cmd_serve(args: argparse.Namespace) -> int:
    from pdi.runtime import open_runtime

    settings = _settings(args)
    rt = open_runtime(settings)
    try:
        _serve(rt, settings.host, settings.port, trigger=_background_trigger(rt, None))
    finally:
        rt.close()
    return EXIT_OK


def cmd_up(args: argparse.Namespace) -> int:
    from pdi.runtime import open_runtime

    settings = _settings(args)
    with ExitStack() as stack:
        rt = open_runtime(settings)
        stack.callback(rt.close)
        # The demo simulator keeps running while the API serves, so dataset links resolve.
        sim = _start_demo_simulator(settings, stack, rt.seed) if args.demo else None
        if not args.no_harvest:
            summary = _run_harvest(rt, args, sim)
            _err(_summary_line(summary))
        # the scheduler runs in this process: next harvests one period after this one
        from datetime import UTC, datetime

        from scheduler.service import SchedulerService

        service = SchedulerService(rt.store, rt.seed, _run_factory(rt, sim), workers=2)
        service.start(first_run=datetime.now(UTC) + service.policy.default_period)
        stack.callback(service.shutdown, False)

        def trigger(source_ids: list[str] | None) -> dict[str, Any]:
            return {"sources": service.run_now(source_ids), "mode": "scheduler"}

        _serve(rt, settings.host, settings.port, trigger=trigger)
    return EXIT_OK


# ---- search, map, reindex, seed ----------------------------------------------------------


def cmd_scheduler(args: argparse.Namespace) -> int:
    """Run the harvest scheduler as a service of its own, until SIGTERM or Ctrl-C.

    One persisted job per source (see scheduler/service.py); sources never harvested before run
    now, the others keep their stored next-run time. ``--once`` harvests every source once and exits.
    """
    import signal
    import threading
    from datetime import UTC, datetime, timedelta

    from pdi.runtime import open_runtime
    from scheduler.service import SchedulePolicy, SchedulerService

    settings = _settings(args)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with ExitStack() as stack:
        rt = open_runtime(settings)
        stack.callback(rt.close)
        sim = _start_demo_simulator(settings, stack, rt.seed) if args.demo else None
        if args.once:
            summary = _run_harvest(rt, args, sim)
            print(_summary_line(summary), flush=True)
            return EXIT_OK if summary.sources_failed == 0 else EXIT_FAILED
        policy = SchedulePolicy(default_period=timedelta(hours=args.every))
        service = SchedulerService(rt.store, rt.seed, _run_factory(rt, sim), policy=policy)
        service.start(first_run=datetime.now(UTC))
        stack.callback(service.shutdown)
        jobs = service.scheduler.get_jobs()
        soonest = min((j.next_run_time for j in jobs if j.next_run_time), default=None)
        _err(f"scheduler: {len(jobs)} sources scheduled every {args.every:g} h; next run {soonest}")
        try:
            while not stop.wait(1.0):
                pass
        except KeyboardInterrupt:
            pass
        _err("scheduler: stopping (running harvests finish first)")
    return EXIT_OK


def cmd_search(args: argparse.Namespace) -> int:
    from index.base import SearchQuery, SortOrder
    from pdi.runtime import open_runtime

    rt = open_runtime(_settings(args))
    try:
        filters: dict[str, list[str]] = {"status": ["active"]}
        for name in ("jurisdiction", "category", "state"):
            values = getattr(args, name)
            if values:
                filters[name] = values
        page = rt.index.search(SearchQuery(q=args.query, filters=filters, sort=SortOrder(args.sort), size=args.size))
    finally:
        rt.close()
    if args.json:
        print(
            json.dumps(
                {
                    "total": page.total,
                    "results": [h.summary for h in page.hits],
                    "facets": {k: [[f.value, f.count] for f in v] for k, v in page.facets.items()},
                    "next_cursor": page.next_cursor,
                }
            )
        )
        return EXIT_OK
    for hit in page.hits:
        s = hit.summary
        where = ", ".join(j["name"] + " " + j["state"] for j in s.get("jurisdictions", [])) or "?"
        print(f"{_printable(s['title'])}  [{where}]  {', '.join(s.get('categories', []))}\n    {s['id']}")
    cats = ", ".join(f"{f.value} {f.count}" for f in page.facets.get("category", [])[:8])
    print(f"{page.total} datasets match" + (f"; categories: {cats}" if cats else ""))
    return EXIT_OK


def cmd_map(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from catalog.classify import classify_record
    from catalog.ids import source_id
    from harvesters import registry
    from harvesters.base import SourceContext
    from harvesters.detect import detect_platform

    path = Path(args.file)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        _err(f"pdi map: {path}: no such file")
        return EXIT_USAGE
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        _err(f"pdi map: {path}: not a JSON document: {exc}")
        return EXIT_USAGE
    try:
        platform = args.platform or detect_platform(document)
        harvester = registry.get(platform)
        if args.platform and not harvester.recognizes(document):
            raise ValueError(f"the file does not have the shape of a {platform} response")
    except (ValueError, KeyError) as exc:
        _err(f"pdi map: {path}: {exc}")
        return EXIT_USAGE
    url = f"file://{path.resolve()}"
    ctx = SourceContext(source_id=source_id(platform, url), platform=platform, url=url)
    fetched = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    count = failed = 0
    for raw in harvester.split_document(document, url, fetched):
        try:
            record = classify_record(harvester.map_record(raw, ctx))
        except Exception as exc:  # noqa: BLE001 - report the record, keep going
            failed += 1
            _err(f"pdi map: {path}: record {raw.remote_id!r} could not be mapped: {exc}")
            continue
        print(json.dumps(record.to_dcat(), ensure_ascii=False))
        count += 1
    _err(f"mapped {count} record(s) from {path.name} as {platform}" + (f", {failed} failed" if failed else ""))
    if count == 0 and failed == 0:
        _err(f"pdi map: {path}: no datasets found in the document")
        return EXIT_USAGE
    return EXIT_OK if failed == 0 else EXIT_FAILED


def _numbered_lines(path: str | None) -> Iterator[tuple[int, bytes]]:
    """(line number, raw line) of a file, or of stdin when ``path`` is None or ``-``."""
    if path in (None, "-"):
        yield from enumerate(sys.stdin.buffer, start=1)
        return
    with open(path, "rb") as f:
        yield from enumerate(f, start=1)


def cmd_classify(args: argparse.Namespace) -> int:
    """Classify JSON lines: each line back with its categories. A bad line is reported and
    skipped; the others are still written, and the exit status is 2."""
    from catalog.classify import InputError, classify_input, parse_input

    name = args.file if args.file not in (None, "-") else "stdin"
    if args.file not in (None, "-") and not Path(args.file).is_file():
        _err(f"pdi classify: {args.file}: no such file")
        return EXIT_USAGE
    total = police = bad = 0
    try:
        for number, raw in _numbered_lines(args.file):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw.decode("utf-8"))
                result = classify_input(parse_input(obj))
            except UnicodeDecodeError:
                bad += 1
                _err(f"pdi classify: {name}: line {number}: not UTF-8 text; skipped")
                continue
            except json.JSONDecodeError as exc:
                bad += 1
                _err(f"pdi classify: {name}: line {number}: not JSON ({exc.msg} at column {exc.colno}); skipped")
                continue
            except InputError as exc:
                bad += 1
                _err(f"pdi classify: {name}: line {number}: {exc}; skipped")
                continue
            obj["categories"] = result.category_ids
            if args.explain:
                obj["classification"] = {
                    "police_related": result.police_related,
                    "categories": [c.model_dump(mode="json") for c in result.categories],
                    "evidence": result.evidence,
                }
            print(json.dumps(obj, ensure_ascii=False))
            total += 1
            police += result.police_related
    except OSError as exc:
        _err(f"pdi classify: {name}: {exc.strerror or exc}")
        return EXIT_USAGE
    sys.stdout.flush()
    _err(
        f"classified {total} line(s) from {name}: {police} police, {total - police} not police"
        + (f"; {bad} bad line(s) skipped" if bad else "")
    )
    return EXIT_USAGE if bad else EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    """Try a source before adding it: read one page, say which platform it is, how many datasets
    it has and how many of them look police-related. Stores nothing."""
    from catalog.classify import classify_record
    from catalog.ids import source_id
    from harvesters import registry
    from harvesters.base import GatherStats, SourceContext
    from harvesters.http import HttpClient, HttpSettings

    settings = _settings(args)
    url = args.url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        _err(f"pdi check: {args.url!r} is not an http(s) URL")
        return EXIT_USAGE
    with ExitStack() as stack:
        sim = None
        if args.demo:
            from catalog_seed import load_seed

            sim = _start_demo_simulator(settings, stack, load_seed(settings.seed_dir))
        http = HttpClient(
            HttpSettings(
                timeout_s=min(settings.http_timeout_s, 20), max_retries=1, user_agent=settings.http_user_agent
            ),
            route=sim.route if sim is not None else None,
        )
        # platform APIs first; data.json, which many platforms also publish, last
        names = [args.platform] if args.platform else sorted(registry.names(), key=lambda n: (n == "dcat_us", n))
        tried: list[str] = []
        for name in names:
            harvester = registry.get(name)
            candidates = [url]
            if name == "dcat_us" and not url.endswith(".json"):
                candidates += [f"{url}/data.json", f"{url}/api/feed/dcat-us/1.1.json"]
            for candidate in candidates:
                ctx = SourceContext(source_id=source_id(name, candidate), platform=name, url=candidate)
                stats = GatherStats()
                sample = []
                try:
                    for raw in harvester.gather(ctx, http, stats):
                        sample.append(classify_record(harvester.map_record(raw, ctx)))
                        if stats.pages >= 1 and len(sample) >= args.sample:
                            break
                except Exception as exc:  # noqa: BLE001 - not this platform; try the next
                    tried.append(f"{name} ({candidate}): {str(exc)[:120]}")
                    continue
                if not sample:
                    tried.append(f"{name} ({candidate}): no datasets")
                    continue
                police = [r for r in sample if r.pdi.police_related]
                result = {
                    "url": candidate,
                    "platform": name,
                    "datasets": stats.total,
                    "sampled": len(sample),
                    "police_related": len(police),
                    "examples": [{"title": r.title, "categories": r.pdi.category_ids} for r in police[:10]],
                }
                if args.json:
                    print(json.dumps(result))
                else:
                    total = stats.total if stats.total is not None else f"at least {len(sample)}"
                    print(f"{candidate}: a {harvester.title} source with {total} datasets")
                    print(f"  {len(police)} of the {len(sample)} read look police-related:")
                    for r in police[:10]:
                        print(f"    {_printable(r.title)}  [{', '.join(r.pdi.category_ids)}]")
                return EXIT_OK
    _err(f"pdi check: {url}: no platform answered ({'; '.join(tried) or 'nothing tried'})")
    return EXIT_FAILED


def cmd_reindex(args: argparse.Namespace) -> int:
    from pdi.runtime import open_runtime, rebuild_index

    rt = open_runtime(_settings(args))
    try:
        indexed, failed, seconds = rebuild_index(
            rt.store, rt.index, rt.jurisdictions, progress=lambda n: _err(f"  … {n} indexed")
        )
    finally:
        rt.close()
    result = {"indexed": indexed, "failed": failed, "seconds": round(seconds, 2)}
    print(json.dumps(result) if args.json else f"reindexed {indexed} records ({failed} failed) in {seconds:.1f}s")
    return EXIT_OK if failed == 0 else EXIT_FAILED


def cmd_coverage(args: argparse.Namespace) -> int:
    import csv
    from datetime import UTC, datetime

    from catalog.coverage import CSV_COLUMNS, coverage_rows
    from catalog.vocabulary import Category
    from catalog_seed import load_seed
    from store import Store
    from store.coverage import commitments_of, current_coverage

    settings = _settings(args)
    seed = load_seed(settings.seed_dir)
    only = [j for part in args.jurisdiction or [] for j in part.split(",") if j.strip()]
    unknown = [j for j in only if seed.get(j.strip()) is None]
    if unknown:
        _err(f"pdi coverage: unknown jurisdiction id(s): {', '.join(unknown)} (see `pdi seed`)")
        return EXIT_USAGE
    categories = [c.strip() for part in args.category or [] for c in part.split(",") if c.strip()]
    bad = [c for c in categories if c not in {k.value for k in Category}]
    if bad:
        _err(f"pdi coverage: unknown category id(s): {', '.join(bad)} (known: {', '.join(c.value for c in Category)})")
        return EXIT_USAGE
    rows = [r for r in commitments_of(seed) if not only or r.id in {j.strip() for j in only}]
    store = Store(settings.store_url)
    try:
        store.create_schema()
        now = datetime.now(UTC)
        matrix = current_coverage(store, rows, now, categories or None)
    finally:
        store.close()
    overall = matrix["totals"]["overall"]
    if args.json:
        print(json.dumps({"generated_at": now.isoformat(), **matrix}))
        return EXIT_OK
    if args.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(coverage_rows(matrix))
        return EXIT_OK
    print(f"{'jurisdiction':28} {'committed':>9} {'kept':>5} {'records':>7} {'fresh':>6} {'overdue':>7} {'delinq.':>7}")
    for j in matrix["jurisdictions"]:
        cells = j["cells"]
        missing = [c for c, cell in cells.items() if cell["committed"] and not cell["published"]]
        kept = j["committed"] - len(missing)
        print(
            f"{j['id']:28} {j['committed']:>9} {kept:>5} {j['published']:>7} {j['fresh']:>6} "
            f"{j['overdue']:>7} {j['delinquent']:>7}" + (f"  missing: {', '.join(missing)}" if missing else "")
        )
    print()
    print(f"{'category':28} {'committed':>9} {'kept':>5} {'records':>7} {'fresh':>6} {'overdue':>7} {'delinq.':>7}")
    for cid, t in matrix["totals"]["by_category"].items():
        print(
            f"{cid:28} {t['committed']:>9} {t['committed_published']:>5} {t['published']:>7} {t['fresh']:>6} "
            f"{t['overdue']:>7} {t['delinquent']:>7}"
        )
    print(
        f"coverage: {overall['committed_published']} of {overall['committed']} commitments published "
        f"({overall['missing']} missing); {overall['published']} records: {overall['fresh']} fresh, "
        f"{overall['overdue']} overdue, {overall['delinquent']} delinquent (as of {now:%Y-%m-%d %H:%M} UTC)"
    )
    return EXIT_OK


def cmd_seed(args: argparse.Namespace) -> int:
    from catalog_seed import load_seed

    settings = _settings(args)
    seed = load_seed(settings.seed_dir)
    plans = seed.sources()
    portals = sum(len(j.portals) for j in seed)
    if args.json:
        print(
            json.dumps(
                {
                    "jurisdictions": len(seed),
                    "portals": portals,
                    "sources": len(plans),
                    "original_21": sum(1 for j in seed if j.in_original_21),
                }
            )
        )
    else:
        for j in seed:
            harvested = sum(len(p.sources) for p in j.portals)
            print(f"{j.id:28} {j.name}, {j.state}  portals {len(j.portals)}, sources {harvested}")
        print(
            f"seed OK: {len(seed)} jurisdictions ({sum(1 for j in seed if j.in_original_21)} of the original 21), "
            f"{portals} portals, {len(plans)} harvestable sources"
        )
    return EXIT_OK


def cmd_simulator(args: argparse.Namespace) -> int:
    from catalog_seed import load_seed
    from simulator.server import PortalSimulator

    settings = _settings(args)
    sim = PortalSimulator(load_seed(settings.seed_dir), seed_number=args.seed_number, port=args.sim_port)
    _demo_today(sim)
    sim.start()
    print(sim.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return EXIT_OK


def cmd_platforms(args: argparse.Namespace) -> int:
    from harvesters import registry

    harvesters = registry.all_harvesters()
    width = max(len(h.platform) for h in harvesters)
    for h in harvesters:
        print(f"{h.platform:{width}}  {h.title}")
    return EXIT_OK


# ---- parser --------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pdi",
        description="PDI Catalog: harvest, index, search and serve police open data of the PDI jurisdictions.",
    )
    parser.add_argument("--data-dir", type=Path, help="where the store and index live (default ./data)")
    parser.add_argument("--seed-dir", type=Path, help="catalog seed directory (default: the bundled seed)")
    parser.add_argument(
        "--index-url", help="search index: http(s)://host:9200 for Elasticsearch (default: embedded, PDI_INDEX_URL)"
    )
    parser.add_argument("--database-url", help="store: SQLAlchemy URL such as postgresql://… (PDI_DATABASE_URL)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def harvest_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument("--demo", action="store_true", help="harvest from the local portal simulator")
        p.add_argument(
            "--jurisdiction",
            action="append",
            metavar="ID",
            help="only sources of this jurisdiction (repeatable)",
        )
        p.add_argument("--quiet", action="store_true", help="only one line per source")
        p.add_argument(
            "--full",
            action="store_true",
            help="read every catalog whole, even where its probe says nothing changed since the last read",
        )

    p = sub.add_parser("up", help="harvest everything in the seed, index it, then serve the API and web UI")
    harvest_opts(p)
    p.add_argument("--port", type=int, help="API port (default 8000)")
    p.add_argument("--host", help="API address (default 127.0.0.1)")
    p.add_argument("--no-harvest", action="store_true", help="serve what the store holds, without harvesting")
    p.set_defaults(func=cmd_up)

    p = sub.add_parser("harvest", help="harvest the seeded sources now and index what changed")
    harvest_opts(p)
    p.add_argument("--json", action="store_true", help="end with one JSON summary line on stdout")
    p.set_defaults(func=cmd_harvest)

    p = sub.add_parser("scheduler", help="harvest now and then periodically, as a service of its own")
    harvest_opts(p)
    p.add_argument("--every", type=float, default=24.0, metavar="HOURS", help="hours between harvests (default 24)")
    p.add_argument("--once", action="store_true", help="harvest once and exit")
    p.set_defaults(func=cmd_scheduler)

    p = sub.add_parser("serve", help="serve the API and web UI over what the store and index hold")
    p.add_argument("--port", type=int, help="API port (default 8000)")
    p.add_argument("--host", help="API address (default 127.0.0.1)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("search", help="search the catalog from the command line")
    p.add_argument("query", help="words to find")
    p.add_argument("--jurisdiction", action="append", metavar="ID")
    p.add_argument("--category", action="append", metavar="ID")
    p.add_argument("--state", action="append", metavar="XX")
    p.add_argument("--sort", choices=["relevance", "modified"], default="relevance")
    p.add_argument("--size", type=int, default=10)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("map", help="map one recorded portal response to common records (JSON lines)")
    p.add_argument("file", help="a recorded response of a platform `pdi platforms` lists (Socrata, CKAN, data.json …)")
    p.add_argument("--platform", help="skip shape detection (a name `pdi platforms` lists, e.g. arcgis_online)")
    p.set_defaults(func=cmd_map)

    p = sub.add_parser(
        "classify",
        help="give JSON lines of dataset metadata their PDI categories",
        description="Read JSON lines (a file, or stdin) with any of title, description, keywords (a list or a "
        "comma-separated string), theme (the portal's category) and columns (names, or objects with a name); "
        "write each line back, all its fields kept, with 'categories': PDI category ids, best first, [] when "
        "the dataset is not about policing. A line of `pdi map` output is accepted as it is. A bad line (not "
        "JSON, not an object, a wrong type, none of those fields) is reported on stderr with its line number "
        "and skipped; the other lines are still written and the exit status is 2.",
    )
    p.add_argument("file", nargs="?", help="a JSON-lines file (default: stdin; '-' also means stdin)")
    p.add_argument(
        "--explain",
        action="store_true",
        help="also write 'classification': police_related, and each category's confidence and evidence",
    )
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("check", help="try a portal URL before adding it: platform, datasets, police share")
    p.add_argument("url", help="the portal's root URL (or a data.json / feed URL)")
    p.add_argument("--platform", help="skip detection (socrata, ckan, dcat_us, …)")
    p.add_argument("--sample", type=int, default=100, help="datasets to read and classify (default 100)")
    p.add_argument("--demo", action="store_true", help="ask the local portal simulator instead of the internet")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("reindex", help="rebuild the search index from the store (no re-harvest)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_reindex)

    p = sub.add_parser(
        "coverage",
        help="the commitment coverage matrix: committed, published and fresh per jurisdiction and category",
        description=(
            "Per jurisdiction and PDI category: whether the seed commits it to publish, how many active "
            "police records it publishes, and how many are fresh, overdue and delinquent (HDX "
            "data-freshness rules, judged now); totals per category and overall. 'kept' counts "
            "committed categories with at least one record."
        ),
    )
    p.add_argument("--jurisdiction", action="append", metavar="ID", help="only this jurisdiction (repeatable)")
    p.add_argument("--category", action="append", metavar="ID", help="only this category (repeatable)")
    form = p.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="the matrix as JSON (the body of GET /api/coverage)")
    form.add_argument("--csv", action="store_true", help="one CSV row per jurisdiction × category")
    p.set_defaults(func=cmd_coverage)

    p = sub.add_parser("seed", help="validate the catalog seed and list its jurisdictions")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_seed)

    p = sub.add_parser("simulator", help="run the portal simulator alone (prints its base URL)")
    p.add_argument("--port", dest="sim_port", type=int, default=8765, help="port (default 8765; 0 picks one)")
    p.add_argument("--seed-number", type=int, default=2015, help="same number, same generated catalog")
    p.set_defaults(func=cmd_simulator)

    p = sub.add_parser("platforms", help="list the harvester platforms")
    p.set_defaults(func=cmd_platforms)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    from index.base import IndexUnavailable
    from pdi.settings import SettingsError
    from store import StoreError

    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
    except (SettingsError, SeedError) as exc:
        _err(f"pdi: {exc}")
        code = EXIT_USAGE
    except (StoreError, IndexUnavailable) as exc:
        # a database or index that cannot be reached: one line, not a traceback
        _err(f"pdi: {exc}")
        code = EXIT_FAILED
    except KeyboardInterrupt:
        _err("pdi: interrupted")
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    main()
