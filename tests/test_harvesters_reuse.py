from __future__ import annotations

from datetime import UTC, datetime

from harvesters import registry
from harvesters.base import RawRecord

T = datetime(2026, 1, 1, tzinfo=UTC)


def _raw(**resource):
    return RawRecord(
        "abcd-1234", "https://x/api/catalog/v1", T, {"catalog": {"resource": {"id": "abcd-1234", **resource}}}
    )


def test_socrata_reuses_stored_views_only_while_the_listing_says_nothing_changed():
    socrata = registry.get("socrata")
    stamps = {"updatedAt": "2026-01-01T00:00:00.000Z", "data_updated_at": "2026-01-01", "columns_field_name": ["a"]}
    stored = {
        "catalog": {"resource": {"id": "abcd-1234", **stamps, "page_views": {"total": 1}}},
        "view": {"id": "abcd-1234"},
    }
    reused = socrata.reuse(_raw(**stamps, page_views={"total": 99}), stored, "https://x/api/views/abcd-1234.json")
    assert reused is not None and reused.content["view"] == {"id": "abcd-1234"}
    assert reused.content["catalog"]["resource"]["page_views"] == {"total": 99}  # the new listing, kept
    assert socrata.reuse(_raw(**{**stamps, "data_updated_at": "2026-02-01"}), stored, "u") is None
    assert socrata.reuse(_raw(**{**stamps, "columns_field_name": ["a", "b"]}), stored, "u") is None
    assert socrata.reuse(_raw(**stamps), {"catalog": stored["catalog"]}, "u") is None  # nothing to reuse
    assert socrata.reuse(_raw(), stored, "u") is None  # a listing without stamps proves nothing


def test_platforms_without_details_never_reuse():
    for name in ("ckan", "dcat_us"):
        assert registry.get(name).reuse(_raw(), {"view": {}}, "u") is None


def test_arcgis_server_reuses_the_count_only_while_the_edit_date_holds():
    arcgis = registry.get("arcgis_server")
    layer = {"id": 0, "name": "Stops", "editingInfo": {"lastEditDate": 1700000000000}}
    stored = {"layer": layer, "query": {"count": 42}}
    raw = RawRecord("/x/FeatureServer/0", "https://x/FeatureServer/0", T, {"layer": dict(layer)})
    assert arcgis.reuse(raw, stored, "u").content["query"] == {"count": 42}
    edited = RawRecord(
        raw.remote_id, raw.source_url, T, {"layer": {**layer, "editingInfo": {"lastEditDate": 1800000000000}}}
    )
    assert arcgis.reuse(edited, stored, "u") is None
    undated = RawRecord(raw.remote_id, raw.source_url, T, {"layer": {"id": 0, "name": "Stops"}})
    assert arcgis.reuse(undated, {"layer": {"id": 0}, "query": {"count": 1}}, "u") is None
