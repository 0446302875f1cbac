"""A first rule-based classifier: is a dataset about policing, and which PDI categories is it?

Evidence comes from the title (strongest), keywords/tags and portal category, column names and
the description, each matched against the terms of ``data/categories.yaml``. Two guards keep
city-portal look-alikes out: some categories only count when the text also speaks of police
(``calls for service`` of a fire department, ``complaints`` about noise, ``citations`` of the
building code), and a few phrases veto a match outright (``bus stops``, ``stop signs``).
The result says what decided it, so a wrong call can be traced to a term.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from catalog.record import CatalogRecord, CategoryAssignment
from catalog.vocabulary import Category, category_vocabulary

# Categories whose words alone say "police" (nobody else has officer-involved shootings).
INTRINSIC = frozenset(
    {
        Category.USE_OF_FORCE,
        Category.OFFICER_INVOLVED_SHOOTINGS,
        Category.TRAFFIC_STOPS,
        Category.PEDESTRIAN_STOPS,
        Category.FIELD_CONTACTS,
        Category.ARRESTS,
        Category.ASSAULTS_ON_OFFICERS,
        Category.CRIME_INCIDENTS,
        Category.VEHICLE_PURSUITS,
        Category.DEATHS_IN_CUSTODY,
        Category.HATE_CRIMES,
    }
)

POLICE_CONTEXT = (
    "police",
    "sheriff",
    "law enforcement",
    "officer",
    "officers",
    "patrol",
    "precinct",
    "deputy",
    "deputies",
    "trooper",
    "constable",
    "internal affairs",
    "sworn",
    "pd",
    "cmpd",
    "impd",
    "nypd",
    "lapd",
    "sfpd",
    "spd",
    "apd",
    "dpd",
    "mpd",
    "opd",
    "bpd",
    "nopd",
    "lmpd",
    "slmpd",
    "cpd",
    "tpd",
    "hpd",
    "mcpd",
    "sapd",
    "rpd",
    "crime",
    "crimes",
    "ripa",
    "racial and identity profiling",
    "racial profiling",
    "stop data",
    "traffic citation",
    "traffic citations",
    "moving violations",
)

# Phrases that make a match meaningless for policing, unless police words are also present.
NOT_POLICE = (
    "fire department",
    "fire incidents",
    "fire calls",
    "fire and ems",
    "fire/ems",
    "ems",
    "emergency medical",
    "311",
    "bus stop",
    "bus stops",
    "transit stop",
    "transit stops",
    "stop sign",
    "stop signs",
    "building code",
    "code enforcement",
    "code violations",
    "restaurant",
    "food inspection",
    "noise complaint",
    "noise complaints",
    "sheriff sale",
    "sheriff sales",
    "sheriffs sale",
    "sheriffs sales",
    "animal",
    "parking citations",
    "parking tickets",
    "library",
    "water quality",
)

# Evidence weights: a title naming the category decides it; other fields support it.
W_TITLE = 3.0
W_KEYWORD = 1.5
W_COLUMN = 1.0
W_DESCRIPTION = 0.75
MAX_COLUMN_SCORE = 3.0
THRESHOLD = 1.5
SECONDARY_MIN = 3.0  # without a title hit, a category needs this much other evidence beside one that has one
# Agency abbreviations such as SPD, FLPD, CMPD, LMPD.
_AGENCY_ABBREVIATION = re.compile(r"^[a-z]{1,5}pd$")


@dataclass(frozen=True)
class Classification:
    police_related: bool
    categories: list[CategoryAssignment] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)

    @property
    def category_ids(self) -> list[str]:
        return [c.category.value for c in self.categories]


def _norm(text: str) -> str:
    text = re.sub(r"<[^>]+>", " ", text)  # descriptions are often HTML
    text = text.lower().replace("_", " ").replace("-", " ")
    return re.sub(r"[^a-z0-9/&]+", " ", text).strip()


@cache
def _pattern(term: str) -> re.Pattern[str]:
    words = _norm(term).split()
    return re.compile(r"(?<![a-z0-9])" + r"\s+".join(re.escape(w) for w in words) + r"(?![a-z0-9])")


def _find(terms: Iterable[str], text: str) -> list[str]:
    return [t for t in terms if text and _pattern(t).search(text)]


def _norm_column(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _strip(phrases: Iterable[str], text: str) -> str:
    for phrase in phrases:
        text = _pattern(phrase).sub(" ", text)
    return text


def classify(
    title: str,
    description: str = "",
    keywords: Sequence[str] = (),
    themes: Sequence[str] = (),
    columns: Sequence[str] = (),
) -> Classification:
    """Decide police-relatedness and categories (best first) from a dataset's metadata."""
    t = _norm(title)
    d = _norm(description)
    k = _norm(" | ".join([*keywords, *themes]))
    cols = {_norm_column(c) for c in columns if c}

    vetoes = _find(NOT_POLICE, " ".join((t, k)))
    # Police words inside a vetoed phrase ("sheriff sales") say nothing about policing.
    tk = _strip(vetoes, " ".join((t, k)))
    police_words = _find(POLICE_CONTEXT, tk) + [w for w in tk.split() if _AGENCY_ABBREVIATION.match(w)]
    police_in_description = _find(POLICE_CONTEXT, _strip(vetoes, d))

    scores: dict[Category, float] = {}
    evidence: dict[Category, list[str]] = {}
    title_phrase: dict[Category, str] = {}
    for cat, terms in category_vocabulary().items():
        if cat is Category.OTHER_POLICING:
            continue
        ev: list[str] = []
        score = 0.0
        hits = _find(terms.title_terms, t)
        if hits:
            # the longer the phrase the title names, the surer ("officer involved shooting" > "crime")
            longest = max(hits, key=lambda h: len(h.split()))
            score += W_TITLE + 0.1 * len(longest.split())
            ev.append(f"title: {longest!r}")
            title_phrase[cat] = _norm(longest)
        hits = _find((*terms.title_terms, *terms.terms), k)
        if hits:
            score += W_KEYWORD
            ev.append(f"keywords: {hits[0]!r}")
        col_hits = sorted(cols.intersection(terms.columns))
        if col_hits:
            score += min(MAX_COLUMN_SCORE, W_COLUMN * len(col_hits))
            ev.append(f"columns: {', '.join(col_hits[:3])}")
        hits = _find(terms.terms, d)
        if hits:
            score += W_DESCRIPTION
            ev.append(f"description: {hits[0]!r}")
        if score >= THRESHOLD:
            scores[cat] = score
            evidence[cat] = ev

    # The same title words explained by a longer phrase belong to that phrase's category:
    # "traffic stops" is traffic_stops, not also stops; "hate crimes" is not also crime_incidents.
    for cat, phrase in title_phrase.items():
        if cat in scores and any(
            phrase != other and _pattern(phrase).search(other) for c, other in title_phrase.items() if c is not cat
        ):
            del scores[cat]

    # When the title names a category, others need more than columns or a word in the description:
    # a stop table's columns (reason_for_stop) do not make a RIPA dataset a traffic-stop one.
    if any(cat in title_phrase for cat in scores):
        scores = {c: v for c, v in scores.items() if c in title_phrase or v > SECONDARY_MIN}

    has_context = bool(police_words) or bool(police_in_description and not vetoes)
    kept: dict[Category, float] = {}
    for cat, score in scores.items():
        if vetoes and not police_words:
            continue
        if cat in INTRINSIC or has_context:
            kept[cat] = score

    notes: list[str] = []
    if police_words:
        notes.append(f"police context: {', '.join(police_words[:3])}")
    if vetoes:
        notes.append(f"non-police context: {', '.join(vetoes[:3])}")

    if not kept:
        other = _find(category_vocabulary()[Category.OTHER_POLICING].title_terms, tk)
        if other:
            return Classification(
                police_related=True,
                categories=[
                    CategoryAssignment(
                        category=Category.OTHER_POLICING,
                        confidence=0.5,
                        evidence=[f"title: {other[0]!r}", *notes, "no listed category matched"],
                    )
                ],
                evidence=notes,
            )
        return Classification(police_related=False, categories=[], evidence=notes)

    ranked = sorted(kept.items(), key=lambda kv: (-kv[1], kv[0].value))
    assignments = [
        CategoryAssignment(
            category=cat,
            confidence=round(min(0.99, score / (score + 1.5)), 3),
            evidence=evidence[cat] + notes,
        )
        for cat, score in ranked
    ]
    return Classification(police_related=True, categories=assignments, evidence=notes)


def classify_record(record: CatalogRecord) -> CatalogRecord:
    """The record with ``pdi.categories`` and ``pdi.police_related`` filled in (a new object)."""
    result = classify(
        record.title,
        record.description,
        record.keyword,
        record.theme,
        [c.field_name or c.name for c in record.pdi.columns] + [c.name for c in record.pdi.columns],
    )
    pdi = record.pdi.model_copy(update={"categories": result.categories, "police_related": result.police_related})
    return record.model_copy(update={"pdi": pdi})


# ---- classifier input as JSON (``pdi classify``, bench/labelled.py) ------------------------------


class InputError(ValueError):
    """A JSON object that cannot be classified: says which field is wrong and how."""


@dataclass(frozen=True)
class ClassifierInput:
    """What the classifier reads about one dataset."""

    title: str = ""
    description: str = ""
    keywords: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()


INPUT_FIELDS = ("title", "description", "keywords", "theme", "columns")


def _text(obj: Mapping[str, Any], name: str) -> str:
    value = obj.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(f"'{name}' must be a string, not {type(value).__name__}")
    return value


def _words(obj: Mapping[str, Any], name: str) -> tuple[str, ...]:
    """A list of strings, or one comma-separated string."""
    value = obj.get(name)
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(w.strip() for w in value.split(",") if w.strip())
    if isinstance(value, list) and all(isinstance(w, str) for w in value):
        return tuple(value)
    raise InputError(f"'{name}' must be a list of strings or a comma-separated string")


def _column_names(value: object) -> tuple[str, ...]:
    """Column names from a list of names or of objects with a ``name`` (and ``field_name``)."""
    if not isinstance(value, list):
        raise InputError("'columns' must be a list of names or of objects with a 'name'")
    names: list[str] = []
    for i, col in enumerate(value):
        if isinstance(col, str):
            names.append(col)
        elif isinstance(col, dict) and isinstance(col.get("name"), str):
            names.append(col["name"])
            for alias in ("field_name", "fieldName"):
                if isinstance(col.get(alias), str):
                    names.append(col[alias])
        else:
            raise InputError(f"'columns' item {i} must be a name or an object with a string 'name'")
    return tuple(names)


def parse_input(obj: object) -> ClassifierInput:
    """Read one dataset from a JSON object with any of ``title``, ``description``, ``keywords``
    (or DCAT-US ``keyword``), ``theme`` (the portal's category) and ``columns`` (or ``pdi.columns``,
    so a line of ``pdi map`` output is accepted). Raises :class:`InputError` on a wrong type or
    when none of them is present."""
    if not isinstance(obj, dict):
        raise InputError(f"expected a JSON object, got {type(obj).__name__}")
    keywords = _words(obj, "keywords") if obj.get("keywords") is not None else _words(obj, "keyword")
    columns: tuple[str, ...] = ()
    if obj.get("columns") is not None:
        columns = _column_names(obj["columns"])
    elif isinstance(obj.get("pdi"), dict) and obj["pdi"].get("columns") is not None:
        columns = _column_names(obj["pdi"]["columns"])
    result = ClassifierInput(
        title=_text(obj, "title"),
        description=_text(obj, "description"),
        keywords=keywords,
        themes=_words(obj, "theme"),
        columns=columns,
    )
    if not (result.title.strip() or result.description.strip() or result.keywords or result.themes or columns):
        raise InputError(f"none of {', '.join(INPUT_FIELDS)} is given")
    return result


def classify_input(inp: ClassifierInput) -> Classification:
    return classify(inp.title, inp.description, inp.keywords, inp.themes, inp.columns)
