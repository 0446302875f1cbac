"""schema.org Dataset JSON-LD from catalog records (catalog/jsonld.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from catalog.jsonld import http_url, script_json, to_schema_org
from catalog.record import CatalogRecord, Distribution
from tests.factories import make_record

GOLDEN = Path(__file__).parent / "golden" / "socrata" / "seattle_spd_911_incident_response_views_3k2p-39jp.jsonl"


@pytest.fixture
def seattle_911() -> CatalogRecord:
    """The real Seattle 911 incident response dataset as our Socrata mapping records it."""
    return CatalogRecord.from_dcat(json.loads(GOLDEN.read_text().splitlines()[0]))


def test_a_mapped_socrata_record_becomes_a_schema_org_dataset(seattle_911):
    data = to_schema_org(seattle_911, url="https://pdi.example/datasets/x", places=["Seattle, WA"])
    assert data["@context"] == "https://schema.org/" and data["@type"] == "Dataset"
    assert data["name"] == "Seattle Police Department 911 Incident Response"
    assert data["description"].startswith("This dataset is all the Police responses to 9-1-1 calls")
    assert data["url"] == "https://pdi.example/datasets/x"
    assert data["identifier"] == ["3k2p-39jp", seattle_911.pdi.id]
    assert {"911", "police", "Public Safety"} <= set(data["keywords"])
    assert data["publisher"] == {
        "@type": "Organization",
        "name": "City of Seattle, Department of Information Technology, Seattle Police Department",
    }
    assert data["creator"]["contactPoint"] == {"@type": "ContactPoint", "name": "Department of Information Technology"}
    assert data["dateModified"] == "2015-06-03T16:56:08Z" and data["datePublished"] == "2010-10-08T16:53:37Z"
    assert data["spatialCoverage"] == [{"@type": "Place", "name": "Seattle, WA"}]
    assert data["distribution"][0] == {
        "@type": "DataDownload",
        "contentUrl": "https://portal.example.gov/api/views/3k2p-39jp/rows.csv?accessType=DOWNLOAD",
        "encodingFormat": "text/csv",
        "name": "CSV export",
    }
    assert len(data["variableMeasured"]) == 19
    assert data["variableMeasured"][1] == {
        "@type": "PropertyValue",
        "name": "CAD Event Number",
        "propertyID": "cad_event_number",
        "description": "CAD Event Number",
        "additionalType": "text",
    }
    assert data["isAccessibleForFree"] is True
    assert data["license"] == "http://creativecommons.org/publicdomain/zero/1.0/legalcode"
    assert data["includedInDataCatalog"]["name"] == "PDI Catalog"
    assert "temporalCoverage" not in data  # empty fields are left out, not null
    json.dumps(data)  # plain JSON data


def test_spatial_temporal_and_non_public_access():
    record = make_record("t1", "Traffic Stops").model_copy(
        update={
            "spatial": "-122.44,47.49,-122.23,47.73",
            "temporal": "2015-01-01/2020-12-31",
            "accessLevel": "restricted public",
        }
    )
    data = to_schema_org(record)
    assert data["spatialCoverage"] == [
        {"@type": "Place", "geo": {"@type": "GeoShape", "box": "47.49 -122.44 47.73 -122.23"}}
    ]
    assert data["temporalCoverage"] == "2015-01-01/2020-12-31"
    assert data["isAccessibleForFree"] is False
    named = to_schema_org(record.model_copy(update={"spatial": "King County, WA"}))
    assert named["spatialCoverage"] == [{"@type": "Place", "name": "King County, WA"}]


def test_only_http_links_are_kept():
    record = make_record("j1", "Arrests").model_copy(
        update={
            "landingPage": "javascript:alert(1)",
            "distribution": [
                Distribution(downloadURL="javascript:alert(1)", format="CSV"),
                Distribution(accessURL="data:text/html,<script>alert(1)</script>", format="HTML"),
                Distribution(
                    downloadURL="ftp://example.invalid/a.csv", accessURL="https://example.invalid/a", format="CSV"
                ),
            ],
        }
    )
    data = to_schema_org(record)
    assert "sameAs" not in data and "url" not in data
    assert data["distribution"] == [
        {"@type": "DataDownload", "contentUrl": "https://example.invalid/a", "encodingFormat": "CSV"}
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://data.seattle.gov/d/x", "https://data.seattle.gov/d/x"),
        ("  HTTP://example.org/  ", "HTTP://example.org/"),
        ("javascript:alert(1)", None),
        ("JavaScript:alert(1)", None),
        (" javascript:alert(1)", None),
        ("data:text/html,x", None),
        ("//evil.example/x", None),
        ("/relative", None),
        ("http://", None),
        ("http://[bad", None),
        ("", None),
        (None, None),
    ],
)
def test_http_url(value, expected):
    assert http_url(value) == expected


def test_script_json_cannot_end_the_script_element_and_is_still_the_same_json():
    data = {"name": "</script><script>alert(1)</script> & <!-- x -->", "d": "a\u2028b"}
    text = script_json(data)
    assert "<" not in text and ">" not in text and "&" not in text
    assert not re.search(r"</script", text, re.IGNORECASE)
    assert json.loads(text) == data
