"""Two real OS processes writing one store at once, as the API process and a separate harvest
process (or two harvests) do: against a SQLite file and against PostgreSQL (see tests/test_store.py
for how the PostgreSQL server is found)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from store import Store
from store import schema as t
from store.store import RunStatus
from tests.test_store import BACKENDS, backend_url

REPO = Path(__file__).resolve().parents[1]
SHARED = 300  # records both processes harvest (one shared source)
OWN = 100  # records only one process harvests (a source of its own)
TIMEOUT_S = 180

HARVEST = textwrap.dedent(
    """
    import json, sys, time
    from datetime import UTC, datetime
    from pathlib import Path
    from store import Store
    from store.store import ChangeKind, RunStatus
    from tests.factories import make_record

    url, name, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    shared_n, own_n = int(sys.argv[4]), int(sys.argv[5])
    store = Store(url)
    store.create_schema()  # both processes at once, on a database that has no tables yet
    run = store.start_run(f"proc-{name}", 2)
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.005)
    counts = {k.value: 0 for k in ChangeKind}
    fetched = datetime.now(UTC)

    def harvest(source, records):
        source_run = store.start_source_run(run, source, "socrata", "https://x.invalid")
        seen = set()
        for rec in records:
            kind = store.upsert_record(
                rec, source_url="https://x.invalid", raw_content={"by": name}, fetched_at=fetched, run_id=run
            )
            counts[kind.value] += 1
            seen.add(rec.id)
        withdrawn = store.settle_source(source, seen, run_id=run, withdraw_after=1)
        counts["withdrawn"] += len(withdrawn)
        store.finish_source_run(source_run, RunStatus.SUCCEEDED, complete=True, records_seen=len(records))

    shared = []
    for i in range(shared_n):
        # every fourth record differs between the two processes: both write it, one as a change
        title = f"Use of Force {i}" + (f" as seen by {name}" if i % 4 == 0 else "")
        shared.append(make_record(f"shared-{i:04d}", title, source="socrata:data.shared.gov"))
    own_source = f"socrata:data.{name}.gov"
    own = [make_record(f"own-{i:04d}", f"Arrests {i}", source=own_source) for i in range(own_n)]
    harvest("socrata:data.shared.gov", shared if name == "a" else list(reversed(shared)))
    harvest(own_source, own)
    store.finish_run(run, RunStatus.SUCCEEDED, {"sources_ok": 2}, 0.0)
    store.close()
    print(json.dumps(counts), flush=True)
    """
)

HOLD_A_RUN = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from store import Store
    from store.store import RunStatus

    store = Store(sys.argv[1])
    store.create_schema()
    run = store.start_run("held", 1)
    print(run, flush=True)
    release = Path(sys.argv[2])
    while not release.exists():
        time.sleep(0.01)
    store.finish_run(run, RunStatus.SUCCEEDED, {}, 0.0)
    store.close()
    print("done", flush=True)
    """
)


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with backend_url(request.param, tmp_path) as url:
        yield url


def _spawn(code: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(  # noqa: S603 - our own interpreter and snippet
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _first_line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line:
        _, err = proc.communicate(timeout=TIMEOUT_S)
        pytest.fail(f"the process ended before saying it was ready: {err}")
    return line


def test_two_processes_harvest_into_one_store_at_once(store_url, tmp_path):
    go = tmp_path / "go"
    procs = {name: _spawn(HARVEST, store_url, name, str(go), str(SHARED), str(OWN)) for name in ("a", "b")}
    try:
        for proc in procs.values():
            assert _first_line(proc) == "ready"
        go.touch()
        outputs = {name: proc.communicate(timeout=TIMEOUT_S) for name, proc in procs.items()}
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
    for name, proc in procs.items():
        out, err = outputs[name]
        assert proc.returncode == 0, f"process {name} failed:\n{err}"
        assert "Traceback" not in err, err
    counts = {name: json.loads(outputs[name][0].strip().splitlines()[-1]) for name in procs}

    # each shared record is NEW exactly once; the other process saw it stored, or changed it
    assert counts["a"]["new"] + counts["b"]["new"] == SHARED + 2 * OWN
    assert sum(c["new"] + c["unchanged"] + c["changed"] for c in counts.values()) == 2 * SHARED + 2 * OWN
    assert counts["a"]["withdrawn"] == counts["b"]["withdrawn"] == 0
    differing = len(range(0, SHARED, 4))
    assert counts["a"]["changed"] + counts["b"]["changed"] == differing

    store = Store(store_url)
    try:
        with store.engine.connect() as conn:

            def scalar(query):  # type: ignore[no-untyped-def]
                return conn.execute(query).scalar_one()

            assert scalar(select(func.count()).select_from(t.records)) == SHARED + 2 * OWN
            assert scalar(select(func.count(func.distinct(t.records.c.id)))) == SHARED + 2 * OWN
            assert scalar(select(func.count()).select_from(t.raw_records)) == SHARED + 2 * OWN
            news = conn.execute(
                select(t.record_history.c.record_id, func.count())
                .where(t.record_history.c.change == "new")
                .group_by(t.record_history.c.record_id)
            ).all()
            assert len(news) == SHARED + 2 * OWN and all(n == 1 for _, n in news)
            assert scalar(select(func.count()).select_from(t.record_history)) == SHARED + 2 * OWN + differing
            # every record's newest history entry is what the record now holds
            latest = select(func.max(t.record_history.c.id)).group_by(t.record_history.c.record_id)
            mismatched = scalar(
                select(func.count())
                .select_from(t.record_history.join(t.records, t.records.c.id == t.record_history.c.record_id))
                .where(t.record_history.c.id.in_(latest), t.record_history.c.content_hash != t.records.c.content_hash)
            )
            assert mismatched == 0
            assert scalar(select(func.count()).select_from(t.harvest_errors)) == 0
        # each process's own source has a record of "own-<i>" under one identifier URL: the two are one
        # dataset, grouped right though both processes wrote them at once (store/merge.py)
        datasets = store.dataset_counts()
        assert datasets["records_merged"] == datasets["datasets_merged"] == OWN
        assert datasets["datasets_active"] == SHARED + OWN
        for dataset_id, digest in store.fingerprints():
            dataset = store.get(dataset_id)
            assert dataset.record.content_hash() == digest
            assert len(dataset.record.pdi.sources) == (
                2 if dataset.record.pdi.source.remote_id.startswith("own-") else 1
            )
        runs = store.runs()
        assert len(runs) == 2
        assert {r["status"] for r in runs} == {RunStatus.SUCCEEDED.value}  # neither took the other for dead
        assert {r["sources_ok"] for r in runs} == {2}
        assert all(s["status"] == "succeeded" for r in runs for s in store.source_runs(r["id"]))
    finally:
        store.close()


def test_a_killed_process_run_is_interrupted_and_a_live_one_is_not(store_url, tmp_path):
    release = tmp_path / "release"
    killed = _spawn(HOLD_A_RUN, store_url, str(tmp_path / "never"))
    live = _spawn(HOLD_A_RUN, store_url, str(release))
    try:
        killed_run = int(_first_line(killed))
        live_run = int(_first_line(live))
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=TIMEOUT_S)
        store = Store(store_url)
        try:
            store.create_schema()
            mine = store.start_run("test", 1)
            status = {r["id"]: r["status"] for r in store.runs()}
            assert status[killed_run] == RunStatus.INTERRUPTED.value
            assert status[live_run] == RunStatus.RUNNING.value
            assert status[mine] == RunStatus.RUNNING.value
            release.touch()
            out, err = live.communicate(timeout=TIMEOUT_S)
            assert live.returncode == 0 and out.strip() == "done", err
            assert {r["id"]: r["status"] for r in store.runs()}[live_run] == RunStatus.SUCCEEDED.value
        finally:
            store.close()
    finally:
        for proc in (killed, live):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
