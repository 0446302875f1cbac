"""One Scrapy crawl of one department web page, run in a process of its own.

    python -m harvesters.html_crawl <url> <out.jsonl> [options-json]

Scrapy runs on Twisted, whose reactor cannot be restarted inside one process, so
:mod:`harvesters.html` starts this module once per gather and reads the JSON lines back. Each line
is one dataset-like link (a ``.csv .xlsx .xls .json .geojson .zip .pdf`` file, or a link whose text
says "download", or "data" with a format word) with the page it was found on, that page's title,
the nearest heading, the surrounding text and a date when one is written next to it.

The crawl reads the start page, then the pages it links to inside the start page's directory on
the same site (``max_depth`` levels, ``max_pages`` in all); links to other places are recorded,
never followed. It obeys robots.txt, identifies with the project's User-Agent and keeps the per-host
concurrency, minimum delay (without Scrapy's random jitter, which would undercut it), timeout,
retries and size cap of the HTTP settings (:mod:`harvesters.http`), as two downloader middlewares:

- :class:`PoliteRetry` (in place of Scrapy's RetryMiddleware) retries the answers
  :mod:`harvesters.http` retries (429, 500, 502, 503, 504) and connection failures up to
  ``retries`` times. Before the retry — and before any other request to that host — the host's
  download slot is held for the answer's Retry-After (seconds or an HTTP date, capped at
  ``retry_after_max_s``), or else for the same exponential backoff with jitter as
  :mod:`harvesters.http` (``backoff_base_s``, ``backoff_max_s``). The hold is a timer on the slot,
  so Twisted's reactor never blocks and requests to other hosts go on.
- :class:`HostCounter` counts per host (the real one) what went on the wire: requests (robots.txt
  included), retries, response bytes (bodies as received), answers by status, robots.txt requests
  and responses refused for the size cap.

``crawled_site``/``reported_site`` (options) say where the pages really are: the demo crawls the
simulator (``http://127.0.0.1:PORT/<host>``) standing in for ``https://<host>``, and every URL
written out (links, pages) is mapped back to the real site, so records are the same as in reality.
robots.txt is then read from the routed site and applied to real URLs, since Scrapy's own robots
middleware only sees the loopback host.

Exit status: 0 the crawl finished (zero links is a finished crawl of an empty page); 2 the start
page could not be read; 3 another page could not be read or the page cap was reached (the crawl is
not whole); 1 anything else. The last stdout line is a JSON summary, written on 0, 2 and 3 alike::

    {"pages": 2, "items": 14, "closed": "finished",
     "hosts": {"www.example.gov": {"requests": 4, "retries": 1, "bytes": 20931, "robots": 1,
                                   "refused_oversize": 0, "statuses": {"200": 3, "429": 1}}},
     "scrapy": {"downloader/request_count": 4, "retry/count": 1, ...}}

``hosts`` is what :mod:`harvesters.html` adds to the run's per-host HTTP statistics; ``scrapy`` is
Scrapy's own (crawl-wide) ``downloader/``, ``retry/`` and ``robotstxt/`` stats, for comparison.
stderr says what failed.
"""

from __future__ import annotations

import json
import random
import re
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO
from urllib.parse import unquote, urldefrag, urlsplit

from harvesters.http import RETRY_STATUSES, _retry_after_seconds

#: file extensions whose links are datasets (or dataset releases)
DATA_EXTENSIONS = frozenset({"csv", "xlsx", "xls", "json", "geojson", "zip", "pdf"})
#: extensions of links that are web pages, worth following
PAGE_EXTENSIONS = frozenset({"", "html", "htm", "aspx", "asp", "php", "shtml", "page", "jsp", "cfm"})
_DOWNLOAD_TEXT = re.compile(r"\bdownload", re.I)
_DATA_TEXT = re.compile(r"\bdata\b", re.I)
_FORMAT_WORD = re.compile(r"\b(csv|xlsx?|excel|json|geojson|zip|pdf|dataset|data file)\b", re.I)
_FORMAT_NAMES = {"excel": "xlsx", "dataset": None, "data file": None}
_SPACE = re.compile(r"\s+")
_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DATE_FORMS = (
    r"\d{4}-\d{2}-\d{2}",  # 2024-03-15
    r"\d{1,2}/\d{1,2}/\d{4}",  # 03/15/2024
    rf"{_MONTHS}\s+\d{{1,2}},\s*\d{{4}}",  # March 15, 2024
    r"\d{1,2}/\d{4}",  # 03/2024
    rf"{_MONTHS}\s+\d{{4}}",  # March 2024
    r"(?:19|20)\d{2}\s*(?:-|–|—|to|through)\s*(?:19|20)\d{2}",  # 2015-2023
    r"(?:19|20)\d{2}",  # 2019
)
_ANY_DATE = "|".join(f"(?:{form})" for form in _DATE_FORMS)
_STATED_DATE = re.compile(
    rf"\b(?:updated|posted|revised|published|as of|last modified)\s*:?\s*(?P<date>{_ANY_DATE})(?![\d/])", re.I
)
_DATE = re.compile(rf"(?<![\w/.-])(?P<date>{_ANY_DATE})(?![\w/])", re.I)
_CONTEXT_MAX = 400


def find_date(*texts: str | None) -> str | None:
    """The first date written in ``texts``: a stated one ("Updated 03/2024") before a bare one."""
    for pattern in (_STATED_DATE, _DATE):
        for value in texts:
            if value:
                found = pattern.search(value)
                if found:
                    return _SPACE.sub(" ", found.group("date")).strip()
    return None


def extension(url: str) -> str:
    """The lower-case extension of a URL's last path segment (``""`` when it has none)."""
    name = unquote(urlsplit(url).path).rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def link_file_type(url: str, text: str) -> str | None:
    """The file type a link leads to: its extension, else a format named in its text."""
    ext = extension(url)
    if ext in DATA_EXTENSIONS:
        return ext
    word = _FORMAT_WORD.search(text)
    if word is None:
        return None
    name = word.group(1).lower()
    return _FORMAT_NAMES.get(name, name)


def is_dataset_link(url: str, text: str) -> bool:
    """A link to a data or document file, or one whose text offers a download (or data with a
    format word, so that a navigation link such as "Open Data" is not taken for a dataset)."""
    if extension(url) in DATA_EXTENSIONS:
        return True
    if extension(url) not in PAGE_EXTENSIONS:
        return False
    return bool(_DOWNLOAD_TEXT.search(text) or (_DATA_TEXT.search(text) and _FORMAT_WORD.search(text)))


def clean_space(value: str | None) -> str | None:
    cleaned = _SPACE.sub(" ", value or "").strip()
    return cleaned or None


@dataclass
class CrawlOptions:
    """What the parent passes as the third argument (JSON); defaults suit a polite crawl."""

    user_agent: str = "pdi-catalog"
    timeout_s: float = 30.0
    retries: int = 2
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    retry_after_max_s: float = 120.0
    concurrency: int = 2
    delay_s: float = 0.0
    max_body_bytes: int = 64 * 1024 * 1024
    max_depth: int = 1
    max_pages: int = 40
    crawled_site: str | None = None  # scheme://host[/prefix] actually fetched
    reported_site: str | None = None  # scheme://host written out instead

    @classmethod
    def from_json(cls, text: str | None) -> CrawlOptions:
        data = json.loads(text) if text else {}
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown crawl options: {', '.join(sorted(unknown))}")
        return cls(**data)


def retry_wait(retry_after: str | None, attempt: int, options: CrawlOptions) -> float:
    """Seconds to keep away from a host before retry number ``attempt + 1``: the answer's
    Retry-After (seconds or HTTP date) capped at ``retry_after_max_s``, else the exponential
    backoff with jitter of :mod:`harvesters.http`."""
    hinted = _retry_after_seconds(retry_after)
    if hinted is not None:
        return min(hinted, options.retry_after_max_s)
    base = min(options.backoff_max_s, options.backoff_base_s * (2**attempt))
    return base * (0.5 + random.random() / 2)


@dataclass
class HostCounts:
    """What the crawl sent to one host and got back (the summary's ``hosts`` entries)."""

    requests: int = 0
    retries: int = 0
    bytes: int = 0
    robots: int = 0
    refused_oversize: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


@dataclass
class Outcome:
    pages: int = 0
    items: int = 0
    start_failure: str | None = None
    failures: list[str] = field(default_factory=list)
    closed_reason: str | None = None
    hosts: dict[str, HostCounts] = field(default_factory=dict)
    scrapy_stats: dict[str, int] = field(default_factory=dict)

    def host(self, name: str) -> HostCounts:
        return self.hosts.setdefault(name, HostCounts())

    def summary(self) -> dict[str, Any]:
        return {
            "pages": self.pages,
            "items": self.items,
            "closed": self.closed_reason,
            "hosts": {name: asdict(counts) for name, counts in sorted(self.hosts.items())},
            "scrapy": dict(sorted(self.scrapy_stats.items())),
        }


class SiteMap:
    """Maps crawled URLs back to the real site (identity when nothing is routed)."""

    def __init__(self, start_url: str, crawled: str | None, reported: str | None) -> None:
        parts = urlsplit(start_url)
        self.crawled = (crawled or f"{parts.scheme}://{parts.netloc}").rstrip("/")
        self.reported = (reported or self.crawled).rstrip("/")

    @property
    def routed(self) -> bool:
        return self.crawled != self.reported

    def on_site(self, url: str) -> bool:
        return url == self.crawled or url.startswith(self.crawled + "/")

    def real(self, url: str) -> str:
        return self.reported + url[len(self.crawled) :] if self.on_site(url) else url

    def real_host(self, url: str) -> str:
        """The host (``netloc``, as :mod:`harvesters.http` counts it) a crawled URL stands for."""
        return urlsplit(self.real(url)).netloc.lower()


#: Scrapy's own stats worth reporting (crawl-wide), by key prefix
SCRAPY_STATS = ("downloader/", "retry/", "robotstxt/")


def _build_middlewares(options: CrawlOptions, site: SiteMap, outcome: Outcome) -> tuple[type, type]:
    """(:class:`PoliteRetry`, :class:`HostCounter`) bound to this crawl's options and outcome."""
    from scrapy import signals
    from scrapy.downloadermiddlewares.retry import RetryMiddleware
    from scrapy.exceptions import DownloadCancelledError
    from scrapy.utils.asyncio import call_later
    from twisted.internet.defer import CancelledError

    class PoliteRetry(RetryMiddleware):
        """Scrapy's retry, after holding the host's download slot for Retry-After or a backoff.

        The hold is set when a retryable answer arrives (the ``response_downloaded`` signal), before
        the downloader hands the freed connection to the next request in that slot, so no request
        to the host slips out in between. A connection failure holds the slot when it is retried.
        """

        def __init__(self, crawler: Any) -> None:
            super().__init__(crawler.settings)
            self.crawler = crawler
            self.held_until: dict[str, float] = {}
            crawler.signals.connect(self.response_downloaded, signal=signals.response_downloaded)

        @classmethod
        def from_crawler(cls, crawler: Any) -> PoliteRetry:
            return cls(crawler)

        def response_downloaded(self, response: Any, request: Any, **_: Any) -> None:
            if response.status in self.retry_http_codes and not request.meta.get("dont_retry", False):
                retry_after = response.headers.get("Retry-After")
                text = retry_after.decode("latin-1") if isinstance(retry_after, bytes) else retry_after
                self.hold(request, retry_wait(text, int(request.meta.get("retry_times", 0)), options))

        # ``spider`` only to match the superclass; Scrapy passes it to no method that can do without
        def process_response(self, request: Any, response: Any, spider: Any = None) -> Any:
            result = super().process_response(request, response)
            if result is not response:
                outcome.host(site.real_host(request.url)).retries += 1
            return result

        def process_exception(self, request: Any, exception: Exception, spider: Any = None) -> Any:
            result = super().process_exception(request, exception)
            if result is not None:
                outcome.host(site.real_host(request.url)).retries += 1
                self.hold(request, retry_wait(None, int(request.meta.get("retry_times", 0)), options))
            return result

        def hold(self, request: Any, seconds: float) -> None:
            """No request leaves the request's download slot for ``seconds``: the slot's delay
            timer (the one DOWNLOAD_DELAY uses) is set to fire then, unless a later hold is on."""
            if seconds <= 0:
                return
            downloader = self.crawler.engine.downloader
            key = request.meta.get(downloader.DOWNLOAD_SLOT) or downloader.get_slot_key(request)
            slot = downloader.slots.get(key)
            until = time.monotonic() + seconds
            if slot is None or until <= self.held_until.get(key, 0.0):
                return
            self.held_until[key] = until
            if slot.latercall is not None:
                slot.latercall.cancel()
            # when it fires, the downloader clears the timer and sends what is queued (private
            # to Scrapy's Downloader; tests/test_harvesters_html.py measures the wait over HTTP)
            slot.latercall = call_later(seconds, downloader._latercall, slot)

    class HostCounter:
        """Counts per real host what went on the wire; placed where Scrapy's DownloaderStats is,
        so it sees every request sent, robots.txt included, and every answer before any retry."""

        def process_request(self, request: Any) -> None:
            counts = outcome.host(site.real_host(request.url))
            counts.requests += 1
            if urlsplit(site.real(request.url)).path == "/robots.txt":
                counts.robots += 1

        def process_response(self, request: Any, response: Any) -> Any:
            counts = outcome.host(site.real_host(request.url))
            status = str(response.status)
            counts.statuses[status] = counts.statuses.get(status, 0) + 1
            counts.bytes += len(response.body)
            return response

        def process_exception(self, request: Any, exception: Exception) -> None:
            # the size cap is the only thing that cancels a download here (no StopDownload is used);
            # Scrapy raises DownloadCancelledError over a declared Content-Length and while reading
            if isinstance(exception, DownloadCancelledError | CancelledError):
                outcome.host(site.real_host(request.url)).refused_oversize += 1

    return PoliteRetry, HostCounter


def _build_spider(options: CrawlOptions, start_url: str, sink: TextIO, outcome: Outcome) -> Any:
    # Scrapy is imported here, in the crawl process only: the harvester process never loads Twisted.
    import scrapy
    from protego import Protego
    from scrapy.http import Response, TextResponse

    site = SiteMap(start_url, options.crawled_site, options.reported_site)
    start_path = urlsplit(site.real(start_url)).path or "/"
    start_dir = start_path[: start_path.rfind("/") + 1]
    page_meta = {"handle_httpstatus_all": True}

    class DepartmentPageSpider(scrapy.Spider):
        name = "department_page"

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.robots: Any = None
            self.seen: set[str] = set()

        async def start(self) -> AsyncIterator[Any]:
            for request in self.start_requests():
                yield request

        def start_requests(self) -> Iterator[Any]:
            if site.routed:
                yield scrapy.Request(
                    site.crawled + "/robots.txt",
                    callback=self.read_robots,
                    errback=self.robots_failed,
                    meta={**page_meta, "dont_obey_robotstxt": True},
                    dont_filter=True,
                )
            else:
                yield self.start_request()

        def start_request(self) -> Any:
            meta = {**page_meta, "page_depth": 0}
            return scrapy.Request(start_url, callback=self.parse_page, errback=self.page_failed, meta=meta)

        def read_robots(self, response: Response) -> Iterator[Any]:
            if response.status == 200:
                self.robots = Protego.parse(response.text if isinstance(response, TextResponse) else "")
            yield self.start_request()

        def robots_failed(self, failure: Any) -> Iterator[Any]:
            yield self.start_request()  # no robots.txt: everything is allowed

        def allowed(self, url: str) -> bool:
            return self.robots is None or bool(self.robots.can_fetch(site.real(url), options.user_agent))

        def page_failed(self, failure: Any) -> None:
            from scrapy.exceptions import IgnoreRequest

            if failure.check(IgnoreRequest):
                return  # refused by robots.txt: not ours to read
            url = getattr(failure.request, "url", "?")
            self.note_failure(url, f"{failure.type.__name__}: {failure.value}")

        def note_failure(self, url: str, message: str) -> None:
            if url == start_url:
                outcome.start_failure = f"start page {site.real(url)} could not be read: {message}"
            else:
                outcome.failures.append(f"page {site.real(url)} could not be read: {message}")

        def parse_page(self, response: Response) -> Iterator[Any]:
            depth = int(response.meta.get("page_depth", 0))
            if response.status != 200:
                # a broken link below the start page (404/410) is the page's problem, not a failure
                if response.url == start_url or response.status not in (404, 410):
                    self.note_failure(response.url, f"HTTP {response.status}")
                return
            outcome.pages += 1
            if not isinstance(response, TextResponse):
                return
            page = site.real(response.url)
            page_title = clean_space(" ".join(response.css("title ::text").getall())) or clean_space(
                " ".join(response.css("h1 ::text").getall())
            )
            for anchor in response.css("a[href]"):
                href = (anchor.attrib.get("href") or "").strip()
                absolute = urldefrag(response.urljoin(href))[0]
                if urlsplit(absolute).scheme not in ("http", "https"):
                    continue
                text = clean_space(" ".join(anchor.css("::text").getall())) or clean_space(anchor.attrib.get("title"))
                if is_dataset_link(absolute, text or ""):
                    self.write(anchor, absolute, text, page, page_title, depth)
                elif self.should_follow(absolute, depth):
                    meta = {**page_meta, "page_depth": depth + 1}
                    yield scrapy.Request(absolute, callback=self.parse_page, errback=self.page_failed, meta=meta)

        def should_follow(self, url: str, depth: int) -> bool:
            if depth >= options.max_depth or not site.on_site(url):
                return False
            path = urlsplit(site.real(url)).path or "/"
            return path.startswith(start_dir) and extension(url) in PAGE_EXTENSIONS and self.allowed(url)

        def write(self, anchor: Any, url: str, text: str | None, page: str, page_title: str | None, depth: int) -> None:
            real = site.real(url)
            if real in self.seen:
                return
            self.seen.add(real)
            block = anchor.xpath("ancestor::*[self::li or self::p or self::td or self::dd or self::dt][1]")
            context = clean_space(" ".join(block.css("::text").getall())) if block else None
            heading = clean_space(
                " ".join(anchor.xpath("preceding::*[self::h1 or self::h2 or self::h3 or self::h4][1]//text()").getall())
            )
            item = {
                "url": real,
                "title": text,
                "page": page,
                "page_title": page_title,
                "heading": heading,
                "context": context[:_CONTEXT_MAX] if context else None,
                "date": find_date(text, context),
                "file_type": link_file_type(url, text or ""),
                "depth": depth,
            }
            sink.write(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n")
            outcome.items += 1

        def closed(self, reason: str) -> None:
            outcome.closed_reason = reason
            stats = self.crawler.stats.get_stats()
            outcome.scrapy_stats = {
                key: value
                for key, value in stats.items()
                if key.startswith(SCRAPY_STATS) and isinstance(value, int) and not isinstance(value, bool)
            }

    return DepartmentPageSpider


def _crawl_settings(options: CrawlOptions, site: SiteMap, outcome: Outcome) -> dict[str, Any]:
    """The Scrapy settings of one crawl (per crawl: a served crawl sets them on its spider)."""
    polite_retry, host_counter = _build_middlewares(options, site, outcome)
    return {
        "USER_AGENT": options.user_agent,
        # Routed (the demo), the spider applies the portal's own robots.txt to real URLs itself;
        # Scrapy's middleware would only fetch the simulator's root /robots.txt, which is not it.
        "ROBOTSTXT_OBEY": not site.routed,
        "DOWNLOAD_TIMEOUT": options.timeout_s,
        "RETRY_TIMES": options.retries,
        "RETRY_HTTP_CODES": sorted(RETRY_STATUSES),
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            polite_retry: 550,
            host_counter: 851,  # next to DownloaderStats (850): the same requests and answers
        },
        "CONCURRENT_REQUESTS_PER_DOMAIN": max(1, options.concurrency),
        # the crawl reads one site, so the crawl-wide limit is the per-host one; it is also the only
        # limit Scrapy 2.19 keeps on the asyncio reactor, where a slot hands its whole queue out at
        # once (a transfer starts as a task, after the slot counted its free transfers)
        "CONCURRENT_REQUESTS": max(1, options.concurrency),
        "DOWNLOAD_DELAY": options.delay_s,
        # the delay is a minimum between requests, so no ±50% jitter around it
        "DOWNLOAD_DELAY_JITTER": 0.0,
        "DOWNLOAD_MAXSIZE": options.max_body_bytes,
        # a backstop: the spider counts page depth itself, since a routed crawl's robots.txt
        # request sits one level above the start page in Scrapy's own count
        "DEPTH_LIMIT": options.max_depth + 1,
        "CLOSESPIDER_PAGECOUNT": options.max_pages,
        # breadth first, so the start page's own links are read before any page below it
        "DEPTH_PRIORITY": 1,
        "SCHEDULER_DISK_QUEUE": "scrapy.squeues.PickleFifoDiskQueue",
        "SCHEDULER_MEMORY_QUEUE": "scrapy.squeues.FifoMemoryQueue",
        "COOKIES_ENABLED": False,
    }


#: what every crawl of a process shares: quiet logs, no telnet console, only the http(s) handlers
PROCESS_SETTINGS: dict[str, Any] = {
    "TELNETCONSOLE_ENABLED": False,
    "LOG_LEVEL": "ERROR",
    "DOWNLOAD_HANDLERS": {"data": None, "file": None, "s3": None, "ftp": None},
}


def crawl(start_url: str, out_path: str, options: CrawlOptions) -> Outcome:
    """Run the crawl in this process (once: the Twisted reactor cannot be restarted)."""
    from scrapy.crawler import CrawlerProcess

    outcome = Outcome()
    site = SiteMap(start_url, options.crawled_site, options.reported_site)
    settings = {**PROCESS_SETTINGS, **_crawl_settings(options, site, outcome)}
    with open(out_path, "w", encoding="utf-8") as sink:
        process = CrawlerProcess(settings)
        process.crawl(_build_spider(options, start_url, sink, outcome))
        process.start()
    return outcome


def verdict(outcome: Outcome, options: CrawlOptions) -> tuple[int, str | None]:
    """The exit status of a finished crawl (see the module doc) and what went wrong, if anything."""
    if outcome.start_failure:
        return 2, outcome.start_failure
    if outcome.closed_reason and outcome.closed_reason.startswith("closespider_pagecount"):
        return 3, f"the crawl stopped at the {options.max_pages}-page cap; it is not whole"
    if outcome.failures:
        return 3, "; ".join(outcome.failures)
    return 0, None


def serve(jobs: TextIO, replies: TextIO) -> int:
    """Run the crawls asked for on ``jobs``, several at once in this one process, until it ends.

    Each line of ``jobs`` is ``{"id": n, "url": …, "out": path, "options": {…}}`` (a crawl, as the
    command line's arguments) or ``{"cancel": n}`` (stop that crawl; it ends as cancelled). Each
    crawl, when it ends, writes one line to ``replies``: ``{"id": n, "status": s, "message": …,
    "summary": {…}}``, ``status`` being the exit status a crawl of its own would have had
    (0, 2, 3; 1 for a bad job or a crawl that raised). When ``jobs`` ends, the process ends once
    its crawls have.

    One long-lived process saves each crawl the start of a Python process and the import of Scrapy
    and Twisted (about 0.7 s of CPU), which on a harvest of many department pages was most of
    their cost; the harvest process still never loads Twisted.
    """
    import threading

    from scrapy.crawler import CrawlerRunner
    from scrapy.settings import Settings
    from scrapy.utils.log import configure_logging
    from scrapy.utils.reactor import install_reactor

    settings = Settings(PROCESS_SETTINGS)
    install_reactor(settings["TWISTED_REACTOR"], settings["ASYNCIO_EVENT_LOOP"])
    configure_logging(settings)
    from twisted.internet import reactor as installed

    reactor: Any = installed
    process = CrawlerRunner(settings)
    running: dict[int, Any] = {}
    ended = threading.Event()

    def reply(message: dict[str, Any]) -> None:
        replies.write(json.dumps(message, sort_keys=True) + "\n")
        replies.flush()

    def start(job: dict[str, Any]) -> None:
        ident = job.get("id")
        try:
            if not isinstance(ident, int) or isinstance(ident, bool) or ident in running:
                raise ValueError(f"a job needs a new integer id, not {ident!r}")
            url, out = job.get("url"), job.get("out")
            if not isinstance(url, str) or not isinstance(out, str):
                raise ValueError("a job needs a 'url' and an 'out' path")
            options = CrawlOptions.from_json(json.dumps(job.get("options") or {}))
            outcome = Outcome()
            site = SiteMap(url, options.crawled_site, options.reported_site)
            sink = open(out, "w", encoding="utf-8")  # noqa: SIM115 - closed when the crawl ends
        except (ValueError, TypeError, OSError) as exc:
            reply({"id": ident, "status": 1, "message": f"bad crawl job: {exc}", "summary": {}})
            return
        spider = _build_spider(options, url, sink, outcome)
        spider.custom_settings = _crawl_settings(options, site, outcome)
        crawler = process.create_crawler(spider)
        running[ident] = crawler

        def finished(result: Any) -> None:
            sink.close()
            running.pop(ident, None)
            status, message = verdict(outcome, options)
            if getattr(result, "getErrorMessage", None) is not None:  # a Failure: the crawl raised
                status, message = 1, f"the crawl raised {result.getErrorMessage()}"
            elif outcome.closed_reason == "cancelled":
                status, message = 1, "the crawl was cancelled"
            reply({"id": ident, "status": status, "message": message, "summary": outcome.summary()})
            stop_when_done()

        process.crawl(crawler).addBoth(finished)

    def cancel(ident: Any) -> None:
        crawler = running.get(ident)
        if crawler is not None and getattr(crawler, "engine", None) is not None and crawler.spider is not None:
            crawler.engine.close_spider(crawler.spider, "cancelled")

    def stop_when_done() -> None:
        if ended.is_set() and not running and reactor.running:
            reactor.stop()

    def dispatch(line: str) -> None:
        try:
            job = json.loads(line)
        except ValueError:
            reply({"id": None, "status": 1, "message": "a job line that is not JSON", "summary": {}})
            return
        if isinstance(job, dict) and "cancel" in job:
            cancel(job["cancel"])
        elif isinstance(job, dict):
            start(job)
        else:
            reply({"id": None, "status": 1, "message": "a job line that is not a JSON object", "summary": {}})

    def read() -> None:
        for line in jobs:
            if line.strip():
                reactor.callFromThread(dispatch, line)
        ended.set()
        reactor.callFromThread(stop_when_done)

    threading.Thread(target=read, name="pdi-crawl-jobs", daemon=True).start()
    reactor.run(installSignalHandlers=False)
    return 0


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[1] == "--serve":
        return serve(sys.stdin, sys.stdout)
    if len(argv) not in (3, 4):
        print(
            "usage: python -m harvesters.html_crawl <url> <out.jsonl> [options-json]\n"
            "       python -m harvesters.html_crawl --serve   (jobs as JSON lines on stdin)",
            file=sys.stderr,
        )
        return 1
    options = CrawlOptions.from_json(argv[3] if len(argv) == 4 else None)
    outcome = crawl(argv[1], argv[2], options)
    print(json.dumps(outcome.summary(), sort_keys=True))
    status, message = verdict(outcome, options)
    if message:
        print(message, file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
