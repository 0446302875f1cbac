"""The portal simulator: a real HTTP server on loopback serving every seeded portal's API shapes.

``/<portal-host>/<path>`` on the simulator stands for ``https://<portal-host>/<path>``;
:meth:`PortalSimulator.route` rewrites a real portal URL that way. Responses are deterministic
from the seed number (two simulators with the same number serve the same bytes to the same Host
header); links inside them point back at the simulator, so demo links work.
"""

from __future__ import annotations

import hashlib
import json
import re
import signal
import socket
import sys
import threading
import traceback
from collections.abc import Callable
from datetime import datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from catalog_seed.loader import Seed, load_seed
from simulator.dataset import SimDataset
from simulator.dates import DEFAULT_NOW, iso_z, parse_now
from simulator.dispatch import dispatch, drift
from simulator.faults import Fault, FaultBook, FaultRule, malformed, oversize_chunks
from simulator.requestlog import RequestLog, RequestRecord
from simulator.spec import SERVED_PLATFORMS, PortalSpec, host_of, specs_from_seed
from simulator.wire import JSON_TYPE, Reply, SimRequest, error
from simulator.world import SimWorld

_HOST_HEADER = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
_MAX_BODY = 1024 * 1024
_ERROR_PAGE = (
    b"<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1></body></html>"
)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    simulator: PortalSimulator

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self.open_connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def close_open_connections(self) -> None:
        """Drop kept-alive client connections, so a stopped simulator answers nothing more."""
        with self.connections_lock:
            connections = list(self.open_connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "PDIPortalSimulator/1.0"
    timeout = 120  # an idle keep-alive connection is dropped after this
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle's algorithm holds the body
        # until the client's delayed ACK (~40 ms per request on a kept-alive connection), which
        # dominates a gather that makes hundreds of small requests (ArcGIS Server directories).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.open_connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.open_connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        try:
            self.server.simulator._handle(self)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True  # the client went away (e.g. it refused an oversize body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        return

    def date_time_string(self, timestamp: float | None = None) -> str:
        # the Date header follows the simulated clock, never the wall clock
        return formatdate(self.server.simulator.now.timestamp(), usegmt=True)


def route_url(base_url: str, url: str) -> str:
    """A real portal URL on a simulator at ``base_url``: ``https://h/p?q`` -> ``<base_url>/h/p?q``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    if f"{parts.scheme}://{parts.netloc}" == base_url:
        return url
    routed = f"{base_url}/{parts.netloc.lower()}{parts.path or '/'}"
    return f"{routed}?{parts.query}" if parts.query else routed


class PortalSimulator:
    """Every seeded portal on one loopback HTTP server, with changes over time and named faults.

    ``seed`` is a loaded :class:`catalog_seed.Seed` (default: the bundled seed). ``seed_number``
    fixes every generated catalog; ``datasets_per_portal`` bounds each portal's size;
    ``latency_ms`` delays every response. Start with :meth:`start` or a ``with`` block.
    """

    def __init__(
        self,
        seed: Seed | None = None,
        *,
        seed_number: int = 2015,
        host: str = "127.0.0.1",
        port: int = 0,
        datasets_per_portal: tuple[int, int] = (150, 350),
        latency_ms: float = 0,
        now: str | datetime = DEFAULT_NOW,
    ) -> None:
        low, high = datasets_per_portal
        if not 2 <= low <= high:
            raise ValueError("datasets_per_portal must be (low, high) with 2 <= low <= high")
        self.seed = seed if seed is not None else load_seed(platforms=list(SERVED_PLATFORMS))
        self.seed_number = seed_number
        self.latency_ms = latency_ms
        #: how long the ``timeout`` fault waits before answering (longer than a client timeout)
        self.fault_delay_s = 35.0
        #: how many bytes the ``oversize`` fault streams
        self.oversize_bytes = 80 * 1024 * 1024
        self._listen = (host, port)
        self._world = SimWorld(specs_from_seed(self.seed), seed_number, (low, high), parse_now(now))
        self._faults = FaultBook()
        self._log = RequestLog()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> PortalSimulator:
        """Bind and serve in a background thread; returns self."""
        if self._server is not None:
            return self
        server = _Server(self._listen, _Handler)
        server.simulator = self
        self._stopping.clear()
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="portal-simulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; requests held by a fault delay are released."""
        self._stopping.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            server.close_open_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> PortalSimulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the portal simulator is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self._listen[0]}:{self.port}"

    def route(self, url: str) -> str:
        """A real portal URL on the simulator: ``https://h/p?q`` -> ``http://127.0.0.1:PORT/h/p?q``."""
        return route_url(self.base_url, url)

    # --- what is served ---------------------------------------------------------------------------
    def portals(self) -> list[PortalSpec]:
        """Every served portal (one per host), in seed order."""
        return [spec for h in self._world.hosts() if (spec := self._world.spec(h)) is not None]

    def hosts(self) -> list[str]:
        """The host of every served portal (the first path segment of its simulated URLs)."""
        return self._world.hosts()

    def datasets(self, host: str) -> list[SimDataset]:
        """The portal's current datasets with their ground truth, in creation order."""
        return self._world.datasets(host)

    def dataset(self, host: str, remote_id: str) -> SimDataset:
        """One dataset by remote id, identifier or slug; KeyError if none."""
        view = self._world.view(host)
        found = view.find(remote_id) if view else None
        if found is None:
            raise KeyError(f"{host} has no dataset {remote_id!r}")
        return found

    # --- changes over time ----------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        """The simulated now."""
        return self._world.now

    def advance(self, days: float) -> datetime:
        """Move the simulated clock; datasets refresh on their declared schedule unless stale."""
        return self._world.advance(days)

    def update_dataset(self, host: str, remote_id: str, **fields: Any) -> SimDataset:
        """Change fields of a dataset (title, description, columns, frequency, data_updated_at …).

        Any change but a data-only one bumps ``metadata_updated_at`` to now unless it is given.
        """
        return self._world.update(host, remote_id, **fields)

    def add_dataset(self, host: str, *, title: str, categories: list[str] | tuple[str, ...] = (), **fields: Any) -> str:
        """Publish a new dataset now; returns its remote id. ``police`` defaults to bool(categories)."""
        return self._world.add(host, title, categories, **fields)

    def remove_dataset(self, host: str, remote_id: str) -> None:
        """Withdraw a dataset from every listing and endpoint."""
        self._world.remove(host, remote_id)

    def stop_updating(self, host: str, remote_id: str) -> None:
        """Make a dataset stale: it keeps its declared frequency but is no longer refreshed."""
        self._world.stop_updating(host, remote_id)

    # --- faults and the request log ----------------------------------------------------------------
    def inject(self, host: str, fault: str, count: int | None = None, path_contains: str | None = None) -> FaultRule:
        """Serve ``fault`` to requests for ``host`` (``"*"``: any) whose target contains
        ``path_contains``, for ``count`` requests (None: until :meth:`clear_faults`)."""
        if host != "*" and self._world.spec(host) is None:
            raise ValueError(f"no simulated portal at {host!r}; known hosts: {', '.join(self.hosts())}")
        return self._faults.inject(host, fault, count, path_contains)

    def clear_faults(self) -> None:
        """Disarm every injected fault."""
        self._faults.clear()

    @property
    def request_log(self) -> list[RequestRecord]:
        """Every request served so far, oldest first."""
        return self._log.records()

    def requests(self, host: str | None = None, path_contains: str | None = None) -> list[RequestRecord]:
        """Requests for ``host`` whose ``/<host><path>?<query>`` contains ``path_contains``."""
        return self._log.records(host_of(host) if host else None, path_contains)

    def request_count(self, host: str | None = None, path_contains: str | None = None) -> int:
        """How many requests :meth:`requests` would list."""
        return len(self.requests(host, path_contains))

    def clear_request_log(self) -> None:
        """Forget every logged request."""
        self._log.clear()

    # --- serving --------------------------------------------------------------------------------
    def _handle(self, h: _Handler) -> None:
        parts = urlsplit(h.path)
        segments = unquote(parts.path).split("/")
        forced: Fault | None = None
        if len(segments) > 3 and segments[1] == "_fault":
            try:
                forced = Fault(segments[2])
            except ValueError:
                self._write(h, error(400, {"error": "unknown_fault", "message": segments[2]}), None)
                return
            segments = ["", *segments[3:]]
        if len(segments) > 1 and segments[1] in ("_sim", ""):
            self._write(h, Reply(payload=self._info(h)), None)
            return
        host = segments[1].lower() if len(segments) > 1 else ""
        path = "/" + "/".join(segments[2:])
        try:
            length = max(0, int(h.headers.get("Content-Length") or 0))
        except ValueError:
            length = 0
            h.close_connection = True
        if length > _MAX_BODY:
            h.close_connection = True  # the unread rest would corrupt the next request on this connection
        raw = h.rfile.read(min(length, _MAX_BODY)) if length else b""
        params = parse_qs(parts.query, keep_blank_values=True)
        body = _parse_body(raw, h.headers.get("Content-Type", ""), params)
        req = SimRequest(h.command, host, path, params, self._base(h), body)
        target = f"/{host}{path}" + (f"?{parts.query}" if parts.query else "")
        fault = forced or self._faults.take(host, target)
        if self.latency_ms:
            self._stopping.wait(self.latency_ms / 1000)
        if fault is Fault.SERVER_ERROR:
            reply = Reply(status=500, body=_ERROR_PAGE, content_type="text/html; charset=utf-8")
        elif fault is Fault.RATE_LIMITED:
            reply = error(429, {"error": True, "message": "Too many requests; slow down"})
            reply.headers["Retry-After"] = "1"
        else:
            try:
                reply = dispatch(self._world, req.first_page() if fault is Fault.PAGING_LOOP else req)
                if fault is Fault.SCHEMA_DRIFT:
                    reply = drift(self._world, host, reply)
            except Exception as exc:  # noqa: BLE001 - a bug in a shape must not kill the connection
                traceback.print_exc(file=sys.stderr)
                reply = error(500, {"error": "simulator_bug", "message": f"{type(exc).__name__}: {exc}"})
        self._log.add(RequestRecord(h.command, host, path, parts.query, reply.status, fault.value if fault else None))
        if fault is Fault.TIMEOUT:
            self._stopping.wait(self.fault_delay_s)
        self._write(h, reply, fault)

    def _write(self, h: _Handler, reply: Reply, fault: Fault | None) -> None:
        if fault is Fault.OVERSIZE:
            self._stream_oversize(h)
            return
        body = reply.encode()
        if fault is Fault.MALFORMED:
            body = malformed(body)
        etag = '"' + hashlib.sha1(body, usedforsecurity=False).hexdigest()[:20] + '"'
        status = reply.status
        if status == 200 and fault is None and h.headers.get("If-None-Match") == etag:
            status, body = 304, b""
        declared = len(body) + max(1024, len(body)) if fault is Fault.TRUNCATED else len(body)
        h.send_response(status)
        h.send_header("Content-Type", reply.content_type)
        h.send_header("Content-Length", str(declared))
        if status in (200, 304):
            h.send_header("ETag", etag)
        for name, value in reply.headers.items():
            h.send_header(name, value)
        h.end_headers()
        if h.command == "HEAD":
            return
        if fault is Fault.TRUNCATED:
            h.wfile.write(body[: len(body) // 2])
            h.wfile.flush()
            h.close_connection = True
            return
        h.wfile.write(body)

    def _stream_oversize(self, h: _Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", JSON_TYPE)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        h.close_connection = True
        if h.command == "HEAD":
            return
        for chunk in oversize_chunks(self.oversize_bytes):
            if self._stopping.is_set():
                return
            h.wfile.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
        h.wfile.write(b"0\r\n\r\n")

    def _base(self, h: _Handler) -> str:
        host = h.headers.get("Host", "")
        return f"http://{host}" if host and _HOST_HEADER.match(host) else self.base_url

    def _info(self, h: _Handler) -> dict[str, Any]:
        base = self._base(h)
        return {
            "simulator": "PDI Catalog portal simulator",
            "seed_number": self.seed_number,
            "now": iso_z(self.now),
            "portals": [
                {
                    "host": spec.host,
                    "platform": spec.platform,
                    "source_url": spec.source_url,
                    "simulated_url": f"{base}/{spec.host}{urlsplit(spec.source_url).path}",
                    "jurisdictions": [j.id for j in spec.jurisdictions],
                }
                for spec in self.portals()
            ],
            "faults": [f.value for f in Fault],
        }


def _parse_body(raw: bytes, content_type: str, params: dict[str, list[str]]) -> Any:
    """Merge a JSON or form body into ``params`` (the body wins), and return the parsed JSON."""
    if not raw:
        return None
    if "json" in content_type or raw.lstrip()[:1] in (b"{", b"["):
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        if isinstance(data, dict):
            for key, value in data.items():
                if isinstance(value, bool):
                    params[key] = ["true" if value else "false"]
                elif isinstance(value, str):
                    params[key] = [value]
                elif isinstance(value, int | float):
                    params[key] = [str(value)]
                elif value is not None:
                    params[key] = [json.dumps(value)]
        return data
    for key, values in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items():
        params[key] = values
    return None


def serve_forever(
    seed: Seed | None = None,
    *,
    seed_number: int = 2015,
    host: str = "127.0.0.1",
    port: int = 0,
    datasets_per_portal: tuple[int, int] = (150, 350),
    latency_ms: float = 0,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Run a simulator until interrupted (Ctrl-C or SIGTERM); ``announce`` gets its base URL."""
    sim = PortalSimulator(
        seed,
        seed_number=seed_number,
        host=host,
        port=port,
        datasets_per_portal=datasets_per_portal,
        latency_ms=latency_ms,
    )
    done = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: done.set())
    with sim:
        (announce or _print_flush)(sim.base_url)
        try:
            while not done.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass


def _print_flush(text: str) -> None:
    print(text, flush=True)
    sys.stdout.flush()
