"""Seeds for tests that need a source the bundled seed does not list."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from catalog_seed import Seed, default_seed_dir, load_seed

#: the OpenDataSoft portal test seeds add (Burlington ran one before it moved to ArcGIS Hub)
ODS_HOST = "burlingtonvt.opendatasoft.com"


def seed_with_opendatasoft(directory: Path) -> Seed:
    """The bundled seed copied to ``directory``, with an OpenDataSoft portal added to Burlington."""
    target = directory / "jurisdictions"
    shutil.copytree(default_seed_dir(), target)
    path = target / "burlington-vt.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    url = f"https://{ODS_HOST}"
    data["portals"].append(
        {"platform": "opendatasoft", "url": url, "sources": [{"platform": "opendatasoft", "url": url}]}
    )
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_seed(target)


#: the ArcGIS Online organisation test seeds add for Burlington: the organisation id of the
#: services1.arcgis.com/1bO0c7PxQdsGidPK layers the reference table lists for its Hub site
AGOL_HOST = "www.arcgis.com"
AGOL_ORG = "1bO0c7PxQdsGidPK"
AGOL_SOURCE = f"https://{AGOL_HOST}/sharing/rest/search?q=orgid:{AGOL_ORG}"
#: the Hub site test seeds read through the Hub Search API instead of its DCAT-US feed
HUB_HOST = "data.baltimorecity.gov"


def seed_with_arcgis(directory: Path) -> Seed:
    """The bundled seed copied to ``directory``, with Burlington's ArcGIS Online organisation added
    (``arcgis_online``) and Baltimore's Hub site read through the Hub Search API
    (``arcgis_hub_search``) rather than its feed."""
    target = directory / "jurisdictions"
    shutil.copytree(default_seed_dir(), target)
    path = target / "burlington-vt.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["portals"].append(
        {
            "platform": "arcgis_online",
            "url": f"https://{AGOL_HOST}",
            "sources": [{"platform": "arcgis_online", "url": AGOL_SOURCE}],
        }
    )
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    path = target / "baltimore-md.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    (hub,) = [p for p in data["portals"] if p["url"] == f"https://{HUB_HOST}"]
    hub["sources"] = [{"platform": "arcgis_hub_search", "url": f"https://{HUB_HOST}"}]
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_seed(target)


#: the Socrata portal whose ``data.json`` test seeds add as a second source
SOCRATA_HOST = "data.seattle.gov"


def seed_with_socrata_data_json(directory: Path, *, data_json_first: bool = False) -> Seed:
    """The bundled seed copied to ``directory``, with Seattle's Socrata portal listing its
    ``data.json`` as a second source (or the first): every dataset of it is seen through two sources."""
    target = directory / "jurisdictions"
    shutil.copytree(default_seed_dir(), target)
    path = target / "seattle-wa.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    portal = next(p for p in data["portals"] if p["url"] == f"https://{SOCRATA_HOST}")
    feed = {"platform": "dcat_us", "url": f"https://{SOCRATA_HOST}/data.json"}
    portal["sources"].insert(0 if data_json_first else len(portal["sources"]), feed)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_seed(target)
