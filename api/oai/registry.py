"""The metadata formats this repository disseminates, by prefix."""

from __future__ import annotations

from collections.abc import Mapping

from api.oai import dc, ddi
from api.oai.formats import MetadataFormat, registry

FORMATS: Mapping[str, MetadataFormat] = registry([dc.FORMAT, ddi.FORMAT])
