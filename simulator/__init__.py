"""The portal simulator: police open-data portals (Socrata, CKAN, ArcGIS Hub and Server, OpenDataSoft) on loopback HTTP.

Used by ``pdi up --demo`` and by the tests. See :class:`PortalSimulator`.
"""

from simulator.dataset import FREQUENCIES, SimColumn, SimDataset
from simulator.faults import Fault
from simulator.requestlog import RequestRecord
from simulator.server import PortalSimulator, serve_forever

__all__ = [
    "FREQUENCIES",
    "Fault",
    "PortalSimulator",
    "RequestRecord",
    "SimColumn",
    "SimDataset",
    "serve_forever",
]
