"""CKAN package_search parameters to index queries: what is understood, what is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.ckan.query import MAX_ROWS, ParameterError, parse_filters, parse_package_search
from index.base import SortOrder

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_the_ckan_harvesters_own_fq():
    # ckanext-harvest joins its terms with spaces: an org OR-list, then the since-last-time range
    fq = "organization:seattle-wa OR organization:austin-tx metadata_modified:[2026-02-01T10:00:00.123456Z TO *]"
    text, filters, after = parse_filters(None, [fq], NOW)
    assert text is None
    assert filters == {"jurisdiction": ["seattle-wa", "austin-tx"], "status": ["active"]}
    assert after == datetime(2026, 2, 1, 10, 0, 0, 123456, tzinfo=UTC)
    _, filters, _ = parse_filters(None, ["groups:use_of_force OR groups:complaints"], NOW)
    assert filters["category"] == ["use_of_force", "complaints"]


@pytest.mark.parametrize(
    ("fq", "filters", "after"),
    [
        ('tags:"public safety" +res_format:csv', {"keyword": ["public safety"], "format": ["CSV"]}, None),
        (
            "(owner_org:a OR owner_org:b) AND groups:(arrests OR complaints)",
            {"jurisdiction": ["a", "b"], "category": ["arrests", "complaints"]},
            None,
        ),
        ("tags:public\\ safety", {"keyword": ["public safety"]}, None),
        ("metadata_modified:[NOW-7DAYS TO NOW]", {}, NOW - timedelta(days=7)),
        ("metadata_modified:[NOW/DAY-1DAY TO *]", {}, datetime(2026, 2, 28, tzinfo=UTC)),
        ("metadata_modified:[2026-01-31 TO *] state:active", {}, datetime(2026, 1, 31, tzinfo=UTC)),
        ("state:deleted", {"status": ["withdrawn"]}, None),
    ],
)
def test_supported_fq(fq, filters, after):
    _, got, got_after = parse_filters(None, [fq], NOW)
    assert got == {"status": ["active"], **filters}
    assert got_after == after


@pytest.mark.parametrize(
    ("fq", "fragment"),
    [
        ("-organization:seattle-wa", "negation"),
        ("NOT tags:x", "negation"),
        ("organization:a OR groups:b", "one field"),
        ("tags:a tags:b", "two clauses"),
        ("license_id:cc-by", "cannot filter on 'license_id'"),
        ("metadata_modified:[2020-01-01 TO 2021-01-01]", "open ranges"),
        ("metadata_modified:{2020-01-01 TO *}", "inclusive"),
        ("metadata_modified:[yesterday TO *]", "is not a date"),
        ("tags:[a TO b]", "ranges are supported on metadata_modified only"),
        ("tags:pol*", "wildcards"),
        ("organization:(a OR b", "not closed"),
        ("police", "not a field:value clause"),
        ("state:draft", "not active or deleted"),
    ],
)
def test_unsupported_fq_is_an_error_naming_it(fq, fragment):
    with pytest.raises(ParameterError, match="^fq: ") as info:
        parse_filters(None, [fq], NOW)
    assert fragment in str(info.value)


def test_q_words_and_fielded_terms():
    assert parse_filters("*:*", [], NOW)[0] is None
    text, filters, _ = parse_filters('use of force tags:uof "stop and frisk" text:ois', [], NOW)
    assert text == "use of force stop and frisk ois"
    assert filters["keyword"] == ["uof"]
    with pytest.raises(ParameterError, match="^q: "):
        parse_filters("title:force", [], NOW)


def test_rows_start_sort_and_facets():
    ps = parse_package_search({"rows": "5000", "start": "40", "sort": "metadata_modified desc"}, NOW)
    assert ps.rows == ps.query.size == MAX_ROWS and ps.query.offset == 40
    assert ps.query.sort is SortOrder.MODIFIED and ps.query.facet_size == 0
    ps = parse_package_search({"sort": "name asc", "facet.field": '["organization","tags"]', "facet.limit": "-1"})
    assert ps.query.sort is SortOrder.ID and ps.facet_fields == ["organization", "tags"]
    assert ps.query.facet_size > 1000
    ps = parse_package_search({"facet.field": ["res_format"], "facet.limit": 5, "rows": 0})
    assert ps.query.facet_size == 5 and ps.rows == 0
    default = parse_package_search({})
    assert default.rows == 10 and default.sort == "score desc, metadata_modified desc"
    assert default.query.sort is SortOrder.RELEVANCE
    # what ckanapi's dump and search commands send along is accepted
    parse_package_search({"include_private": True, "include_drafts": False, "ext_bbox": ""})


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"rows": "ten"}, "rows", "Invalid integer"),
        ({"rows": -1}, "rows", "Must be a natural number"),
        ({"start": "1.5"}, "start", "Invalid integer"),
        ({"sort": "title_string asc"}, "sort", "cannot sort"),
        ({"sort": "name desc"}, "sort", "cannot sort"),
        ({"facet.field": '["license_id"]'}, "facet.field", "cannot count"),
        ({"facet.field": "[oops"}, "facet.field", "JSON"),
        ({"fq": ["a", "b"]}, "fq", "string"),
        ({"owner_org": "x"}, "owner_org", "not expected"),
    ],
)
def test_bad_parameters(data, field, message):
    with pytest.raises(ParameterError) as info:
        parse_package_search(data, NOW)
    assert info.value.field == field and message in info.value.message
