"""Validating OAI-PMH responses against the official schemas, offline.

``../shared/reference/schemas/oai-pmh/`` holds OAI-PMH.xsd, oai_dc.xsd and the simple Dublin Core
schema oai_dc.xsd imports; the XML namespace schema that one imports comes with xmlschema. Imports
are mapped to those local files and nothing else may be read (``allow="local"``), so validation
never reaches the network.

- :func:`validate` checks a whole response with the envelope *and* oai_dc payloads strict, as the
  official OAI-PMH.xsd says (``processContents="strict"`` for metadata and descriptions).
- :func:`validate_lax_payload` is for ``oai_ddi25`` responses: no DDI Codebook 2.5 schema is in the
  reference folder, so the envelope is validated with the payload wildcards made ``lax`` — the DDI
  elements, whose schema is not loaded, are skipped; everything else is checked as strictly.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import xmlschema

from tests.conftest import reference_dir

DC_IMPORT = "http://dublincore.org/schemas/xmls/simpledc20021212.xsd"
XML_IMPORTS = ("http://www.w3.org/2001/03/xml.xsd", "http://www.w3.org/2001/xml.xsd")
XML_XSD = Path(xmlschema.__file__).parent / "schemas" / "XML" / "xml.xsd"


def schema_dir() -> Path:
    return reference_dir() / "schemas" / "oai-pmh"


def _local(uri: str) -> str:
    if uri == DC_IMPORT:
        return str(schema_dir() / "simpledc20021212.xsd")
    if uri in XML_IMPORTS:
        return str(XML_XSD)
    return uri


@cache
def _strict() -> xmlschema.XMLSchema:
    d = schema_dir()
    return xmlschema.XMLSchema([d / "OAI-PMH.xsd", d / "oai_dc.xsd"], uri_mapper=_local, allow="local")


@cache
def _lax() -> xmlschema.XMLSchema:
    d = schema_dir()
    text = (d / "OAI-PMH.xsd").read_text(encoding="utf-8")
    assert text.count('processContents="strict"') == 3  # metadata, about, description
    lax = text.replace('processContents="strict"', 'processContents="lax"')
    envelope = xmlschema.XMLSchema(lax, base_url=str(d), uri_mapper=_local, allow="local", build=False)
    envelope.import_schema("http://www.openarchives.org/OAI/2.0/oai_dc/", str(d / "oai_dc.xsd"))
    envelope.build()
    return envelope


def validate(document: bytes) -> None:
    """Raise xmlschema's error naming the path if the response is not valid OAI-PMH (oai_dc strict)."""
    _strict().validate(document)


def validate_lax_payload(document: bytes) -> None:
    _lax().validate(document)
