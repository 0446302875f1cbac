"""Shared fixtures. No test reaches the network: a guard refuses any connection that is not to
loopback, and the far-away portals are replaced by our simulator over real HTTP."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
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

    for key in list(__import__("os").environ):
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
