"""Department web pages: a Scrapy crawl of the page; a raw record is one dataset-like link, untouched.

Some departments publish no portal, only a page of links to CSV/XLSX/PDF releases. Gather hands
the crawl to the crawl process this harvest process shares (:mod:`harvesters.crawl_worker`, running
:func:`harvesters.html_crawl.serve`: Scrapy's Twisted reactor cannot be restarted inside one
process, and one process for all crawls saves each the start of Scrapy), which writes one JSON line
per link to a data or document file found on the page and on the pages it links to in its folder;
the harvester reads the lines back and yields one :class:`RawRecord` per distinct link URL. The
mapping reads what a page says about a link — its text, the page title, the nearest heading, the
surrounding text, a date written beside it — and invents nothing else.

The crawl cannot fetch through :class:`~harvesters.http.HttpClient`, so it is given the client's
settings and applies them itself (robots.txt, per-host concurrency and delay, retries with backoff
and Retry-After, size cap; see :mod:`harvesters.html_crawl`). What it sent is counted per real host
in its summary line and added to the client's :class:`~harvesters.http.HttpStats`, so the run's
host statistics and ``/metrics`` show a crawl's requests, retries and bytes under the portal's host.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote, unquote_plus, urlsplit
from urllib.robotparser import RobotFileParser

from catalog.record import CatalogRecord
from harvesters import convert as c
from harvesters.base import GatherError, GatherStats, Harvester, Probe, RawRecord, SourceContext, fingerprint
from harvesters.crawl_worker import WORKER
from harvesters.http import FetchError, HttpClient
from harvesters.registry import register

#: crawl bounds: pages below the start page followed (1: the pages it links to) and pages in all
MAX_DEPTH = 1
MAX_PAGES = 40
#: the keys of a crawl item (``harvesters/html_crawl.py`` writes them)
ITEM_KEYS = frozenset({"url", "title", "page", "page_title", "heading", "context", "date", "file_type"})

# --------------------------------------------------------------------------------------------------
# converters
# --------------------------------------------------------------------------------------------------

_SIZE = r"\d+(?:[.,]\d+)?\s*(?:[KMG]i?B|bytes?)"
_FORMATS = r"PDF|CSV|XLSX?|EXCEL|JSON|GEOJSON|ZIP|DOCX?|TXT"
_NOISE = (
    re.compile(r"^\s*(?:click\s+here\s+to\s+)?download(?:\s+the)?\b\s*:?\s*", re.I),  # "Download the …"
    re.compile(rf"\s*[(\[]\s*(?:(?:{_FORMATS})\b[\s,;|-]*)?(?:{_SIZE})?\s*[)\]]\s*$", re.I),  # (PDF, 2 MB)
    re.compile(rf"\s*[(\[]\s*(?:{_FORMATS})\s*(?:file|format)?\s*[)\]]\s*$", re.I),  # [XLSX]
    re.compile(rf"\s*[-–—|,]\s*(?:{_SIZE})\s*$", re.I),  # - 2 MB
    re.compile(r"\.(?:csv|xlsx?|json|geojson|zip|pdf|docx?)\s*$", re.I),  # file.xlsx
    re.compile(
        r"\s*[-–—|,(]?\s*(?:last\s+)?(?:updated|posted|revised)\s*:?\s*"
        r"(?:\d{1,2}/)?(?:\d{1,2}/)?\d{4}(?:-\d{2}-\d{2})?\s*\)?\s*$",
        re.I,
    ),  # - Updated 03/2024
)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")


def humanised_file_name(url: Any) -> str | None:
    """``…/ResponseToResistance+2015-2017.xls`` → ``Response To Resistance 2015-2017``."""
    raw = c.text(url)
    if raw is None:
        return None
    name = unquote_plus(unquote(urlsplit(raw).path.rsplit("/", 1)[-1]))
    stem = name.rsplit(".", 1)[0] if "." in name else name
    words = re.sub(r"(?<!\d)[-_]|[-_](?!\d)", " ", stem)
    words = _CAMEL.sub(" ", words)
    cleaned = " ".join(words.split())
    return cleaned[:1].upper() + cleaned[1:] if cleaned else None


def link_title(text: Any, url: Any) -> str | None:
    """The link text without "Download", format and size notes, a file extension or an "Updated …"
    suffix; the file name humanised when nothing is left."""
    title = c.plain_text(text) or ""
    for _ in range(3):  # the notes come in any order: "Report - Updated 03/2024 (CSV)"
        for pattern in _NOISE:
            title = pattern.sub("", title).strip()
    title = title.strip(" -–—|,:")
    return title or humanised_file_name(url)


_MONTHS = {
    m: i
    for i, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for m in names
}
_RANGE = re.compile(r"^((?:19|20)\d{2})\s*(?:-|–|—|to|through)\s*((?:19|20)\d{2})$", re.I)


def _date_parts(value: Any) -> tuple[int, int | None, int | None] | None:
    """(year, month, day) from the forms the crawl finds; a year range gives its last year."""
    raw = c.text(value)
    if raw is None:
        return None
    raw = raw.replace(".", "").strip()
    patterns: tuple[tuple[str, tuple[str, ...]], ...] = (
        (r"(\d{4})-(\d{2})-(\d{2})", ("y", "m", "d")),
        (r"(\d{1,2})/(\d{1,2})/(\d{4})", ("m", "d", "y")),
        (r"([A-Za-z]+)\s+(\d{1,2}),\s*(\d{4})", ("M", "d", "y")),
        (r"(\d{1,2})/(\d{4})", ("m", "y")),
        (r"([A-Za-z]+)\s+(\d{4})", ("M", "y")),
        (r"((?:19|20)\d{2})", ("y",)),
    )
    ranged = _RANGE.match(raw)
    if ranged:
        return int(ranged.group(2)), None, None
    for pattern, order in patterns:
        found = re.fullmatch(pattern, raw)
        if found is None:
            continue
        parts: dict[str, int | None] = {"y": None, "m": None, "d": None}
        for key, group in zip(order, found.groups(), strict=True):
            if key == "M":
                parts["m"] = _MONTHS.get(group.lower())
                if parts["m"] is None:
                    return None
            else:
                parts[key] = int(group)
        year, month, day = parts["y"], parts["m"], parts["d"]
        if year is None or not 1900 <= year <= 2100:
            return None
        try:
            datetime(year, month or 1, day or 1)
        except ValueError:
            return None
        return year, month, day
    return None


def page_date(value: Any) -> str | None:
    """A date as precise as the page wrote it: ``2019``, ``2024-03`` or ``2024-03-15``."""
    parts = _date_parts(value)
    if parts is None:
        return None
    year, month, day = parts
    out = f"{year:04d}" + (f"-{month:02d}" if month else "") + (f"-{day:02d}" if month and day else "")
    return c.dcat_modified(out)


def page_date_start(value: Any) -> datetime | None:
    """The start of the period a page's date names (``2019`` → 2019-01-01), in UTC."""
    parts = _date_parts(value)
    if parts is None:
        return None
    year, month, day = parts
    return datetime(year, month or 1, day or 1, tzinfo=UTC)


def year_range(value: Any) -> str | None:
    """A year range beside the link (``2015-2023``) as the interval ``2015/2023``."""
    raw = c.text(value)
    found = _RANGE.match(raw.strip()) if raw else None
    if found is None or found.group(1) > found.group(2):
        return None
    return c.dcat_temporal(f"{found.group(1)}/{found.group(2)}")


def described(page_title: Any, heading: Any, context: Any, link_text: Any) -> str | None:
    """``Published on <page title>: <heading>. <surrounding text>`` — only what the page says; the
    surrounding text is left out when it is just the link text again."""
    title = c.plain_text(page_title)
    around = c.plain_text(context)
    if around is not None and around == c.plain_text(link_text):
        around = None
    parts = [p for p in (c.plain_text(heading), around) if p]
    detail = ". ".join(dict.fromkeys(parts))
    if title is None and not detail:
        return None
    where = f"Published on {title}" if title else "Published on a department web page"
    return f"{where}: {detail}" if detail else where + "."


def section_keyword(heading: Any) -> list[str] | None:
    """The heading the link sits under, the page's own label for it (no words are guessed)."""
    return c.keywords([heading]) if c.text(heading) else None


def page_host(page: Any) -> str | None:
    """The host of the page, standing in for a publisher a page does not name."""
    url = c.http_url(page)
    return urlsplit(url).netloc.lower() if url else None


def link_distribution(url: Any, file_type: Any, title: Any) -> list[dict[str, Any]] | None:
    """The linked file: ``downloadURL`` with the media type of its extension (or of the format the
    link text names)."""
    item = c.distribution(url=url, format_name=c.text(file_type), title=link_title(title, url))
    if item is not None and "mediaType" in item and c.text(file_type):
        item["format"] = str(file_type).upper()
    return c.unique_distributions([item])


MAPPING = c.MappingTable(
    platform="html",
    content="one crawl item: a dataset-like link (`url`, `title` = link text, `file_type`) with the "
    "`page` it was found on, its `page_title`, the nearest `heading`, the surrounding `context` and a "
    "`date` written beside it",
    rules=(
        c.rule("title", ("title", "url"), link_title, "link text cleaned; else the file name humanised"),
        c.rule("description", ("page_title", "heading", "context", "title"), described),
        c.rule("keyword", "heading", section_keyword),
        c.rule("modified", "date", page_date, "as precise as written; a year range gives its last year"),
        c.rule("temporal", "date", year_range, "a year range only"),
        c.rule("publisher.name", "page", page_host, "the page's host"),
        c.rule("identifier", "context.remote_id", c.text, "the link URL"),
        c.rule("landingPage", "page", c.http_url),
        c.rule("distribution", ("url", "file_type", "title"), link_distribution),
        c.rule("pdi.freshness.last_data_update", "date", page_date_start, "the start of the period named"),
    ),
    notes=(
        "A page names no publisher, licence, contact or update schedule: those take the defaults. The "
        "publisher is the page's host rather than a guessed agency.",
        "A date is one written in the link text or beside it (`Updated 03/2024`, `Posted March 3, 2024`, "
        "a bare `2019`); a stated date wins over a bare year. `last_data_update` is the start of the "
        "period it names, so a year alone reads as 1 January.",
        "The crawl follows links inside the start page's folder only, one level deep, obeys robots.txt, "
        "and fails (withdrawing nothing) when any page it follows cannot be read or the page cap is hit.",
    ),
)

# --------------------------------------------------------------------------------------------------
# documents
# --------------------------------------------------------------------------------------------------


def _is_item(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and ITEM_KEYS <= set(entry)
        and isinstance(entry.get("url"), str)
        and bool(entry["url"].strip())
        and isinstance(entry.get("page"), str)
    )


def _items(document: Any) -> list[dict[str, Any]] | None:
    if _is_item(document):
        return [document]
    if isinstance(document, list) and document and all(_is_item(e) for e in document):
        return document
    return None


def _order(item: dict[str, Any]) -> tuple[int, str, str]:
    """Links found on the start page first, then by page and URL: a link listed on two pages keeps
    the same page (and so the same content) from one crawl to the next."""
    depth = item.get("depth")
    return (depth if isinstance(depth, int) else 99, str(item.get("page")), str(item.get("url")))


def _site(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@register
class HtmlHarvester(Harvester):
    """Department web pages crawled with Scrapy for links to data and document files."""

    platform: ClassVar[str] = "html"
    title: ClassVar[str] = "Department web pages (Scrapy crawl for CSV/XLSX/PDF links)"
    mapping: ClassVar[c.MappingTable] = MAPPING

    def probe(self, source: SourceContext, http: HttpClient) -> Probe | None:
        """The hash of the start page (a conditional request), read only where the site's
        robots.txt allows it, as the crawl is. The start page lists the documents, so it moves
        when one comes or goes; a document updated in place may not move it: not change-tracking."""
        start = source.url
        robots = RobotFileParser()
        try:
            answer = http.get(_site(start) + "/robots.txt")
        except FetchError:
            return None  # the crawl will find out and say so
        robots.parse(answer.text.splitlines() if answer.status_code == 200 else [])
        if not robots.can_fetch(http.settings.user_agent, start):
            return None
        try:
            page = http.get(start)
        except FetchError as exc:
            raise GatherError(f"the start page could not be read: {exc}", start) from exc
        if page.status_code != 200:
            return None
        return Probe(fingerprint(hashlib.sha256(page.content).hexdigest()), tracks_changes=False)

    def gather(self, source: SourceContext, http: HttpClient, stats: GatherStats) -> Iterator[RawRecord]:
        """Crawl ``source.url`` in the shared crawl process (:data:`harvesters.crawl_worker.WORKER`)
        and yield one record per distinct link URL, keyed by that absolute URL on the real site.

        The crawl gets the HTTP settings (User-Agent, timeout, retries and backoff, Retry-After
        cap, per-host concurrency and delay, size cap). When ``http`` routes URLs (the demo), the
        routed page is crawled and every URL is mapped back to the real host. The crawl's requests
        (robots.txt included), retries, bytes and size-cap refusals are added to ``http.stats``
        under the real host, and its request count to ``stats.requests``, whether or not it
        succeeded. A crawl that ends with a non-zero status (the start page unreachable, a followed
        page failing, the page cap reached, the time limit passed, the crawl process dying) raises
        :class:`GatherError`; a page without links is a complete gather of nothing.
        """
        start = source.url
        site = _site(start)
        route = http.route
        crawled_start = route(start) if route else start
        crawled_site = route(site + "/").rstrip("/") if route else site
        settings = http.settings
        options = {
            "user_agent": settings.user_agent,
            "timeout_s": settings.timeout_s,
            "retries": settings.max_retries,
            "backoff_base_s": settings.backoff_base_s,
            "backoff_max_s": settings.backoff_max_s,
            "retry_after_max_s": settings.retry_after_max_s,
            "concurrency": settings.per_host_concurrency,
            "delay_s": settings.per_host_min_delay_s,
            "max_body_bytes": settings.max_body_bytes,
            "max_depth": MAX_DEPTH,
            "max_pages": MAX_PAGES,
            "crawled_site": crawled_site,
            "reported_site": site,
        }
        # each page may take every retry at the full timeout, each after the longest wait; the
        # process gets that and a margin
        longest_wait = max(settings.retry_after_max_s, settings.backoff_max_s)
        limit = 60 + MAX_PAGES * (settings.timeout_s * (settings.max_retries + 1) + longest_wait * settings.max_retries)
        with tempfile.TemporaryDirectory(prefix="pdi-html-") as tmp:
            out = Path(tmp) / "links.jsonl"
            done = WORKER.crawl(crawled_start, str(out), options, limit)
            sent = _count_hosts(done.summary, http)
            stats.count(requests=sent, pages=_count(done.summary.get("pages")))
            if done.status != 0:
                raise GatherError(f"the crawl failed: {done.message or f'status {done.status}'}", start)
            fetched_at = datetime.now(UTC)
            items = []
            for line in out.read_text(encoding="utf-8").splitlines():
                try:
                    item = json.loads(line)
                except ValueError as exc:
                    raise GatherError(f"the crawl wrote a line that is not JSON: {exc}", start) from exc
                if _is_item(item):
                    items.append(item)
        seen: set[str] = set()
        for item in sorted(items, key=_order):
            url = item["url"].strip()
            if url not in seen:
                seen.add(url)
                yield RawRecord(url, str(item["page"]), fetched_at, item)
        stats.total = len(seen)
        stats.complete = True

    @staticmethod
    def map_record(raw: RawRecord, source: SourceContext) -> CatalogRecord:
        """Map one crawl item through :data:`MAPPING` (pure)."""
        return c.map_with(MAPPING, raw, source)

    @staticmethod
    def recognizes(document: Any) -> bool:
        """A crawl item (``url``, ``title``, ``page``, ``page_title``, ``heading``, ``context``,
        ``date``, ``file_type``) or a list of them."""
        return _items(document) is not None

    @staticmethod
    def split_document(document: Any, source_url: str, fetched_at: datetime) -> Iterator[RawRecord]:
        """One raw record per distinct link URL, in crawl order (start page first)."""
        items = _items(document)
        if items is None:
            raise ValueError("not a department-page crawl item or list of items")
        seen: set[str] = set()
        for item in sorted(items, key=_order):
            url = item["url"].strip()
            if url not in seen:
                seen.add(url)
                yield RawRecord(url, str(item["page"]), fetched_at, item)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _count_hosts(summary: dict[str, Any], http: HttpClient) -> int:
    """Add the crawl's per-host counters (already keyed by the real host) to ``http.stats``;
    the number of requests it sent."""
    hosts = summary.get("hosts")
    sent = 0
    for host, counts in hosts.items() if isinstance(hosts, dict) else ():
        if not isinstance(host, str) or not isinstance(counts, dict):
            continue
        requests = _count(counts.get("requests"))
        http.stats.add(
            host,
            requests=requests,
            retries=_count(counts.get("retries")),
            bytes=_count(counts.get("bytes")),
            refused_oversize=_count(counts.get("refused_oversize")),
        )
        sent += requests
    return sent
