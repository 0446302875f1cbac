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
