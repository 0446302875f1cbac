"""Where a dataset lives in a simulated ArcGIS Server directory: folder, service, type, layer.

A dataset's remote id on an ``arcgis_server`` portal is its layer URL path,
``<rest root>/<folder>/<Service>/<FeatureServer|MapServer>/<n>``, chosen here as the catalog is
generated (from the portal's random stream, so deterministic from the seed number). The platform
shapes in ``simulator/platforms/arcgis_server.py`` read the directory back from those paths.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

#: folders police layers are published in ("{agency}" is the agency's abbreviation, e.g. CMPD)
POLICE_FOLDERS = (("{agency}", 5), ("PublicSafety", 3), ("ODP", 2))
#: folders of everything else; "" is the directory root
CITY_FOLDERS = (("ODP", 3), ("Planning", 2), ("PublicWorks", 2), ("Parks", 1), ("", 2))
#: share of services published as FeatureServer (the rest are MapServer)
FEATURE_SERVER_SHARE = 0.6
#: share of datasets published as one more layer of their folder's shared open-data map service
#: (``PublicMaps/OpenData_PublicSafety/MapServer/34``, as real city servers do)
SHARED_SHARE = 0.25
SHARED_PREFIX = "OpenData_"
DATA_TYPES = ("FeatureServer", "MapServer")


@dataclass(frozen=True)
class LayerPath:
    """A layer path split into its parts: ``root``/``service`` (folder included)/``kind``/``layer``."""

    root: str
    service: str  # root-relative, "CMPD/Use_of_Force" or "Parks_Inventory"
    kind: str  # FeatureServer or MapServer
    layer: int

    @property
    def folder(self) -> str:
        return self.service.rpartition("/")[0]

    @property
    def path(self) -> str:
        return f"{self.root}/{self.service}/{self.kind}/{self.layer}"


def parse_layer_path(path: str, root: str) -> LayerPath | None:
    """The parts of ``<root>/<service>/<kind>/<n>``, or None when ``path`` is not one."""
    root = root.rstrip("/")
    if not path.startswith(root + "/"):
        return None
    service, _, rest = path[len(root) + 1 :].rpartition("/")
    service, _, kind = service.rpartition("/")
    if not service or kind not in DATA_TYPES or not rest.isdigit():
        return None
    return LayerPath(root, service, kind, int(rest))


def service_name(title: str) -> str:
    """``CMPD Officer Traffic Stops (2019)`` -> ``CMPD_Officer_Traffic_Stops_2019``."""
    return re.sub(r"[^0-9A-Za-z]+", "_", title).strip("_")[:60].strip("_") or "Layer"


class ServiceLayout:
    """Assigns layer paths within one portal: a new service per dataset, the next layer of the
    service its group already has (the incident / subject / officer tables of one collection), or
    the next layer of its folder's shared open-data map service."""

    def __init__(self, rng: random.Random, root: str, agency: str, taken: set[str] | None = None) -> None:
        self.rng = rng
        self.root = root.rstrip("/") or "/arcgis/rest/services"
        self.agency = agency or "Police"
        self._services: set[str] = set()
        self._next_layer: dict[str, int] = {}
        self._groups: dict[str, tuple[str, str]] = {}
        for path in taken or ():
            parsed = parse_layer_path(path, self.root)
            if parsed is not None:
                self._services.add(parsed.service.lower())
                key = f"{parsed.service}/{parsed.kind}"
                self._next_layer[key] = max(self._next_layer.get(key, 0), parsed.layer + 1)

    def new(self, title: str, police: bool, group: str | None = None) -> str:
        """The layer path of a new dataset titled ``title``."""
        if group is not None and group in self._groups:
            service, kind = self._groups[group]
        elif group is None and self.rng.random() < SHARED_SHARE:
            choices = POLICE_FOLDERS if police else CITY_FOLDERS
            folder = self.rng.choices([f for f, _ in choices], [w for _, w in choices])[0].format(agency=self.agency)
            service, kind = f"{folder}/{SHARED_PREFIX}{folder or 'City'}".lstrip("/"), "MapServer"
            self._services.add(service.lower())
        else:
            choices = POLICE_FOLDERS if police else CITY_FOLDERS
            folder = self.rng.choices([f for f, _ in choices], [w for _, w in choices])[0].format(agency=self.agency)
            kind = "FeatureServer" if self.rng.random() < FEATURE_SERVER_SHARE else "MapServer"
            base = service_name(group or title)
            service, n = f"{folder}/{base}".lstrip("/"), 1
            while service.lower() in self._services:
                n += 1
                service = f"{folder}/{base}_{n}".lstrip("/")
            self._services.add(service.lower())
            if group is not None:
                self._groups[group] = (service, kind)
        key = f"{service}/{kind}"
        layer = self._next_layer.get(key, 0)
        self._next_layer[key] = layer + 1
        return LayerPath(self.root, service, kind, layer).path
