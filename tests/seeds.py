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
