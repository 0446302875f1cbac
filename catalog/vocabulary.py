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
    """One category of ``data/categories.yaml`` (see the comment at the top of that file)."""

    category: Category
    definition: str
    synonyms: tuple[str, ...]
    title_terms: tuple[str, ...]
    terms: tuple[str, ...]
    columns: tuple[str, ...]
    police_by_itself: bool = False
    broader: tuple[Category, ...] = ()


VOCABULARY_FILE = "catalog/data/categories.yaml"
_REQUIRED_LISTS = ("synonyms", "title_terms", "terms", "columns")
_KNOWN_FIELDS = {"definition", *_REQUIRED_LISTS, "police_by_itself", "broader"}


def _phrases(key: str, entry: dict[str, object], name: str) -> tuple[str, ...]:
    value = entry.get(name)
    if not isinstance(value, list) or not value or not all(isinstance(t, str) and t.strip() for t in value):
        raise ValueError(f"{VOCABULARY_FILE}: {key}.{name} must be a non-empty list of phrases")
    return tuple(t.strip().lower() for t in value)


def parse_vocabulary(raw: object) -> dict[Category, CategoryTerms]:
    """Check the parsed YAML against the Category enum and the field rules; errors name the field."""
    if not isinstance(raw, dict):
        raise ValueError(f"{VOCABULARY_FILE}: expected a mapping of category ids")
    unknown = set(raw) - {c.value for c in Category}
    missing = {c.value for c in Category} - set(raw)
    if unknown or missing:
        raise ValueError(
            f"{VOCABULARY_FILE} does not match Category: unknown {sorted(unknown)}, missing {sorted(missing)}"
        )
    vocab: dict[Category, CategoryTerms] = {}
    for key, entry in raw.items():
        if not isinstance(entry, dict):
            raise ValueError(f"{VOCABULARY_FILE}: {key} must be a mapping")
        extra = set(entry) - _KNOWN_FIELDS
        if extra:
            raise ValueError(f"{VOCABULARY_FILE}: {key}: unknown field(s) {sorted(extra)}")
        definition = entry.get("definition")
        if not isinstance(definition, str) or not definition.strip():
            raise ValueError(f"{VOCABULARY_FILE}: {key}.definition must be a sentence")
        by_itself = entry.get("police_by_itself", False)
        if not isinstance(by_itself, bool):
            raise ValueError(f"{VOCABULARY_FILE}: {key}.police_by_itself must be true or false")
        broader = entry.get("broader", [])
        known = {c.value for c in Category}
        if not isinstance(broader, list) or not all(b in known and b != key for b in broader):
            raise ValueError(f"{VOCABULARY_FILE}: {key}.broader must list other category ids, got {broader!r}")
        cat = Category(key)
        vocab[cat] = CategoryTerms(
            category=cat,
            definition=definition.strip(),
            synonyms=_phrases(key, entry, "synonyms"),
            title_terms=_phrases(key, entry, "title_terms"),
            terms=_phrases(key, entry, "terms"),
            columns=_phrases(key, entry, "columns"),
            police_by_itself=by_itself,
            broader=tuple(Category(b) for b in broader),
        )
    return vocab


@cache
def category_vocabulary() -> dict[Category, CategoryTerms]:
    """The category vocabulary from ``data/categories.yaml``, checked against the enum."""
    text = resources.files("catalog").joinpath("data/categories.yaml").read_text(encoding="utf-8")
    return parse_vocabulary(yaml.safe_load(text))


def vocabulary_markdown() -> str:
    """docs/categories.md, generated from ``data/categories.yaml`` (``python -m catalog.vocabulary``)."""

    def phrases(items: tuple[str, ...]) -> str:
        return ", ".join(f"`{p}`" for p in items)

    out = [
        "# PDI categories",
        "",
        "<!-- generated by `python -m catalog.vocabulary > docs/categories.md` from "
        "catalog/data/categories.yaml; do not edit -->",
        "",
        "The controlled vocabulary of dataset kinds: API facets and filters (`category`), exports and",
        "`pdi classify` use these ids, which are never renamed (more may be added). `GET /api/categories`",
        "serves the same data. How the classifier uses each field is explained at the top of",
        "`catalog/data/categories.yaml` and in `catalog/classify.py`.",
        "",
    ]
    for cat, t in category_vocabulary().items():
        out += [f"## `{cat.value}`", "", t.definition, ""]
        out.append(f"- **synonyms** (police-only names; decide alone): {phrases(t.synonyms)}")
        alone = "alone say police data" if t.police_by_itself else "need police context"
        out.append(f"- **title words** ({alone}): {phrases(t.title_terms)}")
        out.append(f"- **description and keyword words**: {phrases(t.terms)}")
        out.append(f"- **typical columns**: {phrases(t.columns)}")
        if t.broader:
            out.append(f"- **a kind of**: {', '.join(f'`{b.value}`' for b in t.broader)}")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(vocabulary_markdown(), end="")
