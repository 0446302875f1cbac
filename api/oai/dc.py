"""``oai_dc``: a catalog record as unqualified Dublin Core, the format every OAI-PMH harvester reads.

| Dublin Core | from the catalog record |
| --- | --- |
| title | title |
| creator | publisher |
| subject | keywords, then the PDI category labels |
| description | description as plain text |
| publisher | publisher |
| date | modified (else issued) |
| type | ``Dataset`` (DCMI Type) |
| format | the distributions' formats or media types |
| identifier | landing page (else the DCAT identifier) |
| source | the portal the dataset was harvested from |
| language | language |
| relation | the distributions' download or access URLs |
| coverage | spatial, the jurisdictions' names, temporal |
| rights | license, rights |
"""

from __future__ import annotations

from lxml import etree

from api.oai.formats import MappingContext, MetadataFormat, category_label
from api.oai.protocol import XSI_NS
from api.oai.text import plain_xml_text, xml_text
from catalog.record import CatalogRecord

OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
DC_NS = "http://purl.org/dc/elements/1.1/"


def _unique(values: list[str | None]) -> list[str]:
    out: list[str] = []
    for value in values:
        text = (value or "").strip()
        if text and text not in out:
            out.append(text)
    return out


def dublin_core(record: CatalogRecord, ctx: MappingContext) -> dict[str, list[str]]:
    """The Dublin Core elements of a record, in the order they are written (pure; for tests too)."""
    dist = record.distribution
    return {
        "title": _unique([record.title]),
        "creator": _unique([record.publisher.name]),
        "subject": _unique([*record.keyword, *(category_label(c) for c in record.pdi.category_ids)]),
        "description": _unique([plain_xml_text(record.description)]),
        "publisher": _unique([record.publisher.name]),
        "date": _unique([record.modified or record.issued]),
        "type": ["Dataset"],
        "format": _unique([d.format or d.mediaType for d in dist]),
        "identifier": _unique([record.landingPage or record.identifier]),
        "source": _unique([record.pdi.source.portal_url]),
        "language": _unique(list(record.language)),
        "relation": _unique([d.downloadURL or d.accessURL for d in dist]),
        "coverage": _unique([record.spatial, *ctx.jurisdiction_labels(record), record.temporal]),
        "rights": _unique([record.license, record.rights]),
    }


def build(record: CatalogRecord, ctx: MappingContext) -> etree._Element:
    root = etree.Element(f"{{{OAI_DC_NS}}}dc", nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_DC_NS} {OAI_DC_SCHEMA}")
    for name, values in dublin_core(record, ctx).items():
        for value in values:
            etree.SubElement(root, f"{{{DC_NS}}}{name}").text = xml_text(value)
    return root


FORMAT = MetadataFormat(prefix="oai_dc", schema=OAI_DC_SCHEMA, namespace=OAI_DC_NS, build=build)
