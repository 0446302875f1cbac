"""Landing pages: the tiny HTML page every dataset link in a response points at.

Everything shown is HTML-escaped, titles and descriptions included: portals carry hostile text.
"""

from __future__ import annotations

import html
import re

from simulator.platforms import route
from simulator.wire import Reply, SimRequest
from simulator.world import PortalView

HTML_TYPE = "text/html; charset=utf-8"


def landing_page(req: SimRequest, view: PortalView, key: str) -> Reply | None:
    ds = view.find(key)
    if ds is None:
        return None
    esc = html.escape
    body = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(ds.title)} | {esc(view.habits.title)} Open Data</title></head>\n<body>"
        f'<h1>{esc(ds.title)}</h1>\n<p class="publisher">{esc(ds.publisher)}</p>\n'
        f'<div class="description">{esc(ds.description)}</div>\n'
        f'<p class="updated">Data last updated {esc(ds.data_updated_at.date().isoformat())}</p>\n'
        f'<p class="note">A page of the PDI Catalog portal simulator standing in for '
        f"{esc(view.spec.host)}.</p>\n</body></html>\n"
    )
    return Reply(body=body.encode("utf-8"), content_type=HTML_TYPE, document="page")


@route(r"/d/(?P<key>[^/]+)/?")
def socrata_permalink(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply | None:
    return landing_page(req, view, match["key"])


@route(r"/[^/]+/[^/]+/(?P<key>[a-z0-9]{4}-[a-z0-9]{4})/?")
def socrata_link(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply | None:
    return landing_page(req, view, match["key"])


@route(r"/dataset/(?P<key>[^/]+)/?")
def ckan_dataset(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply | None:
    return landing_page(req, view, match["key"])


@route(r"/(?:datasets|maps)/(?:[^/:]+::)?(?P<key>[^/]+?)(?:/about)?/?")
def hub_dataset(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply | None:
    return landing_page(req, view, match["key"])


ROUTES = (socrata_permalink, socrata_link, ckan_dataset, hub_dataset)
