"""The shape of a dataset kind (titles, descriptions, columns, habits) and lookups over all kinds.

A *kind* is one sort of dataset a city portal publishes ("use of force incidents", "building
permits"). Police kinds carry the PDI categories they belong to (the ground truth); city kinds
carry none. The data lives in :mod:`simulator.kinds_police` and :mod:`simulator.kinds_city`.

Title templates may use ``{abbr}`` (agency initials, e.g. APD), ``{agency}``, ``{city}``,
``{state}`` and ``{year}``; a template with ``{year}`` names one member of a yearly series.
Column specs are ``"Display Name"`` or ``"Display Name:datatype"`` (Socrata data type names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from catalog.vocabulary import Category, category_vocabulary
from simulator.dataset import FREQUENCIES, SimColumn, snake


@dataclass(frozen=True)
class Kind:
    """One sort of dataset; police when it has categories."""

    key: str
    titles: tuple[str, ...]
    descriptions: tuple[str, ...]
    columns: tuple[str, ...]
    categories: tuple[str, ...] = ()
    department: str = "{agency}"
    domain_category: str = "Public Safety"
    tags: tuple[str, ...] = ()
    frequencies: tuple[str, ...] = ("monthly",)
    yearly_titles: tuple[str, ...] = ()
    split: bool = False  # may be published as incident / subject / officer tables
    spatial: bool = True
    near_miss: bool = False  # a city dataset whose words look like police data
    rows: tuple[int, int] = (500, 250_000)
    statewide: bool = False  # published by a state portal about every agency

    @property
    def police(self) -> bool:
        return bool(self.categories)


_NUMBER_WORDS = re.compile(
    r"\b(latitude|longitude|age|count|amount|number of|years|score|total|speed|shots|"
    r"duration|minutes|seconds|rate|salary|cost|acres|population|tonnage|attendees|year)\b"
)
_DATE_WORDS = re.compile(r"\b(date|datetime|timestamp|reported|occurred on)\b")


def infer_datatype(name: str) -> str:
    """Guess a Socrata data type name from a column's display name."""
    low = name.lower()
    if low in ("location", "geolocation", "incident location", "the geom", "point", "geometry"):
        return "point"
    if _DATE_WORDS.search(low):
        return "calendar_date"
    if _NUMBER_WORDS.search(low) and not low.endswith((" id", " number", " no", " code")):
        return "number"
    if low.endswith(("flag", " (y/n)")):
        return "checkbox"
    if low.endswith(("url", "link", "website")):
        return "url"
    return "text"


@cache
def column(spec: str) -> SimColumn:
    """A :class:`SimColumn` from ``"Display Name"`` or ``"Display Name:type"``."""
    name, _, datatype = spec.partition(":")
    name = name.strip()
    return SimColumn(name=name, field_name=snake(name), datatype=datatype or infer_datatype(name))


@cache
def agency_abbreviation(agency: str) -> str:
    """``Charlotte-Mecklenburg Police Department`` -> ``CMPD``."""
    words = re.split(r"[\s\-]+", agency.replace("'s", "").replace(".", ""))
    return "".join(w[0].upper() for w in words if w and w.lower() not in ("of", "the", "and"))


@cache
def police_kinds() -> tuple[Kind, ...]:
    """Every police kind, checked against the catalog's Category vocabulary."""
    from simulator.kinds_police import POLICE_KINDS

    _check(POLICE_KINDS, police=True)
    return POLICE_KINDS


@cache
def city_kinds() -> tuple[Kind, ...]:
    """Every non-police kind, near misses included."""
    from simulator.kinds_city import CITY_KINDS

    _check(CITY_KINDS, police=False)
    return CITY_KINDS


@cache
def kinds_by_category() -> dict[str, tuple[Kind, ...]]:
    """Police kinds whose first category is each Category id (every id has at least one)."""
    out: dict[str, list[Kind]] = {c.value: [] for c in Category}
    for kind in police_kinds():
        out[kind.categories[0]].append(kind)
    return {key: tuple(kinds) for key, kinds in out.items()}


@cache
def kind_named(key: str) -> Kind:
    """The kind with this key; KeyError if none."""
    for kind in police_kinds() + city_kinds():
        if kind.key == key:
            return kind
    raise KeyError(key)


def vocabulary_columns(category: str) -> tuple[str, ...]:
    """The catalog's typical column names of a category (normalised), for a little overlap."""
    return category_vocabulary()[Category(category)].columns


def _check(kinds: tuple[Kind, ...], police: bool) -> None:
    known = {c.value for c in Category}
    seen: set[str] = set()
    for kind in kinds:
        if kind.key in seen:
            raise ValueError(f"simulator kind '{kind.key}' defined twice")
        seen.add(kind.key)
        if kind.police != police:
            raise ValueError(f"simulator kind '{kind.key}': police={kind.police}, expected {police}")
        bad = [c for c in kind.categories if c not in known]
        if bad:
            raise ValueError(f"simulator kind '{kind.key}': unknown categories {bad}")
        bad = [f for f in kind.frequencies if f not in FREQUENCIES and f != "none"]
        if bad:
            raise ValueError(f"simulator kind '{kind.key}': unknown frequencies {bad}")
        if not kind.titles and not kind.yearly_titles:
            raise ValueError(f"simulator kind '{kind.key}': no titles")
    if police:
        missing = known - {k.categories[0] for k in kinds}
        if missing:
            raise ValueError(f"simulator police kinds miss categories {sorted(missing)}")
