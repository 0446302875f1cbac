"""Shared fixtures. No test reaches the network: a guard refuses any connection that is not to
loopback, and the far-away portals are replaced by our simulator over real HTTP."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Read once at import: the `settings` fixture clears PDI_* variables for each test.
TEST_ES_URL = os.environ.get("PDI_TEST_ES_URL")
TEST_DATABASE_URL = os.environ.get("PDI_TEST_DATABASE_URL")
REFERENCE = REPO.parent / "shared" / "reference"


def reference_dir() -> Path:
    """../shared/reference beside the checkout; tests that need it fail loudly without it."""
    if not REFERENCE.is_dir():
        pytest.fail(f"the shared reference folder is missing: expected it at {REFERENCE}")
    return REFERENCE


_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: object) -> object:
    host = address[0] if isinstance(address, tuple) else None
    if isinstance(host, str) and self.family in (socket.AF_INET, socket.AF_INET6):
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            ip = None
        if (ip is None and host != "localhost") or (ip is not None and not ip.is_loopback):
            raise ConnectionRefusedError(f"tests may only connect to loopback, not {address!r}")
    return _real_connect(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True, scope="session")
def _no_network() -> Iterator[None]:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def seed():  # type: ignore[no-untyped-def]
    from catalog_seed import load_seed

    return load_seed()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from pdi.settings import load_settings

    for key in list(os.environ):
        if key.startswith("PDI_"):
            monkeypatch.delenv(key)
    return load_settings(data_dir=tmp_path / "data", http_max_retries=1)


@pytest.fixture
def store(settings):  # type: ignore[no-untyped-def]
    from store import Store

    s = Store(settings.store_url)
    s.create_schema()
    yield s
    s.close()


@pytest.fixture
def embedded_index(settings):  # type: ignore[no-untyped-def]
    from index.sqlite_fts import SqliteFtsIndex

    idx = SqliteFtsIndex(settings.index_path)
    yield idx
    idx.close()


def elasticsearch_url() -> str | None:
    """The test Elasticsearch, from PDI_TEST_ES_URL (``scripts/elasticsearch start`` prints one).

    Unset: Elasticsearch tests skip with a message saying how to enable them — except under CI,
    where a missing Elasticsearch fails the run instead of skipping.
    """
    url = TEST_ES_URL
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must test against a real Elasticsearch: PDI_TEST_ES_URL is not set (see .ci/run)")
        pytest.skip("no Elasticsearch: run `scripts/elasticsearch start` and set PDI_TEST_ES_URL to the URL it prints")
    return url


@pytest.fixture(params=["sqlite-fts5", "elasticsearch"])
def any_index(request, settings):  # type: ignore[no-untyped-def]
    """Each index backend in turn, empty, for contract tests."""
    if request.param == "sqlite-fts5":
        from index.sqlite_fts import SqliteFtsIndex

        idx = SqliteFtsIndex(settings.index_path)
        yield idx
        idx.close()
        return
    import uuid

    from index.elasticsearch import ElasticsearchIndex

    idx = ElasticsearchIndex(elasticsearch_url(), alias=f"pdi-test-{uuid.uuid4().hex[:10]}")
    try:
        yield idx
    finally:
        idx.client.indices.delete(index=f"{idx.alias}-*", ignore_unavailable=True, allow_no_indices=True)
        idx.client.options(ignore_status=404).indices.delete_index_template(name=f"{idx.alias}-template")
        idx.close()


@pytest.fixture(scope="session")
def demo_catalog(tmp_path_factory, seed):  # type: ignore[no-untyped-def]
    """The whole demo catalog, harvested once per test session: every source of the seed from the
    portal simulator with the demo's settings (what `pdi harvest --demo` stores), into a store of
    its own. Tests that read it build their indexes from it; none may write to it."""
    from dataclasses import replace

    from harvesters.http import HttpClient
    from pdi.runtime import jurisdiction_lookup
    from pdi.settings import load_settings
    from scheduler.run import HarvestRun
    from simulator.server import PortalSimulator
    from store import Store

    settings = load_settings(data_dir=tmp_path_factory.mktemp("demo-catalog"))
    store = Store(settings.store_url)
    store.create_schema()
    http = replace(settings.http(), per_host_min_delay_s=0.0)  # the simulator is ours, on loopback
    with PortalSimulator(seed, seed_number=settings.demo_seed_number) as sim:
        summary = HarvestRun(
            store, None, jurisdiction_lookup(seed), HttpClient(http, route=sim.route), workers=settings.harvest_workers
        ).run(seed.sources(), trigger="demo")
    assert summary.sources_failed == 0 and summary.records_new > 1000, summary
    yield store
    store.close()
