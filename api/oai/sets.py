"""OAI-PMH sets: the jurisdictions and the PDI categories, as a two-level hierarchy.

``jurisdiction`` holds every record with a jurisdiction, ``jurisdiction:seattle-wa`` the records of
Seattle; ``category`` and ``category:use_of_force`` likewise. Seed ids (``[a-z0-9-]``) and category
ids (``[a-z_]``) are valid setSpec characters as they are, so set specs are the public ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.oai.formats import category_label
from api.oai.protocol import ErrorCode, OaiError
from catalog.record import CatalogRecord
from catalog.vocabulary import Category, category_vocabulary
from catalog_seed import Seed
from store import Facet, FacetFilter

PARENTS: dict[Facet, str] = {
    Facet.JURISDICTION: "Jurisdictions of the Police Data Initiative",
    Facet.CATEGORY: "PDI dataset categories",
}


@dataclass(frozen=True)
class OaiSet:
    spec: str
    name: str
    description: str | None = None


def all_sets(seed: Seed) -> list[OaiSet]:
    vocabulary = category_vocabulary()
    out = [OaiSet(Facet.JURISDICTION.value, PARENTS[Facet.JURISDICTION])]
    out += [OaiSet(f"{Facet.JURISDICTION.value}:{j.id}", f"{j.name}, {j.state} ({j.agency})") for j in seed]
    out.append(OaiSet(Facet.CATEGORY.value, PARENTS[Facet.CATEGORY]))
    out += [OaiSet(f"{Facet.CATEGORY.value}:{c.value}", category_label(c), vocabulary[c].definition) for c in Category]
    return out


def set_specs(record: CatalogRecord) -> list[str]:
    """The sets a record is in (the leaf sets; membership of a parent follows)."""
    specs = [f"{Facet.JURISDICTION.value}:{j}" for j in dict.fromkeys(record.pdi.jurisdictions)]
    return specs + [f"{Facet.CATEGORY.value}:{c}" for c in dict.fromkeys(record.pdi.category_ids)]


def facet_filter(spec: str, seed: Seed) -> FacetFilter:
    """The store filter of a set spec; a set we do not have is noRecordsMatch, named in the message."""
    head, _, value = spec.partition(":")
    try:
        facet = Facet(head)
    except ValueError:
        raise OaiError(ErrorCode.NO_RECORDS_MATCH, f"there is no set {spec!r}; see ListSets") from None
    if not value:
        return FacetFilter(facet)
    known = seed.get(value) is not None if facet is Facet.JURISDICTION else value in {c.value for c in Category}
    if not known or ":" in value:
        raise OaiError(ErrorCode.NO_RECORDS_MATCH, f"there is no set {spec!r}; see ListSets")
    return FacetFilter(facet, value)
