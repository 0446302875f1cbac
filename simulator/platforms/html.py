"""Department web pages: an HTML page of links to police releases and other city documents.

Each ``html`` portal serves its seeded page (the source URL's path) with a heading, paragraphs and
lists of links, the way a police department's "Open Data" page does: link texts such as
"Use of Force Report 2019 (PDF, 2.1 MB)", "Calls for Service - Updated 03/2024 (CSV)" or a bare
"Download" beside the title; dates beside some links. A third of the files sit on one sub-page
("Earlier releases", one link deep). ``robots.txt`` disallows a staff-only folder the page links
to; the file linked from there is not a dataset and must not be found. Every dataset of the portal
(``sim.datasets(host)``, police or not) is one link, its remote id the link's real URL.

Everything shown is HTML-escaped: titles carry hostile text.
"""

from __future__ import annotations

import html
import re

from simulator.dataset import SimDataset
from simulator.platforms import Shapes, register, route
from simulator.render import stable_int
from simulator.wire import Reply, SimRequest
from simulator.world import PortalView

HTML_TYPE = "text/html; charset=utf-8"
SUB_PAGE = "earlier-releases/"
STAFF_ONLY = "staff-only/"
#: the file on the robots-disallowed page; a crawl that finds it did not obey robots.txt
HIDDEN_FILE = "duty-roster.xlsx"
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")  # fmt: skip


def folder(view: PortalView) -> str:
    """The folder of the department page's path (``/open-data/``, ``/1177/``)."""
    path = view.spec.source_path
    return path[: path.rfind("/") + 1]


def on_sub_page(ds: SimDataset) -> bool:
    return stable_int(ds.remote_id, "html-page") % 3 == 0


def _path_of(url: str) -> str:
    return "/" + url.split("://", 1)[-1].split("/", 1)[-1]


def link_item(req: SimRequest, ds: SimDataset) -> str:
    """One ``<li>``: the link to the dataset's file, worded one of the ways real pages word it."""
    esc = html.escape
    href = esc(req.link(_path_of(ds.remote_id)), quote=True)
    ext = ds.remote_id.rsplit(".", 1)[-1]
    label = ext.upper()
    title = esc(ds.title)
    day = ds.data_updated_at
    bits = stable_int(ds.remote_id, "html-text")
    size = f"{(bits // 7) % 40 / 10 + 0.1:.1f} MB"
    style = bits % 6
    if style == 0:
        return f'<li><a href="{href}">{title} ({label}, {size})</a></li>'
    if style == 1:
        return f'<li><a href="{href}">{title} - Updated {day.month:02d}/{day.year} ({label})</a></li>'
    if style == 2:
        posted = f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"
        return f'<li><a href="{href}">Download {title}</a> <span class="date">Posted {posted}</span></li>'
    if style == 3:
        return f'<li><a href="{href}">{title}.{ext}</a></li>'
    if style == 4:
        return f'<li><a href="{href}">{title} [{label}]</a> (updated {day.date().isoformat()})</li>'
    return f'<li><strong>{title}</strong> &mdash; <a href="{href}">Download</a> ({label}, {size})</li>'


def _page(title: str, body: str) -> Reply:
    text = (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>\n'
        f'<body>\n<header><a href="#main">Skip to main content</a></header>\n<main id="main">\n{body}\n</main>\n'
        "<footer><p>A page of the PDI Catalog portal simulator.</p></footer>\n</body></html>\n"
    )
    return Reply(body=text.encode("utf-8"), content_type=HTML_TYPE, document="html.page")


def department_page(req: SimRequest, view: PortalView) -> Reply:
    esc = html.escape
    agency = esc(view.spec.jurisdictions[0].agency)
    here = [d for d in view.datasets if not on_sub_page(d)]
    police = "\n".join(link_item(req, d) for d in here if d.police)
    other = "\n".join(link_item(req, d) for d in here if not d.police)
    base = folder(view)
    body = (
        f"<h1>{agency}: Open Data</h1>\n"
        f"<p>As part of the Police Data Initiative, the {agency} publishes the reports and data files "
        f"below. {esc(view.habits.title)} updates them as new records are reviewed.</p>\n"
        f"<h2>Police data releases</h2>\n<ul>\n{police}\n</ul>\n"
        f"<h2>Other city documents</h2>\n<p>Agendas, budgets and other documents of "
        f"{esc(view.habits.title)}.</p>\n<ul>\n{other}\n</ul>\n"
        f'<p>Older files are listed on <a href="{esc(req.link(base + SUB_PAGE))}">Earlier releases</a>.</p>\n'
        f'<p>Department members: <a href="{esc(req.link(base + STAFF_ONLY))}">staff resources</a>.</p>\n'
        f'<p>Questions? <a href="mailto:records@{esc(view.habits.email_domain)}">Contact the records unit</a>.</p>'
    )
    return _page(f"Open Data | {agency}", body)


def sub_page(req: SimRequest, view: PortalView) -> Reply:
    esc = html.escape
    agency = esc(view.spec.jurisdictions[0].agency)
    items = "\n".join(link_item(req, d) for d in view.datasets if on_sub_page(d))
    body = (
        "<h1>Earlier releases</h1>\n<p>Files published before the current reporting period.</p>\n"
        f"<h2>Archive</h2>\n<ul>\n{items}\n</ul>\n"
        f'<p><a href="{esc(req.link(view.spec.source_path))}">Back to Open Data</a></p>'
    )
    return _page(f"Earlier releases | {agency}", body)


def staff_page(req: SimRequest, view: PortalView) -> Reply:
    href = html.escape(req.link(folder(view) + STAFF_ONLY + "files/" + HIDDEN_FILE))
    body = f'<h1>Staff resources</h1>\n<ul><li><a href="{href}">Duty roster (XLSX)</a></li></ul>'
    return _page("Staff resources", body)


@route(r"/robots\.txt")
def robots(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply | None:
    text = f"User-agent: *\nDisallow: {folder(view)}{STAFF_ONLY}\n"
    return Reply(body=text.encode("utf-8"), content_type="text/plain; charset=utf-8", document="html.robots")


@route(r"/.*")
def pages(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply | None:
    base = folder(view)
    if req.path == view.spec.source_path:
        return department_page(req, view)
    if req.path == base + SUB_PAGE:
        return sub_page(req, view)
    if req.path == base + STAFF_ONLY:
        return staff_page(req, view)
    return None


SHAPES = register(Shapes("html", (robots, pages), lambda reply: reply))
