"""Controlled vocabularies of the catalog: PDI categories, platforms, freshness statuses.

Category ids are public interface (API facets, exports, ``pdi classify``): more may be added,
none renamed. Their definitions and matching terms live in ``data/categories.yaml`` so that the
classifier, the docs and the API read one source.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

import yaml


class Category(StrEnum):
    USE_OF_FORCE = "use_of_force"
    OFFICER_INVOLVED_SHOOTINGS = "officer_involved_shootings"
    TRAFFIC_STOPS = "traffic_stops"
    PEDESTRIAN_STOPS = "pedestrian_stops"
    STOPS = "stops"
    FIELD_CONTACTS = "field_contacts"
    CITATIONS = "citations"
    ARRESTS = "arrests"
    COMPLAINTS = "complaints"
    ASSAULTS_ON_OFFICERS = "assaults_on_officers"
    CALLS_FOR_SERVICE = "calls_for_service"
    CRIME_INCIDENTS = "crime_incidents"
    VEHICLE_PURSUITS = "vehicle_pursuits"
    EMPLOYEE_DEMOGRAPHICS = "employee_demographics"
    COMMUNITY_ENGAGEMENT = "community_engagement"
    TRAFFIC_CRASHES = "traffic_crashes"
    DEATHS_IN_CUSTODY = "deaths_in_custody"
    LAWSUITS = "lawsuits"
    HATE_CRIMES = "hate_crimes"
    OTHER_POLICING = "other_policing"


class PortalPlatform(StrEnum):
    """What software a portal runs (as recorded in the seed), not which harvester reads it."""

    SOCRATA = "socrata"
    CKAN = "ckan"
    ARCGIS_HUB = "arcgis_hub"
    ARCGIS_SERVER = "arcgis_server"
    ARCGIS_ONLINE = "arcgis_online"  # an ArcGIS Online organisation or ArcGIS Enterprise portal
    OPENDATASOFT = "opendatasoft"
    DKAN = "dkan"
    JUNAR = "junar"
    HTML = "html"
    OTHER = "other"


class FreshnessStatus(StrEnum):
    FRESH = "fresh"
    DUE = "due"
    OVERDUE = "overdue"
    DELINQUENT = "delinquent"
    UNKNOWN = "unknown"


class RecordStatus(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class CategoryTerms:
    category: Category
    definition: str
    title_terms: tuple[str, ...]
    terms: tuple[str, ...]
    columns: tuple[str, ...]


@cache
def category_vocabulary() -> dict[Category, CategoryTerms]:
    """The category vocabulary from ``data/categories.yaml``, checked against the enum."""
    text = resources.files("catalog").joinpath("data/categories.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    unknown = set(raw) - {c.value for c in Category}
    missing = {c.value for c in Category} - set(raw)
    if unknown or missing:
        raise ValueError(
            f"catalog/data/categories.yaml does not match Category: unknown {sorted(unknown)}, "
            f"missing {sorted(missing)}"
        )
    vocab: dict[Category, CategoryTerms] = {}
    for key, entry in raw.items():
        cat = Category(key)
        vocab[cat] = CategoryTerms(
            category=cat,
            definition=str(entry["definition"]),
            title_terms=tuple(str(t).lower() for t in entry.get("title_terms", [])),
            terms=tuple(str(t).lower() for t in entry.get("terms", [])),
            columns=tuple(str(t).lower() for t in entry.get("columns", [])),
        )
    return vocab
