"""A harvest killed with SIGKILL and restarted: nothing duplicated, nothing lost, the dead run on record."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from simulator.server import PortalSimulator
from tests.test_cli import PDI, _env, _free_port

JURISDICTIONS = ["seattle-wa", "austin-tx", "dallas-tx", "atlanta-ga"]


def _harvest(tmp: Path, port: int) -> subprocess.Popen[str]:
    args = [*PDI, "harvest", "--demo", "--json", "--quiet"]
    for j in JURISDICTIONS:
        args += ["--jurisdiction", j]
    return subprocess.Popen(
        args, cwd=tmp, env=_env(tmp, PDI_DEMO_PORT=str(port)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _count(db: Path, sql: str) -> int:
    try:
        with sqlite3.connect(db, timeout=30) as conn:
            return int(conn.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def test_sigkill_then_restart_loses_and_duplicates_nothing(tmp_path: Path, seed):
    port = _free_port()
    killed, control = tmp_path / "killed", tmp_path / "control"
    killed.mkdir()
    control.mkdir()
    with PortalSimulator(seed, seed_number=2015, port=port, latency_ms=15):
        proc = _harvest(killed, port)
        db = killed / "data" / "pdi.sqlite"
        deadline = time.monotonic() + 120
        while _count(db, "SELECT count(*) FROM records") < 20:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the harvest stored nothing in time"
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        partial = _count(db, "SELECT count(*) FROM records")
        assert _count(db, "SELECT count(*) FROM harvest_runs WHERE status = 'running'") == 1

        again = _harvest(killed, port)
        out, err = again.communicate(timeout=300)
        assert again.returncode == 0, err
        resumed = json.loads(out.splitlines()[-1])

        full = _harvest(control, port)
        out, err = full.communicate(timeout=300)
        assert full.returncode == 0, err
        clean = json.loads(out.splitlines()[-1])

    total = _count(db, "SELECT count(*) FROM records")
    assert 0 < partial < total
    assert total == clean["records_new"]  # nothing lost
    assert resumed["records_new"] + resumed["records_unchanged"] + resumed["records_changed"] == total
    assert _count(db, "SELECT count(DISTINCT remote_id) FROM records") == total  # nothing duplicated
    assert _count(db, "SELECT count(*) FROM raw_records") == total
    statuses = dict(
        sqlite3.connect(db).execute("SELECT id, status FROM harvest_runs ORDER BY id").fetchall()  # noqa: S608
    )
    assert statuses == {1: "interrupted", 2: "succeeded"}
    assert _count(db, "SELECT count(*) FROM source_runs WHERE status = 'running'") == 0
