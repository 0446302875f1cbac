"""Our records, jurisdictions and categories in CKAN's shapes (package, organization, group dicts).

Pure functions, following the package dicts CKAN itself returns (see the recorded ``package_show``
and ``package_search`` responses in ``../shared/reference/portal-samples/ckan/``):

- a package's ``id`` is our record id; its ``name`` is the same id, except that ids longer than
  CKAN's 100-character limit for names keep their first 91 characters and their last 9 (the hash
  that makes an id unique), so a CKAN that harvests us can create the dataset;
- ``organization`` is the record's primary jurisdiction (an organization per jurisdiction, named
  by its id); ``groups`` are its PDI categories; ``tags`` its keywords; ``resources`` its DCAT
  distributions, with the format the ``res_format`` filter and facet use;
- ``metadata_modified`` is the date the catalog sorts and filters by (the portal's last data, else
  metadata, update) and, where a portal gives no date, the time the dataset entered our catalog;
  ``metadata_created`` is when it entered our catalog. Times are UTC without an offset, as CKAN
  writes them;
- what DCAT-US and the PDI extension hold beyond that is in ``extras`` (string values).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from catalog.record import CatalogRecord
from catalog.vocabulary import Category, category_vocabulary
from catalog_seed import Jurisdiction
from index.documents import format_label, keywords, modified
from store.store import StoredRecord

MAX_NAME = 100  # CKAN's PACKAGE_NAME_MAX_LENGTH
_HASH_TAIL = 9  # "-" and the 8 hex digits that end every record id (catalog.ids.record_id)
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/pdi-catalog/ckan")


def package_name(record_id: str) -> str:
    """The CKAN name of a record: its id, shortened to 100 characters when longer."""
    if len(record_id) <= MAX_NAME:
        return record_id
    return record_id[: MAX_NAME - _HASH_TAIL] + record_id[-_HASH_TAIL:]


def name_prefix(name: str) -> str | None:
    """For a name that may be a shortened id, the prefix every such id starts with."""
    return name[: MAX_NAME - _HASH_TAIL] if len(name) == MAX_NAME else None


def ckan_time(value: datetime) -> str:
    """CKAN's timestamp form: UTC, ISO 8601, no offset."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat()


def metadata_modified(stored: StoredRecord) -> datetime:
    return modified(stored.record) or stored.first_seen


def category_title(category: str) -> str:
    return category.replace("_", " ").capitalize()


def organization_dict(j: Jurisdiction, package_count: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": j.id,
        "name": j.id,
        "title": f"{j.name}, {j.state}",
        "display_name": f"{j.name}, {j.state}",
        "description": j.agency,
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
        "image_display_url": "",
    }
    if package_count is not None:
        out["package_count"] = package_count
    return out


def group_dict(category: str, package_count: int | None = None) -> dict[str, Any]:
    definition = category_vocabulary()[Category(category)].definition
    out: dict[str, Any] = {
        "id": category,
        "name": category,
        "title": category_title(category),
        "display_name": category_title(category),
        "description": definition,
        "type": "group",
        "is_organization": False,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
        "image_display_url": "",
    }
    if package_count is not None:
        out["package_count"] = package_count
    return out


def _resources(record: CatalogRecord, created: str) -> list[dict[str, Any]]:
    out = []
    for position, dist in enumerate(record.distribution):
        url = dist.downloadURL or dist.accessURL or ""
        label = format_label(dist)
        out.append(
            {
                "id": str(uuid.uuid5(_NAMESPACE, f"{record.id}/resource/{position}/{url}")),
                "package_id": record.id,
                "name": dist.title or dist.format or f"Resource {position + 1}",
                "description": dist.description or "",
                "url": url,
                "format": label,
                "mimetype": dist.mediaType,
                "position": position,
                "state": "active",
                "url_type": None,
                "resource_type": None,
                "describedBy": dist.describedBy,
                "hash": "",
                "size": None,
                "created": created,
                "last_modified": None,
                "mimetype_inner": None,
                "cache_url": None,
                "cache_last_updated": None,
                "datastore_active": False,  # links to the portal's files; we hold no data
            }
        )
    return out


def _extras(stored: StoredRecord, api_url: str) -> list[dict[str, str]]:
    record = stored.record
    pdi = record.pdi
    email = record.contactPoint.hasEmail
    values: dict[str, Any] = {
        "identifier": record.identifier,
        "accessLevel": record.accessLevel,
        "modified": record.modified,
        "issued": record.issued,
        "accrualPeriodicity": record.accrualPeriodicity,
        "spatial": record.spatial,
        "temporal": record.temporal,
        "rights": record.rights,
        "describedBy": record.describedBy,
        "theme": ", ".join(record.theme),
        "language": ", ".join(record.language),
        "publisher": record.publisher.name,
        "contact_name": record.contactPoint.fn,
        "contact_email": email.removeprefix("mailto:") if email else None,
        "pdi_jurisdictions": ", ".join(pdi.jurisdictions),
        "pdi_categories": ", ".join(pdi.category_ids),
        "pdi_freshness": pdi.freshness.status.value,
        "pdi_last_data_update": ckan_time(pdi.freshness.last_data_update) if pdi.freshness.last_data_update else None,
        "pdi_source_platform": pdi.source.platform,
        "pdi_portal_platform": pdi.source.portal_platform.value if pdi.source.portal_platform else None,
        "pdi_portal_url": pdi.source.portal_url,
        "pdi_source_url": pdi.source.source_url,
        "pdi_remote_id": pdi.source.remote_id,
        "pdi_record_count": str(pdi.record_count) if pdi.record_count is not None else None,
        "pdi_dataset_url": f"{api_url}/api/datasets/{record.id}",
    }
    return [{"key": k, "value": str(v)} for k, v in sorted(values.items()) if v not in (None, "")]


def package_dict(stored: StoredRecord, jurisdictions: dict[str, Jurisdiction], api_url: str) -> dict[str, Any]:
    """One record as a CKAN package dict (``api_url``: our base URL, for the link in ``extras``)."""
    record = stored.record
    pdi = record.pdi
    owner = jurisdictions.get(pdi.jurisdiction) if pdi.jurisdiction else None
    tags = [
        {
            "id": str(uuid.uuid5(_NAMESPACE, f"tag/{k}")),
            "name": k,
            "display_name": k,
            "state": "active",
            "vocabulary_id": None,
        }
        for k in keywords(record)
    ]
    resources = _resources(record, ckan_time(stored.first_seen))
    email = record.contactPoint.hasEmail
    return {
        "id": record.id,
        "name": package_name(record.id),
        "title": record.title,
        "notes": record.description,
        "url": record.landingPage or "",
        "type": "dataset",
        "state": "active",
        "private": False,
        "metadata_created": ckan_time(stored.first_seen),
        "metadata_modified": ckan_time(metadata_modified(stored)),
        "author": record.publisher.name,
        "author_email": None,
        "maintainer": record.contactPoint.fn,
        "maintainer_email": email.removeprefix("mailto:") if email else None,
        "license_id": record.license or "notspecified",
        "license_title": record.license or "License not specified",
        "license_url": record.license if record.license and "://" in record.license else None,
        "version": None,
        "owner_org": owner.id if owner else None,
        "organization": organization_dict(owner) if owner else None,
        "groups": [
            {k: v for k, v in group_dict(c).items() if k in ("id", "name", "title", "display_name", "description")}
            | {"image_display_url": ""}
            for c in pdi.category_ids
        ],
        "tags": tags,
        "num_tags": len(tags),
        "resources": resources,
        "num_resources": len(resources),
        "extras": _extras(stored, api_url),
        "relationships_as_object": [],
        "relationships_as_subject": [],
    }
