"""ArcGIS Online / Enterprise portal: ``sharing/rest/search``, the portal description, items, data.

The search answers as the recorded response does (``reference/portal-samples/arcgis/
arcgis_online_sharing_rest_search_*``): ``{"total", "start", "num", "nextStart", "results"}``,
``start`` 1-based, ``num`` capped at 100, ``nextStart`` -1 after the last page, only the first
10 000 results pageable, and errors as ``{"error": {"code", "message", "details"}}`` with HTTP 200,
as the Sharing API writes them. The query language is the part of Esri's search syntax a harvester
uses: ``field:value`` terms (``orgid`` or ``accountid``, ``owner``, ``type``, ``id``, ``title``, ``tags``), free
words, quoted phrases, ``AND``/``OR``/``NOT`` and parentheses (adjacent terms are ANDed).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from simulator.dates import epoch_ms
from simulator.platforms import Shapes, register, route
from simulator.platforms.arcgis_items import find_item, item_type, org_id, portal_item
from simulator.platforms.downloads import file_reply
from simulator.platforms.pages import landing_page
from simulator.wire import Reply, SimRequest
from simulator.world import PortalView

DEFAULT_NUM = 10
MAX_NUM = 100
MAX_PAGED = 10_000
_SORTS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "created": lambda i: i["created"],
    "modified": lambda i: i["modified"],
    "title": lambda i: i["title"].lower(),
    "type": lambda i: i["type"],
    "owner": lambda i: i["owner"].lower(),
    "numviews": lambda i: i["numViews"],
}
_TOKEN = re.compile(r'\s*(?:(?P<open>\()|(?P<close>\))|(?P<term>(?:\w+:)?(?:"[^"]*"|[^\s()"]+)))')


def _error(code: int, message: str) -> Reply:
    # the Sharing API answers errors with HTTP 200 and an error object
    return Reply(payload={"error": {"code": code, "message": message, "details": []}}, document="arcgis.error")


class QueryError(ValueError):
    pass


Predicate = Callable[[dict[str, Any]], bool]


def _term(text: str) -> Predicate:
    field, sep, value = text.partition(":")
    if not sep or not re.fullmatch(r"\w+", field):
        field, value = "", text
    value = value.strip('"').lower()
    field = field.lower()
    if field in ("orgid", "accountid"):
        return lambda i: str(i.get("orgId", "")).lower() == value
    if field == "owner":
        return lambda i: str(i.get("owner", "")).lower() == value
    if field == "type":
        return lambda i: str(i.get("type", "")).lower() == value
    if field == "id":
        return lambda i: i.get("id") == value
    if field == "title":
        return lambda i: value in str(i.get("title", "")).lower()
    if field == "tags":
        return lambda i: value in [str(t).lower() for t in i.get("tags") or []]
    if field:
        return lambda i: False  # a field this simulator does not index matches nothing
    return lambda i: (
        value
        in " ".join([str(i.get("title", "")), str(i.get("description") or ""), *map(str, i.get("tags") or [])]).lower()
    )


def parse_query(q: str) -> Predicate:
    """The predicate of a search query (see the module docstring); QueryError when malformed."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(q):
        match = _TOKEN.match(q, pos)
        if match is None or match.end() == pos:
            if q[pos:].strip():
                raise QueryError(f"cannot read the query at {q[pos:]!r}")
            break
        pos = match.end()
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
    position = 0

    def peek() -> tuple[str, str] | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal position
        position += 1
        return tokens[position - 1]

    def expr() -> Predicate:
        parts = [conj()]
        while (tok := peek()) is not None and tok == ("term", "OR"):
            take()
            parts.append(conj())
        return parts[0] if len(parts) == 1 else (lambda i: any(p(i) for p in parts))

    def conj() -> Predicate:
        parts = [unary()]
        while (tok := peek()) is not None and tok[0] != "close" and tok != ("term", "OR"):
            if tok == ("term", "AND"):
                take()
            parts.append(unary())
        return parts[0] if len(parts) == 1 else (lambda i: all(p(i) for p in parts))

    def unary() -> Predicate:
        tok = peek()
        if tok is None:
            raise QueryError("the query ends where a term was expected")
        take()
        if tok == ("term", "NOT"):
            inner = unary()
            return lambda i: not inner(i)
        if tok[0] == "open":
            inner = expr()
            if peek() is None or take()[0] != "close":
                raise QueryError("unbalanced parentheses")
            return inner
        if tok[0] == "close" or tok[1] in ("AND", "OR"):
            raise QueryError(f"unexpected {tok[1]!r}")
        return _term(tok[1])

    result = expr()
    if peek() is not None:
        raise QueryError(f"unexpected {peek()[1]!r}")  # type: ignore[index]
    return result


def _int(req: SimRequest, name: str, default: int) -> int | None:
    try:
        return int(req.arg(name) or default)
    except ValueError:
        return None


@route(r"/sharing/rest/search/?", methods=("GET", "HEAD", "POST"))
def search(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply:
    """``GET|POST /sharing/rest/search`` — ``q``, ``start``, ``num``, ``sortField``, ``sortOrder``."""
    q = (req.arg("q") or "").strip()
    if not q and not req.arg("bbox") and not req.arg("categories"):
        return _error(400, "'q' or 'bbox' or 'categories' must be specified.")
    start, num = _int(req, "start", 1), _int(req, "num", DEFAULT_NUM)
    if start is None or start < 1 or num is None or num < 0:
        return _error(400, "Invalid 'start' or 'num' parameter.")
    if start > MAX_PAGED:
        return _error(400, f"Only the first {MAX_PAGED} search results can be paged.")
    num = min(num, MAX_NUM)
    try:
        matches = parse_query(q) if q else (lambda i: True)
    except QueryError as exc:
        return _error(400, f"Invalid query: {exc}")
    found = [item for item in (portal_item(req.link, view, ds) for ds in view.datasets) if matches(item)]
    field = (req.arg("sortField") or "").strip().lower()
    if field in _SORTS:
        found.sort(key=lambda i: i["id"])
        found.sort(key=_SORTS[field], reverse=(req.arg("sortOrder") or "").lower() == "desc")
    page = found[start - 1 : start - 1 + num]
    after = start + len(page)
    body = {
        "total": len(found),
        "start": start,
        "num": num,
        "nextStart": after if page and after - 1 < len(found) else -1,
        "results": page,
    }
    return Reply(payload=body, document="arcgis_online.search")


@route(r"/sharing/rest/portals/self/?")
def portal_self(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply:
    """``GET /sharing/rest/portals/self`` — the organisation an anonymous visitor of its URL sees."""
    return Reply(
        payload={
            "id": org_id(view.spec),
            "name": view.habits.title,
            "urlKey": view.habits.hub_org.lower(),
            "isPortal": False,
            "portalName": "ArcGIS Online",
            "portalMode": "multitenant",
            "portalHostname": view.spec.host,
            "customBaseUrl": "maps.arcgis.com",
            "currentVersion": "2025.2",
            "access": "public",
            "allSSL": True,
            "supportsOAuth": True,
            "created": epoch_ms(min((d.created_at for d in view.datasets), default=view.now)),
            "helperServices": {},
        },
        document="arcgis_online.self",
    )


@route(r"/sharing/rest/?")
def rest_root(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply:
    """``GET /sharing/rest`` — the API version."""
    return Reply(payload={"currentVersion": "2025.2"}, document="arcgis_online.root")


@route(r"/sharing/rest/info/?")
def info(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply:
    """``GET /sharing/rest/info`` — how to sign in (clients read it before anything else)."""
    return Reply(
        payload={
            "owningSystemUrl": f"https://{view.spec.host}",
            "authInfo": {
                "tokenServicesUrl": f"https://{view.spec.host}/sharing/rest/generateToken",
                "isTokenBasedSecurity": True,
            },
        },
        document="arcgis_online.info",
    )


def _missing(ident: str) -> Reply:
    return _error(400, f"Item does not exist or is inaccessible: {ident}")


@route(r"/sharing/rest/content/items/(?P<id>[0-9a-f]{32})/?")
def item(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply:
    """``GET …/content/items/<id>`` — the item, as the search lists it."""
    ds = find_item(view, match["id"])
    return (
        Reply(payload=portal_item(req.link, view, ds), document="arcgis_online.item") if ds else _missing(match["id"])
    )


@route(r"/sharing/rest/content/items/(?P<id>[0-9a-f]{32})/data/?")
def data(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply:
    """``GET …/content/items/<id>/data`` — a file item's file (a few made-up rows)."""
    ds = find_item(view, match["id"])
    if ds is None:
        return _missing(match["id"])
    ext = {"CSV": "csv", "Microsoft Excel": "zip"}.get(item_type(ds), "json")
    return file_reply(ds, ext)


@route(r"/home/item\.html")
def item_page(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply | None:
    """``/home/item.html?id=<id>`` — the item's page."""
    ds = find_item(view, req.arg("id") or "")
    return landing_page(req, view, ds.remote_id) if ds else None


def drift(reply: Reply) -> Reply:
    """The search's ``results`` renamed ``items`` (as a proxy or a new API version might)."""
    body = reply.payload
    if reply.document == "arcgis_online.search" and isinstance(body, dict) and "results" in body:
        body["items"] = body.pop("results")
    return reply


SHAPES = register(Shapes("arcgis_online", (search, portal_self, rest_root, info, item, data, item_page), drift))
