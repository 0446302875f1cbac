"""``/data.json``: the DCAT-US 1.1 catalog Socrata and CKAN sites publish of their datasets.

Unlike the Hub feed, this one is valid against the DCAT-US 1.1 non-federal schema (Socrata and
ckanext-datajson fill required fields); Hub hosts serve their quirky feed here too. A seed that lists
both a Socrata portal's catalog API and its ``/data.json`` gets the same datasets through both (a
dataset marked ``hide_from_data_json`` only through the API), as a real Socrata site serves them.
"""

from __future__ import annotations

import re
from typing import Any

from simulator.dataset import FREQUENCIES, SimDataset
from simulator.dates import day, iso_z
from simulator.platforms import route
from simulator.platforms.ckan import resources
from simulator.platforms.hub import CATALOG_HEAD, hub_catalog
from simulator.render import LICENSES
from simulator.wire import Reply, SimRequest
from simulator.world import PortalView

_SOCRATA_FILES = (("csv", "text/csv"), ("json", "application/json"))


def _distributions(req: SimRequest, view: PortalView, ds: SimDataset) -> list[dict[str, Any]]:
    if view.spec.platform == "socrata":
        if ds.asset_type in ("href", "file"):
            return [{"@type": "dcat:Distribution", "accessURL": req.link(f"/d/{ds.remote_id}")}]
        return [
            {
                "@type": "dcat:Distribution",
                "downloadURL": req.link(f"/api/views/{ds.remote_id}/rows.{ext}?accessType=DOWNLOAD"),
                "mediaType": media,
            }
            for ext, media in _SOCRATA_FILES
        ]
    return [
        {"@type": "dcat:Distribution", "downloadURL": r["url"], "mediaType": r["mimetype"], "title": r["name"]}
        for r in resources(req, ds)  # the same files package_show lists
    ]


def datajson_dataset(req: SimRequest, view: PortalView, ds: SimDataset) -> dict[str, Any]:
    """One dataset of a Socrata or CKAN ``data.json``."""
    socrata = view.spec.platform == "socrata"
    out: dict[str, Any] = {
        "@type": "dcat:Dataset",
        "identifier": f"https://{ds.host}/api/views/{ds.remote_id}" if socrata else ds.identifier,
        "title": ds.title,
        "description": ds.description or ds.title,
        "keyword": list(ds.tags) or [ds.domain_category.lower()],
        "issued": day(ds.created_at),
        "modified": iso_z(ds.updated_at),
        "publisher": {"@type": "org:Organization", "name": ds.publisher},
        "contactPoint": {
            "@type": "vcard:Contact",
            "fn": ds.publisher,
            "hasEmail": f"mailto:opendata@{view.habits.email_domain}",
        },
        "accessLevel": "public",
        "landingPage": req.link(f"/d/{ds.remote_id}" if socrata else f"/dataset/{ds.slug}"),
        "theme": [ds.domain_category],
        "distribution": _distributions(req, view, ds),
    }
    if ds.license:
        out["license"] = LICENSES[ds.license][1]
    if ds.frequency:
        out["accrualPeriodicity"] = FREQUENCIES[ds.frequency].iso
    if ds.year is not None:
        out["temporal"] = f"{ds.year}-01-01/{ds.year}-12-31"
    return out


@route(r"/data\.json")
def data_json(req: SimRequest, view: PortalView, match: re.Match[str]) -> Reply:
    """``GET /data.json``."""
    if view.spec.platform == "dcat_us":
        return hub_catalog(req, view)
    body: dict[str, Any] = {"@context": CATALOG_HEAD["@context"], "@id": req.link("/data.json")}
    body.update({k: v for k, v in CATALOG_HEAD.items() if k != "@context"})
    body["dataset"] = [
        datajson_dataset(req, view, ds)
        for ds in view.datasets
        if ds.asset_type not in ("chart", "story") and not ds.hide_from_data_json
    ]
    return Reply(payload=body, document="dcat.catalog")
