"""The shapes every portal serves whatever its platform: data.json, pages, downloads."""

from __future__ import annotations

from simulator.platforms import Shapes, register
from simulator.platforms.datajson import data_json
from simulator.platforms.downloads import ROUTES as DOWNLOADS
from simulator.platforms.hub import drift as hub_drift
from simulator.platforms.pages import ROUTES as PAGES
from simulator.wire import Reply


def drift(reply: Reply) -> Reply:
    """``data.json`` loses its ``dataset`` key as a Hub feed would; other documents are left alone."""
    return hub_drift(reply)


SHAPES = register(Shapes("common", (data_json, *DOWNLOADS, *PAGES), drift))
