"""The one HTTP layer every harvester fetches through (the department-page crawl, which cannot,
follows the same settings and reports into the same statistics: see the end of this note).

Cross-cutting concerns live here as small ordered steps of one ``requests`` transport adapter, so
they apply equally to our own calls and to the sessions we hand to ``sodapy`` and ``ckanapi``:

1. route      — optional URL rewrite (the demo sends real portal URLs to the local simulator)
2. identify   — a User-Agent naming the project with a contact URL
3. politeness — per-host concurrency limit and minimum delay between requests
4. retry      — timeouts on every request; retries with exponential backoff and jitter on
                connection errors, 429 and 5xx, honouring Retry-After (capped)
5. size cap   — a response larger than the cap is refused (Content-Length, then while reading)
6. revalidate — with a cache (the store's), a GET is sent with If-None-Match / If-Modified-Since
                and a 304 is answered from the cached body, so an unchanged page is not sent again

Each step counts what it did in :class:`HttpStats`. Harvesters never sleep or retry on their own.

One fetcher cannot use these sessions: the Scrapy crawl of department pages
(:mod:`harvesters.html_crawl`, run in a process of its own by :mod:`harvesters.html`). It applies
the same settings with Scrapy's own machinery — User-Agent, robots.txt, per-host concurrency and
minimum delay, timeout, retries with the same backoff honouring Retry-After (capped by
``retry_after_max_s``) and the size cap; there is no conditional GET — and reports what it
fetched per host, which :mod:`harvesters.html` adds here with :meth:`HttpStats.add`, so a crawl's
requests, retries, bytes and refusals count under the portal's host like everyone else's.
"""

from __future__ import annotations

import os
import random
import threading
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

DEFAULT_USER_AGENT = "pdi-catalog/0.1 (+https://github.com/pdi-catalog/pdi-catalog; police open-data catalog)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class CachedResponse:
    etag: str | None
    last_modified: str | None
    content_type: str | None
    body: bytes


class HttpCache(Protocol):
    """Where validators and bodies of earlier responses are kept (the store implements it)."""

    def get(self, url: str) -> CachedResponse | None: ...

    def put(self, url: str, entry: CachedResponse) -> None: ...


CACHE_MAX_BODY = 8 * 1024 * 1024  # larger bodies are not kept for revalidation


class FetchError(requests.RequestException):
    """A request that did not give a usable response after the retries the settings allow."""

    def __init__(self, message: str, url: str, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status

    def __str__(self) -> str:
        return f"{self.args[0]} ({self.url})"


@dataclass(frozen=True)
class HttpSettings:
    timeout_s: float = 30.0
    max_retries: int = 3
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    retry_after_max_s: float = 120.0
    max_body_bytes: int = 64 * 1024 * 1024
    per_host_concurrency: int = 2
    per_host_min_delay_s: float = 0.0
    user_agent: str = DEFAULT_USER_AGENT


@dataclass
class HttpStats:
    requests: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    retries: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    bytes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    refused_oversize: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    not_modified: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(
        self,
        host: str,
        *,
        requests: int = 0,
        retries: int = 0,
        bytes: int = 0,  # noqa: A002 - the counter's own name
        refused_oversize: int = 0,
        not_modified: int = 0,
    ) -> None:
        """Add what a fetcher outside the adapter did (the Scrapy crawl) to ``host``'s counters;
        thread-safe. A zero adds no entry."""
        with self._lock:
            for counter, n in (
                (self.requests, requests),
                (self.retries, retries),
                (self.bytes, bytes),
                (self.refused_oversize, refused_oversize),
                (self.not_modified, not_modified),
            ):
                if n:
                    counter[host] += n

    COUNTERS = ("requests", "retries", "bytes", "refused_oversize", "not_modified")

    def counts(self) -> dict[str, dict[str, int]]:
        """Every counter as plain dicts (picklable, unlike the stats and their lock)."""
        with self._lock:
            return {name: dict(getattr(self, name)) for name in self.COUNTERS}

    def merge(self, counts: dict[str, dict[str, int]]) -> None:
        """Add another client's :meth:`counts` (a harvest shard's, from another process)."""
        with self._lock:
            for name in self.COUNTERS:
                mine: dict[str, int] = getattr(self, name)
                for host, n in counts.get(name, {}).items():
                    mine[host] = mine.get(host, 0) + n


def _environment_matters() -> bool:
    """Would requests find anything in the environment besides a CA bundle: a proxy, or a
    ``.netrc`` to take credentials from?"""
    proxies = {k for k, v in urllib.request.getproxies().items() if v and k != "no"}
    netrc = os.environ.get("NETRC") or any(
        os.path.exists(os.path.expanduser(f"~/{name}")) for name in (".netrc", "_netrc")
    )
    return bool(proxies or netrc)


class _HostGate:
    """Per-host concurrency and spacing; shared by every session of one client."""

    def __init__(self, concurrency: int, min_delay_s: float, sleep: Callable[[float], None]) -> None:
        self._concurrency = max(1, concurrency)
        self._min_delay = min_delay_s
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sems: dict[str, threading.BoundedSemaphore] = {}
        self._next_start: dict[str, float] = {}

    def acquire(self, host: str) -> None:
        with self._lock:
            sem = self._sems.setdefault(host, threading.BoundedSemaphore(self._concurrency))
        sem.acquire()
        if self._min_delay > 0:
            with self._lock:
                now = time.monotonic()
                start = max(now, self._next_start.get(host, 0.0))
                self._next_start[host] = start + self._min_delay
            if start > now:
                self._sleep(start - now)

    def release(self, host: str) -> None:
        self._sems[host].release()


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class PoliteAdapter(HTTPAdapter):
    def __init__(
        self,
        settings: HttpSettings,
        stats: HttpStats,
        gate: _HostGate,
        route: Callable[[str], str] | None,
        sleep: Callable[[float], None],
        cache: HttpCache | None = None,
    ) -> None:
        super().__init__(pool_connections=16, pool_maxsize=16)
        self.settings = settings
        self.stats = stats
        self.gate = gate
        self.route = route
        self.sleep = sleep
        self.cache = cache

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        original_url = request.url or ""
        host = urlsplit(original_url).netloc.lower()
        if self.route is not None:
            request.url = self.route(original_url)
        request.headers["User-Agent"] = self.settings.user_agent
        cached = self.cache.get(original_url) if self.cache is not None and request.method == "GET" else None
        if cached is not None:
            if cached.etag:
                request.headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                request.headers["If-Modified-Since"] = cached.last_modified
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.settings.timeout_s
        kwargs["stream"] = True
        attempt = 0
        while True:
            self.gate.acquire(host)
            try:
                self.stats.requests[host] += 1
                try:
                    response = super().send(request, **kwargs)
                except (requests.ConnectionError, requests.Timeout) as exc:
                    if attempt >= self.settings.max_retries:
                        raise FetchError(
                            f"{type(exc).__name__} after {attempt + 1} attempts: {exc}", original_url
                        ) from exc
                    wait = self._backoff(attempt)
                else:
                    if response.status_code in RETRY_STATUSES and attempt < self.settings.max_retries:
                        hinted = _retry_after_seconds(response.headers.get("Retry-After"))
                        wait = (
                            min(hinted, self.settings.retry_after_max_s)
                            if hinted is not None
                            else self._backoff(attempt)
                        )
                        response.close()
                    else:
                        self._read_capped(response, host, original_url)
                        response.url = original_url if self.route is not None else response.url
                        break
            finally:
                self.gate.release(host)
            attempt += 1
            self.stats.retries[host] += 1
            self.sleep(wait)
        # after the host's slot is free: writing the cache may wait on the store
        self._revalidated(response, cached, host, original_url)
        return response

    def _revalidated(self, response: requests.Response, cached: CachedResponse | None, host: str, url: str) -> None:
        """Answer a 304 from the cache; keep a 200's validators and body for next time."""
        if self.cache is None or response.request is None or response.request.method != "GET":
            return
        if response.status_code == 304 and cached is not None:
            response.status_code = 200
            response._content = cached.body
            if cached.content_type:
                response.headers["Content-Type"] = cached.content_type
            response.headers["X-PDI-Revalidated"] = "1"
            self.stats.not_modified[host] += 1
            return
        etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
        body = response.content or b""
        if response.status_code == 200 and (etag or modified) and len(body) <= CACHE_MAX_BODY:
            self.cache.put(url, CachedResponse(etag, modified, response.headers.get("Content-Type"), body))

    def _backoff(self, attempt: int) -> float:
        base = min(self.settings.backoff_max_s, self.settings.backoff_base_s * (2**attempt))
        return base * (0.5 + random.random() / 2)

    def _read_capped(self, response: requests.Response, host: str, url: str) -> None:
        cap = self.settings.max_body_bytes
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > cap:
            response.close()
            self.stats.refused_oversize[host] += 1
            raise FetchError(f"response of {declared} bytes is over the {cap}-byte cap", url, response.status_code)
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.raw.stream(64 * 1024, decode_content=True):
                size += len(chunk)
                if size > cap:
                    response.close()
                    self.stats.refused_oversize[host] += 1
                    raise FetchError(f"response over the {cap}-byte cap", url, response.status_code)
                chunks.append(chunk)
        except (requests.RequestException, OSError) as exc:
            if isinstance(exc, FetchError):
                raise
            raise FetchError(f"body could not be read whole: {exc}", url, response.status_code) from exc
        except Exception as exc:  # urllib3 ProtocolError / IncompleteRead on a truncated body
            raise FetchError(f"body could not be read whole: {exc}", url, response.status_code) from exc
        response._content = b"".join(chunks)
        response._content_consumed = True  # type: ignore[attr-defined]
        self.stats.bytes[host] += size


class HttpClient:
    """Sessions and JSON fetching for harvesters, all through one :class:`PoliteAdapter`."""

    def __init__(
        self,
        settings: HttpSettings | None = None,
        route: Callable[[str], str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        cache: HttpCache | None = None,
    ) -> None:
        self.settings = settings or HttpSettings()
        self._cache = cache
        self.stats = HttpStats()
        self._gate = _HostGate(self.settings.per_host_concurrency, self.settings.per_host_min_delay_s, sleep)
        self._route = route
        self._sleep = sleep
        self._local = threading.local()

    @property
    def route(self) -> Callable[[str], str] | None:
        """The URL rewrite every request goes through (the demo's simulator), or None; for a
        fetcher that cannot use these sessions (the Scrapy crawl of ``harvesters.html``)."""
        return self._route

    def new_session(self) -> requests.Session:
        """A session whose every request goes through this client's steps (for sodapy/ckanapi)."""
        session = requests.Session()
        if not _environment_matters():
            # Without proxies or a .netrc to read, requests' look at the environment on every
            # request (about a quarter of its CPU per request) finds only the CA bundle: set it once.
            session.trust_env = False
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            if bundle:
                session.verify = bundle
        adapter = PoliteAdapter(self.settings, self.stats, self._gate, self._route, self._sleep, self._cache)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers["User-Agent"] = self.settings.user_agent
        return session

    @property
    def session(self) -> requests.Session:
        """This thread's session (requests sessions are not shared across threads)."""
        sess = getattr(self._local, "session", None)
        if sess is None:
            sess = self._local.session = self.new_session()
        return sess

    def get(self, url: str, params: Mapping[str, Any] | None = None) -> requests.Response:
        try:
            return self.session.get(url, params=params)
        except FetchError:
            raise
        except requests.RequestException as exc:
            raise FetchError(str(exc), url) from exc

    def get_json(self, url: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``url`` and parse JSON; a non-2xx status or a body that is not JSON is a FetchError."""
        response = self.get(url, params=params)
        shown = response.url or url
        if not 200 <= response.status_code < 300:
            raise FetchError(f"HTTP {response.status_code}", shown or url, response.status_code)
        try:
            return response.json()
        except ValueError as exc:
            raise FetchError(f"response is not valid JSON: {exc}", shown or url, response.status_code) from exc
