"""The mapping-table machinery and the small converters of harvesters/convert.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import pytest

from catalog.dcat import SCHEMA_DIR, dataset_errors
from catalog.record import CatalogRecord
from harvesters import convert as c
from harvesters.base import RawRecord, SourceContext

# --------------------------------------------------------------------------------------------------
# paths and tables
# --------------------------------------------------------------------------------------------------

DOC = {
    "a": {"b": {"c": 1}},
    "tags": [{"name": "x"}, {"name": "y"}, {"other": 1}],
    "extras": [{"key": "frequency", "value": "Weekly"}, {"key": "modified", "value": "2020-01-02"}],
    "nested": [{"items": [1, 2]}, {"items": [3]}],
}
CONTEXT = {"remote_id": "abcd-1234", "base_url": "https://portal.example.gov"}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a.b.c", 1),
        ("a.b.missing", None),
        ("a.b.c.d", None),
        ("tags[].name", ["x", "y"]),
        ("extras[key=frequency].value", "Weekly"),
        ("extras[key=absent].value", None),
        ("nested[].items", [1, 2, 3]),
        ("context.remote_id", "abcd-1234"),
        ("context.unknown", None),
        ("missing[].name", None),
    ],
)
def test_resolve_paths(path: str, expected: Any) -> None:
    assert c.resolve(path, DOC, CONTEXT) == expected


def test_resolve_rejects_a_malformed_path() -> None:
    with pytest.raises(ValueError, match="bad source path"):
        c.resolve("a[b", DOC, CONTEXT)


def test_first_row_with_a_value_wins() -> None:
    table = c.MappingTable(
        platform="t",
        content="test",
        rules=(
            c.rule("title", "missing", c.text),
            c.rule("title", "extras[key=frequency].value", c.text),
            c.rule("title", "a.b.c", c.text),
            c.rule("keyword", ("tags[].name", "context.remote_id"), lambda tags, rid: [*tags, rid]),
        ),
    )
    assert table.apply(DOC, CONTEXT) == {"title": "Weekly", "keyword": ["x", "y", "abcd-1234"]}


def test_a_rule_must_name_a_known_target() -> None:
    with pytest.raises(ValueError, match="unknown target"):
        c.rule("titel", "title", c.text)


def test_every_target_is_a_field_of_the_catalog_record() -> None:
    for target in c.TARGETS:
        model: Any = CatalogRecord
        for part in target.split("."):
            assert part in model.model_fields, target
            annotation = model.model_fields[part].annotation
            model = annotation if isinstance(annotation, type) else None


# --------------------------------------------------------------------------------------------------
# building a record with defaults
# --------------------------------------------------------------------------------------------------

SOURCE = SourceContext(
    source_id="dcat_us:data.example.gov/data.json",
    platform="dcat_us",
    url="https://data.example.gov/data.json",
    jurisdictions=("example-city-xx", "example-county-xx"),
)
RAW = RawRecord("ds-1", "https://data.example.gov/data.json", datetime(2024, 1, 1, tzinfo=UTC), {})


def test_build_record_fills_every_required_field_from_nothing() -> None:
    record = c.build_record({}, platform="dcat_us", raw=RAW, source=SOURCE)
    assert record.title == "ds-1"
    assert record.description == c.NO_DESCRIPTION
    assert record.publisher.name == "data.example.gov"
    assert record.contactPoint.fn == "data.example.gov"
    assert record.contactPoint.hasEmail is None
    assert record.identifier == "ds-1"
    assert record.accessLevel == "public"
    assert record.pdi.jurisdiction == "example-city-xx"
    assert record.pdi.jurisdictions == ["example-city-xx", "example-county-xx"]
    assert record.pdi.categories == []
    assert record.pdi.source.remote_id == "ds-1"
    assert dataset_errors(record.to_dcat()) == []


def test_contact_defaults_to_the_publisher() -> None:
    record = c.build_record({"publisher.name": "Police Dept"}, platform="dcat_us", raw=RAW, source=SOURCE)
    assert record.contactPoint.fn == "Police Dept"


def test_record_id_is_stable() -> None:
    first = c.build_record({}, platform="dcat_us", raw=RAW, source=SOURCE)
    second = c.build_record({"title": "changed"}, platform="dcat_us", raw=RAW, source=SOURCE)
    assert first.pdi.id == second.pdi.id


# --------------------------------------------------------------------------------------------------
# text
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("  a b  ", "a b"), ("", None), ("   ", None), (3, "3"), (True, None), (None, None), ([1], None)],
)
def test_text(value: Any, expected: Any) -> None:
    assert c.text(value) == expected


def test_plain_text_from_hub_html() -> None:
    html = (
        "<p>While Southern California Edison makes every effort,&nbsp;the data</p>"
        "<p><br />&nbsp;</p><p>Note: ICA&nbsp;monthly refresh.</p><script>x()</script>"
    )
    assert (
        c.plain_text(html)
        == "While Southern California Edison makes every effort, the data\n\nNote: ICA monthly refresh."
    )


def test_plain_text_keeps_markdown_and_plain_text_as_is() -> None:
    markdown = "# Title\n\n* one\n* two"
    assert c.plain_text(markdown) == markdown
    assert c.plain_text("a < b and c > d") == "a < b and c > d"


def test_plain_text_of_markup_only_is_nothing() -> None:
    assert c.plain_text("<p>&nbsp;</p>") is None


def test_rights_text_respects_the_schema_limit() -> None:
    assert c.rights_text("Open to all") == "Open to all"
    assert c.rights_text("x" * 256) is None


def test_spatial() -> None:
    assert c.spatial("") is None
    assert c.spatial("-120.1,33.3,-114.0,38.2") == "-120.1,33.3,-114.0,38.2"
    assert c.spatial({"type": "Point", "coordinates": [1, 2]}) == '{"coordinates":[1,2],"type":"Point"}'


# --------------------------------------------------------------------------------------------------
# keyword lists
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["police", " crime ", "", "Police"], ["police", "crime"]),
        ("police, crime ,, use of force", ["police", "crime", "use of force"]),
        ("", None),
        ('["Finance"]', ["Finance"]),
        ("[not json", ["[not json"]),
        ("Public Safety", ["Public Safety"]),
        (None, None),
        ({"a": 1}, None),
        ([1, None, {"x": 1}], ["1"]),
    ],
)
def test_keywords(value: Any, expected: Any) -> None:
    assert c.keywords(value) == expected


def test_languages_keep_only_valid_tags() -> None:
    assert c.languages(["en-US", "not a language!", "es"]) == ["en-US", "es"]
    assert c.languages("en") == ["en"]
    assert c.languages(5) is None


# --------------------------------------------------------------------------------------------------
# dates
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1433350568, datetime(2015, 6, 3, 16, 56, 8, tzinfo=UTC)),
        ("1433350568", datetime(2015, 6, 3, 16, 56, 8, tzinfo=UTC)),
        (1433350568000, datetime(2015, 6, 3, 16, 56, 8, tzinfo=UTC)),
        ("2016-01-28T00:57:00.157000", datetime(2016, 1, 28, 0, 57, 0, 157000, tzinfo=UTC)),
        ("2025-06-16T13:30:03.000Z", datetime(2025, 6, 16, 13, 30, 3, tzinfo=UTC)),
        ("2013-08-28", datetime(2013, 8, 28, tzinfo=UTC)),
        ("2020-01-01T05:00:00-05:00", datetime(2020, 1, 1, 10, 0, tzinfo=UTC)),
        ("Wed, 28 Aug 2013 10:00:00 GMT", datetime(2013, 8, 28, 10, 0, tzinfo=UTC)),
        ("08/28/2013", datetime(2013, 8, 28, tzinfo=UTC)),
        ("R/P1W", None),
        ("yesterday", None),
        (True, None),
        (None, None),
        (10**30, None),
    ],
)
def test_parse_datetime(value: Any, expected: Any) -> None:
    assert c.parse_datetime(value) == expected


def test_iso_datetime_is_utc_with_z() -> None:
    assert c.iso_datetime(1433350568) == "2015-06-03T16:56:08Z"
    assert c.iso_datetime("2016-01-28T00:57:00.157000") == "2016-01-28T00:57:00Z"
    assert c.iso_datetime("garbage") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("R/P1W", "R/P1W"),
        ("2011-06-30", "2011-06-30"),
        ("2025-06-16T13:30:03.000Z", "2025-06-16T13:30:03.000Z"),
        ("08/28/2013", "2013-08-28T00:00:00Z"),
        (1433350568, "2015-06-03T16:56:08Z"),
        ("last Tuesday", None),
        ("", None),
    ],
)
def test_dcat_modified_keeps_valid_values_and_normalises_or_drops_others(value: Any, expected: Any) -> None:
    assert c.dcat_modified(value) == expected


def test_dcat_temporal() -> None:
    assert c.dcat_temporal("1993/2005") == "1993/2005"
    assert c.dcat_temporal("2001-01/2001-12") == "2001-01/2001-12"
    assert c.dcat_temporal("the nineties") is None


def test_date_only_datetime_ignores_durations() -> None:
    assert c.date_only_datetime("R/P1M") is None
    assert c.date_only_datetime("2011-06-30") == datetime(2011, 6, 30, tzinfo=UTC)


def test_latest_datetime() -> None:
    assert c.latest_datetime([None, "2017-01-01", "2018-05-01T00:00:00", "junk"]) == datetime(2018, 5, 1, tzinfo=UTC)
    assert c.latest_datetime([None]) is None


# --------------------------------------------------------------------------------------------------
# periodicity
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Daily", "R/P1D"),
        ("Weekly", "R/P1W"),
        ("Monthly", "R/P1M"),
        ("Annually", "R/P1Y"),
        ("annual", "R/P1Y"),
        ("Quarterly", "R/P3M"),
        ("As needed", "irregular"),
        ("hourly", "R/PT1H"),
        ("Bi-weekly", "R/P2W"),
        ("Semi-annually", "R/P6M"),
        ("Updated daily with a 2 day lag", "R/P1D"),
        ("Data is refreshed on a 4 hour interval", "R/PT4H"),
        ("every 2 weeks", "R/P2W"),
        ("10 minutes", "R/PT10M"),
        ("every day", "R/P1D"),
        ("R/P1W", "R/P1W"),
        ("P1D", "R/P1D"),
        ("irregular", "irregular"),
        ("http://purl.org/cld/freq/daily", "R/P1D"),
        ("Never", None),
        ("Historical data, not updated", None),
        ("whenever", None),
        ("", None),
        (7, None),
    ],
)
def test_periodicity(value: Any, expected: Any) -> None:
    assert c.periodicity(value) == expected


def test_every_frequency_word_gives_a_schema_valid_periodicity() -> None:
    for word, iso in c.PERIOD_WORDS:
        assert c.periodicity(word) == iso, word
        assert dataset_errors(_minimal(accrualPeriodicity=iso)) == [], iso


def test_repeating_duration() -> None:
    assert c.repeating_duration("R/P1W") == "R/P1W"
    assert c.repeating_duration("2011-06-30") is None
    assert c.repeating_duration("weekly") is None


# --------------------------------------------------------------------------------------------------
# contacts, access level, URLs, media types
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("mailto:hhild@CFTC.GOV", "mailto:hhild@CFTC.GOV"),
        ("Shula.Markland@HUD.gov", "mailto:Shula.Markland@HUD.gov"),
        ("MAILTO:a@b.org", "mailto:a@b.org"),
        ("mailto:managed services gis esri support", None),
        ("not an email", None),
        ("", None),
        (None, None),
    ],
)
def test_email(value: Any, expected: Any) -> None:
    assert c.email(value) == expected


def test_email_pattern_is_the_schema_s() -> None:
    text = resources.files("catalog").joinpath(f"{SCHEMA_DIR}/dataset-non-federal.json").read_text("utf-8")
    pattern = json.loads(text)["definitions"]["vcard-non-federal"]["properties"]["hasEmail"]["pattern"]
    assert pattern.startswith("^mailto:")
    for address in ("mailto:a@b.org", "mailto:x y@b.org", "mailto:nobody"):
        ok = c.email(address) is not None
        assert ok == (dataset_errors(_minimal(contactPoint={"fn": "x", "hasEmail": address})) == [])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Public", "public"),
        ("public", "public"),
        ("restricted", "restricted public"),
        ("Non-Public", "non-public"),
        ("private", "non-public"),
        ("secret", None),
        (None, None),
    ],
)
def test_access_level(value: Any, expected: Any) -> None:
    assert c.access_level(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://data.seattle.gov/d/3k2p-39jp", "https://data.seattle.gov/d/3k2p-39jp"),
        (
            "http://www.HUDuser.org/portal/datasets/manu.html",
            "http://www.HUDuser.org/portal/datasets/manu.html",
        ),
        ("https://example.gov/a file.csv", "https://example.gov/a%20file.csv"),
        ("/relative/path", None),
        ("ftp://example.gov/x", None),
        ("<span style='x'>licence prose</span>", None),
        ("Public Domain\nCity of Redmond", None),
        ("", None),
        (None, None),
    ],
)
def test_http_url(value: Any, expected: Any) -> None:
    assert c.http_url(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("CSV", "text/csv"),
        ("csv", "text/csv"),
        ("GeoJSON", "application/geo+json"),
        ("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("Shapefile", "application/zip"),
        ("PDF", "application/pdf"),
        ("application/zip; charset=binary", "application/zip"),
        ("ArcGIS GeoServices REST API", None),
        ("", None),
    ],
)
def test_media_type_for_format(value: Any, expected: Any) -> None:
    assert c.media_type_for_format(value) == expected


def test_media_type_validates_against_the_schema() -> None:
    assert c.media_type("text/csv") == "text/csv"
    assert c.media_type("Text/CSV; charset=utf-8") == "text/csv"
    assert c.media_type("not a type") is None


def test_media_type_for_url() -> None:
    assert c.media_type_for_url("https://x.gov/api/views/abcd-1234/rows.csv?accessType=DOWNLOAD") == "text/csv"
    assert c.media_type_for_url("https://x.gov/download") is None


def test_every_format_media_type_is_schema_valid() -> None:
    for kind in c.FORMAT_MEDIA_TYPES.values():
        assert c.media_type(kind) == kind


# --------------------------------------------------------------------------------------------------
# distributions, counts, columns
# --------------------------------------------------------------------------------------------------


def test_distribution_with_known_type_is_a_download() -> None:
    dist = c.distribution(url="https://x.gov/a.csv", title="A", format_name="CSV")
    assert dist == {
        "downloadURL": "https://x.gov/a.csv",
        "mediaType": "text/csv",
        "title": "A",
        "format": "CSV",
    }


def test_distribution_without_a_type_is_an_access_url() -> None:
    assert c.distribution(url="https://x.gov/page") == {"accessURL": "https://x.gov/page"}
    assert c.distribution(download_url="https://x.gov/download") == {"accessURL": "https://x.gov/download"}


def test_distribution_without_a_url_is_nothing() -> None:
    assert c.distribution(url="not a url", title="x") is None


def test_distributions_validate() -> None:
    dists = c.unique_distributions(
        [
            c.distribution(url="https://x.gov/a.csv"),
            c.distribution(url="https://x.gov/a.csv"),
            c.distribution(access_url="https://x.gov/api", kind="application/json", format_name="API"),
            None,
        ]
    )
    assert dists is not None and len(dists) == 2
    assert dataset_errors(_minimal(distribution=dists)) == []


@pytest.mark.parametrize(("value", "expected"), [(5, 5), ("12", 12), (3.0, 3), (-1, None), (True, None), ("x", None)])
def test_count(value: Any, expected: Any) -> None:
    assert c.count(value) == expected


def test_column_needs_a_name() -> None:
    assert c.column(None, None) is None
    assert c.column(None, "field_a", "text") == {
        "name": "field_a",
        "field_name": "field_a",
        "type": "text",
        "description": None,
    }


def _minimal(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": "t",
        "description": "d",
        "publisher": {"name": "p"},
        "contactPoint": {"fn": "c"},
        "identifier": "i",
        "accessLevel": "public",
    }
    base.update(fields)
    return base
