"""The one HTTP layer: politeness per host, retries, the size cap, identification."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harvesters.http import FetchError, HttpClient, HttpSettings
from simulator.server import PortalSimulator


@pytest.fixture(scope="module")
def sim(seed):
    with PortalSimulator(seed, seed_number=9, datasets_per_portal=(20, 30)) as s:
        yield s


def test_min_delay_spaces_requests_to_one_host_but_not_across_hosts(sim):
    sleeps: list[float] = []
    client = HttpClient(HttpSettings(per_host_min_delay_s=0.5), route=sim.route, sleep=sleeps.append)
    client.get_json("https://data.seattle.gov/api/catalog/v1", {"limit": 1})
    client.get_json("https://data.austintexas.gov/api/catalog/v1", {"limit": 1})
    assert sleeps == []  # first request to each host waits for nothing
    client.get_json("https://data.seattle.gov/api/catalog/v1", {"limit": 1})
    assert len(sleeps) == 1 and 0.3 < sleeps[0] <= 0.5
    assert client.stats.requests == {"data.seattle.gov": 2, "data.austintexas.gov": 1}


def test_per_host_concurrency_is_limited(sim):
    sim.latency_ms = 150
    try:
        client = HttpClient(HttpSettings(per_host_concurrency=1), route=sim.route)
        in_flight = 0
        peak = 0
        lock = threading.Lock()
        original = client._gate.acquire

        def counting_acquire(host: str) -> None:
            nonlocal in_flight, peak
            original(host)
            with lock:
                in_flight += 1
                peak = max(peak, in_flight)

        original_release = client._gate.release

        def counting_release(host: str) -> None:
            nonlocal in_flight
            with lock:
                in_flight -= 1
            original_release(host)

        client._gate.acquire = counting_acquire  # type: ignore[method-assign]
        client._gate.release = counting_release  # type: ignore[method-assign]
        threads = [
            threading.Thread(target=client.get_json, args=("https://data.seattle.gov/api/catalog/v1", {"limit": 1}))
            for _ in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert peak == 1 and client.stats.requests["data.seattle.gov"] == 4
    finally:
        sim.latency_ms = 0


class _Recorder(BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802
        type(self).seen.append(dict(self.headers))
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_every_request_names_the_project_and_has_a_timeout():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = HttpClient(HttpSettings(timeout_s=2))
        assert client.get_json(f"http://127.0.0.1:{server.server_address[1]}/x") == {"ok": True}
        agent = _Recorder.seen[-1]["User-Agent"]
        assert agent.startswith("pdi-catalog/") and "+http" in agent
    finally:
        server.shutdown()
        server.server_close()


def test_a_timeout_is_retried_then_reported(sim):
    sim.fault_delay_s = 2.0
    sim.inject("data.seattle.gov", "timeout", path_contains="/api/catalog/v1")
    sleeps: list[float] = []
    client = HttpClient(
        HttpSettings(timeout_s=0.5, max_retries=2, backoff_base_s=0.1), route=sim.route, sleep=sleeps.append
    )
    try:
        with pytest.raises(FetchError, match="after 3 attempts"):
            client.get_json("https://data.seattle.gov/api/catalog/v1")
    finally:
        sim.clear_faults()
    assert len(sleeps) == 2 and sleeps[1] > sleeps[0] / 2  # backoff grows (with jitter)
    assert client.stats.retries["data.seattle.gov"] == 2


def test_sessions_read_the_environment_once_unless_a_proxy_or_netrc_needs_it_per_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NETRC"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "ca.pem"))
    plain = HttpClient().new_session()
    assert plain.trust_env is False and plain.verify == str(tmp_path / "ca.pem")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    proxied = HttpClient().new_session()
    assert proxied.trust_env is True and proxied.verify is True  # requests resolves proxy and bundle per request
    monkeypatch.delenv("HTTPS_PROXY")
    (tmp_path / ".netrc").write_text("machine data.example.gov login a password b\n")
    assert HttpClient().new_session().trust_env is True
