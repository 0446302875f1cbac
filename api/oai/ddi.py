"""``oai_ddi25``: a catalog record as a DDI Codebook 2.5 ``codeBook``, the format ICPSR's own OAI-PMH
feed disseminates, so an ICPSR-style inventory reads our datasets as it reads studies.

| DDI Codebook 2.5 | from the catalog record |
| --- | --- |
| stdyDscr/citation/titlStmt/titl, IDNo | title; dataset id (agency PDI Catalog) and DCAT identifier |
| stdyDscr/citation/rspStmt/AuthEnty | publisher |
| stdyDscr/citation/distStmt | contact point; issued as distDate |
| stdyDscr/citation/verStmt/version | modified, as the version date |
| stdyDscr/citation/holdings | landing page |
| stdyDscr/stdyInfo/subject | keywords; PDI categories as topcClas |
| stdyDscr/stdyInfo/abstract | description as plain text |
| stdyDscr/stdyInfo/sumDscr | temporal as timePrd start/end; United States; jurisdictions and spatial as geogCover |
| stdyDscr/dataAccs/useStmt/conditions | license, rights |
| fileDscr/fileTxt | one file (ID ``F-<dataset id>``): name, record count (caseQnty), column count (varQnty), format |
| dataDscr/var | one per column: name, label, description, varFormat type (numeric/character, date) |
"""

from __future__ import annotations

from lxml import etree

from api.oai.formats import MappingContext, MetadataFormat, category_label
from api.oai.protocol import XSI_NS
from api.oai.text import plain_xml_text, xml_text
from catalog.record import CatalogRecord, Column

DDI_NS = "ddi:codebook:2_5"
DDI_SCHEMA = "http://www.ddialliance.org/Specification/DDI-Codebook/2.5/XMLSchema/codebook.xsd"
AGENCY = "PDI Catalog"
CATEGORY_VOCABULARY = "PDI Catalog categories"

# Portal column types (Socrata, CKAN datastore, ArcGIS, OpenDataSoft) by what they hold.
_NUMERIC = ("number", "int", "double", "float", "numeric", "decimal", "money", "percent", "real", "long", "oid")
_DATE = ("date", "time")


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{DDI_NS}}}{tag}")
    if text is not None:
        element.text = xml_text(text)
    for key, value in attrs.items():
        element.set(key, xml_text(value))
    return element


def column_format(column: Column) -> dict[str, str]:
    """varFormat attributes of a column: DDI's numeric/character type, a date category, the portal's
    own type name."""
    kind = (column.type or "").lower()
    attrs = {"type": "numeric" if any(k in kind for k in _NUMERIC) and "date" not in kind else "character"}
    if any(k in kind for k in _DATE):
        attrs["category"] = "date"
    if column.type:
        attrs["formatname"] = column.type
        attrs["schema"] = "other"
    return attrs


def _temporal(value: str | None) -> list[tuple[str, str]]:
    """DCAT-US temporal ``start/end`` as timePrd (event, date) pairs."""
    if not value:
        return []
    parts = [p.strip() for p in value.split("/")]
    if len(parts) == 2 and all(parts) and not parts[0].startswith("R"):
        return [("start", parts[0]), ("end", parts[1])]
    return [("single", value.strip())]


def _citation(stdy: etree._Element, record: CatalogRecord) -> None:
    citation = _el(stdy, "citation")
    titl = _el(citation, "titlStmt")
    _el(titl, "titl", record.title)
    _el(titl, "IDNo", record.id, agency=AGENCY)
    if record.identifier and record.identifier != record.id:
        _el(titl, "IDNo", record.identifier, agency=record.publisher.name)
    rsp = _el(citation, "rspStmt")
    _el(rsp, "AuthEnty", record.publisher.name)
    dist = _el(citation, "distStmt")
    portal = record.pdi.source.portal_url
    _el(dist, "distrbtr", record.publisher.name, **({"URI": portal} if portal else {}))
    contact = record.contactPoint
    email = (contact.hasEmail or "").removeprefix("mailto:")
    _el(dist, "contact", contact.fn, **({"email": email} if email else {}))
    if record.issued:
        _el(dist, "distDate", record.issued, date=record.issued)
    if record.modified:
        ver = _el(citation, "verStmt")
        _el(ver, "version", date=record.modified)
    if record.landingPage:
        _el(citation, "holdings", record.landingPage, URI=record.landingPage)


def _study_info(stdy: etree._Element, record: CatalogRecord, ctx: MappingContext) -> None:
    info = _el(stdy, "stdyInfo")
    subject = _el(info, "subject")
    for word in dict.fromkeys(record.keyword):
        _el(subject, "keyword", word)
    for category in record.pdi.category_ids:
        _el(subject, "topcClas", category_label(category), vocab=CATEGORY_VOCABULARY)
    _el(info, "abstract", plain_xml_text(record.description))
    summary = _el(info, "sumDscr")
    for event, date in _temporal(record.temporal):
        _el(summary, "timePrd", date, event=event, date=date)
    _el(summary, "nation", "United States", abbr="US")
    for place in dict.fromkeys([*ctx.jurisdiction_labels(record), *([record.spatial] if record.spatial else [])]):
        _el(summary, "geogCover", place)


def build(record: CatalogRecord, ctx: MappingContext) -> etree._Element:
    root = etree.Element(f"{{{DDI_NS}}}codeBook", nsmap={None: DDI_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{DDI_NS} {DDI_SCHEMA}")
    root.set("version", "2.5")
    stdy = _el(root, "stdyDscr")
    _citation(stdy, record)
    _study_info(stdy, record, ctx)
    terms = [t for t in (record.license, record.rights) if t]
    if terms:
        use = _el(_el(stdy, "dataAccs"), "useStmt")
        _el(use, "conditions", " ".join(terms))
    columns = record.pdi.columns
    # IDs are unique across a whole ListRecords response, hence the record id in them.
    file_id = f"F-{record.id}"
    if columns or record.pdi.record_count is not None:
        file_dscr = _el(root, "fileDscr", ID=file_id)
        download = next((d.downloadURL for d in record.distribution if d.downloadURL), None)
        if download:
            file_dscr.set("URI", xml_text(download))
        txt = _el(file_dscr, "fileTxt")
        _el(txt, "fileName", record.title)
        dims = _el(txt, "dimensns")
        if record.pdi.record_count is not None:
            _el(dims, "caseQnty", str(record.pdi.record_count))
        _el(dims, "varQnty", str(len(columns)))
        kind = next((d.format or d.mediaType for d in record.distribution if d.format or d.mediaType), None)
        if kind:
            _el(txt, "fileType", kind)
    if columns:
        data = _el(root, "dataDscr")
        for i, column in enumerate(columns, start=1):
            var = _el(data, "var", ID=f"V-{record.id}-{i}", name=column.field_name or column.name, files=file_id)
            _el(var, "labl", column.name)
            if column.description:
                _el(var, "txt", plain_xml_text(column.description))
            _el(var, "varFormat", **column_format(column))
    return root


FORMAT = MetadataFormat(prefix="oai_ddi25", schema=DDI_SCHEMA, namespace=DDI_NS, build=build)
