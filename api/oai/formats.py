"""The metadata formats records are disseminated in, collected in one registry.

A format is a prefix, its schema and namespace, and a pure function from a catalog record to the
XML element that goes inside ``<metadata>``. Adding a format is one module declaring a
:class:`MetadataFormat` and one line in ``api/oai/registry.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from lxml import etree

from catalog.record import CatalogRecord
from catalog.vocabulary import Category
from index.documents import JurisdictionInfo


@dataclass(frozen=True)
class MappingContext:
    """What a mapper may know beyond the record: the seed's jurisdictions, for their names."""

    jurisdictions: Mapping[str, JurisdictionInfo]

    def jurisdiction_label(self, jurisdiction_id: str) -> str:
        info = self.jurisdictions.get(jurisdiction_id)
        return f"{info.name}, {info.state}" if info is not None else jurisdiction_id

    def jurisdiction_labels(self, record: CatalogRecord) -> list[str]:
        return [self.jurisdiction_label(j) for j in record.pdi.jurisdictions]


def category_label(category: Category | str) -> str:
    """``use_of_force`` → ``Use of force``."""
    return str(category).replace("_", " ").capitalize()


Mapper = Callable[[CatalogRecord, MappingContext], etree._Element]


@dataclass(frozen=True)
class MetadataFormat:
    prefix: str
    schema: str
    namespace: str
    build: Mapper


def registry(formats: Iterable[MetadataFormat]) -> dict[str, MetadataFormat]:
    out: dict[str, MetadataFormat] = {}
    for fmt in formats:
        if fmt.prefix in out:
            raise ValueError(f"metadata format {fmt.prefix!r} is declared twice")
        out[fmt.prefix] = fmt
    return out
