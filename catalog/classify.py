"""Rule-based classifier: is a dataset about policing, and which PDI categories is it?

Evidence comes from the title (strongest), keywords/tags and portal category (``theme``), column
names and the description, each matched against the phrases of ``data/categories.yaml``: a
category's *synonyms* (names only police data has: "R2R", "Terry stops", "CCRB") decide by
themselves; its *title terms* ("complaints", "citations", "calls for service") also need the
text to speak of police, unless the category is ``police_by_itself`` (nobody else has
officer-involved shootings). A few phrases veto a match outright ("fire department", "bus stops",
"cardiac arrest", "police jury"). Text is matched as words with plurals folded ("Uses of Force"),
camelCase split ("OfficerInvolvedShootings") and, for phrases of three words or more, one extra
word allowed ("Deaths in Sheriff's Custody").

Overlapping names are resolved as a reader would: a phrase inside a longer one belongs to the
longer one ("traffic stops" is not also ``stops``), a narrower category wins over the broader one
it touches ("Hate Crime Incidents" is ``hate_crimes``), and a title that names both vehicle and
pedestrian stops is ``stops`` (mixed kind). The result says what decided it, so a wrong call can
be traced to a phrase.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from catalog.record import CatalogRecord, CategoryAssignment
from catalog.vocabulary import Category, category_vocabulary

# Words that say the text is about police, wherever they appear (folded like the text).
POLICE_CONTEXT = (
    "police",
    "policing",
    "sheriff",
    "law enforcement",
    "officer",
    "patrol",
    "deputy",
    "deputies",
    "trooper",
    "constable",
    "internal affairs",
    "sworn",
    "pd",
    "crime",
    "ripa",
    "racial and identity profiling",
    "racial profiling",
    "stop data",
    "traffic citation",
    "moving violation",
)

# Phrases that make a match meaningless for policing, unless police words are also present.
NOT_POLICE = (
    "fire department",
    "fire incident",
    "fire call",
    "fire and ems",
    "fire ems",
    "fire response",
    "fire prevention",
    "fire inspection",
    "firefighter",
    "ems",
    "emergency medical",
    "cardiac arrest",
    "311",
    "bus stop",
    "transit stop",
    "rail stop",
    "paratransit",
    "stop sign",
    "stop work",
    "building code",
    "code enforcement",
    "code violation",
    "health code",
    "restaurant",
    "food inspection",
    "food establishment",
    "noise complaint",
    "sheriff sale",
    "animal",
    "parking citation",
    "parking ticket",
    "red light camera",
    "speed camera",
    "library",
    "water quality",
    "police jury",  # a Louisiana parish's governing body
)

# Column-name words that say the rows are about officers (so the data is police data).
OFFICER_COLUMN_WORDS = frozenset({"officer", "badge", "deputy", "sworn"})
# A title that names both kinds of stop is a mixed (``stops``) dataset.
VEHICLE_WORDS = ("traffic", "vehicle", "motor vehicle", "driver")
PEDESTRIAN_WORDS = ("pedestrian",)

# Evidence weights: a title naming the category decides it; other fields support it.
W_TITLE = 3.0
W_KEYWORD = 1.5
W_COLUMN = 1.0
W_DESCRIPTION = 0.75
W_LEAD = 0.75  # extra, when the title names nothing and the description's opening names the category
MAX_COLUMN_SCORE = 3.0
THRESHOLD = 1.5
SECONDARY_MIN = 3.0  # without a title hit, a category needs this much other evidence beside one that has one
LEAD_CHARS = 250
# Agency abbreviations such as SPD, FLPD, CMPD, LMPD.
_AGENCY_ABBREVIATION = re.compile(r"^[a-z]{1,5}pd$")
_TOKEN = re.compile(r"[a-z0-9]+")
_KEEP_ENDINGS = ("ss", "us", "is", "ics")


@dataclass(frozen=True)
class Classification:
    police_related: bool
    categories: list[CategoryAssignment] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)

    @property
    def category_ids(self) -> list[str]:
        return [c.category.value for c in self.categories]


@cache
def _fold(word: str) -> str:
    """A light plural fold, predictable on jargon (``ois`` and ``ems`` stay as they are)."""
    if len(word) <= 3 or word.isdigit() or word.endswith(_KEEP_ENDINGS):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


_TAG = re.compile(r"<[^>]+>")
_CAMEL_CASE = re.compile(r"([a-z])([A-Z])")
_NINE_ONE_ONE = re.compile(r"\b9-1-1\b")


def analyze(text: str) -> str:
    """Text as folded lower-case words separated by single spaces (HTML and punctuation dropped)."""
    if "<" in text:
        text = _TAG.sub(" ", text)  # descriptions are often HTML
    if "&" in text:
        text = html.unescape(text)
    text = _CAMEL_CASE.sub(r"\1 \2", text)  # OfficerInvolvedShootings
    if "9-1-1" in text:
        text = _NINE_ONE_ONE.sub("911", text)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = text.lower()
    return " ".join(_fold(w) for w in _TOKEN.findall(text) if w != "s")  # "sheriff's" -> sheriff


@dataclass(frozen=True)
class _Hit:
    phrase: str
    start: int
    end: int
    words: int
    gapped: bool  # matched with a word inserted, so it explains no other phrase


@dataclass(frozen=True)
class _Phrase:
    pattern: re.Pattern[str]
    words: int
    first: str  # a cheap substring test before the regular expression
    every: frozenset[str]  # every word of it: all must be in a text it matches


@cache
def _phrase(phrase: str) -> _Phrase | None:
    words = analyze(phrase).split()
    if not words:
        return None
    sep = r" (?:[a-z0-9]+ )?" if len(words) >= 3 else " "
    pattern = re.compile(r"(?<![a-z0-9])" + sep.join(re.escape(w) for w in words) + r"(?![a-z0-9])")
    return _Phrase(pattern, len(words), words[0], frozenset(words))


class _Words(str):
    """An analysed text that keeps its set of words, worked out once per :func:`classify` call.

    A phrase matches only where its first word is a whole word of the text, so a phrase whose
    first word is not in the set cannot match: one set lookup rules most phrases out."""

    tokens: frozenset[str]

    def __new__(cls, text: str) -> _Words:
        words = super().__new__(cls, text)
        words.tokens = frozenset(text.split())
        return words


def _tokens(text: str) -> frozenset[str]:
    return text.tokens if isinstance(text, _Words) else frozenset(text.split())


class _Phrases:
    """Phrases compiled once and looked up by first word: a phrase matches only where its first
    word is a whole word of the text, so one set intersection rules out most of them."""

    def __init__(self, *parts: Iterable[str]) -> None:
        self.by_first: dict[str, list[tuple[int, str, _Phrase]]] = {}
        for i, phrase in enumerate(p for part in parts for p in part):
            compiled = _phrase(phrase)
            if compiled is not None:
                self.by_first.setdefault(compiled.first, []).append((i, phrase, compiled))
        self.first_words = frozenset(self.by_first)

    def may_match(self, tokens: frozenset[str]) -> bool:
        """Could one of the phrases match a text of these words (all its words are there)?"""
        return any(
            compiled.every <= tokens
            for word in tokens.intersection(self.first_words)
            for _, _, compiled in self.by_first[word]
        )

    def candidates(self, tokens: frozenset[str]) -> list[tuple[int, str, _Phrase]]:
        """The phrases that may match a text of these words, in their listed order."""
        starting = tokens.intersection(self.first_words)
        if not starting:
            return []
        if len(starting) == 1:
            return self.by_first[next(iter(starting))]
        return sorted(c for word in starting for c in self.by_first[word])


def _hits(phrases: _Phrases | Iterable[str], text: str) -> list[_Hit]:
    """Every match of every phrase in ``text``, in the order of ``phrases`` then of the text."""
    out: list[_Hit] = []
    if not text:
        return out
    tokens = _tokens(text)
    if isinstance(phrases, _Phrases):
        candidates = phrases.candidates(tokens)
    else:
        candidates = [(0, p, c) for p in phrases if (c := _phrase(p)) is not None and c.first in tokens]
    for _, phrase, compiled in candidates:
        n = compiled.words
        for m in compiled.pattern.finditer(text):
            out.append(_Hit(phrase, m.start(), m.end(), n, gapped=m.group(0).count(" ") + 1 > n))
    return out


_NOT_POLICE = _Phrases(NOT_POLICE)
_POLICE_CONTEXT = _Phrases(POLICE_CONTEXT)
_VEHICLE = _Phrases(VEHICLE_WORDS)
_PEDESTRIAN = _Phrases(PEDESTRIAN_WORDS)


def _find(phrases: _Phrases | Iterable[str], text: str) -> list[str]:
    return list(dict.fromkeys(h.phrase for h in _hits(phrases, text)))


def _strip(phrases: _Phrases | Iterable[str], text: str) -> str:
    for hit in _hits(phrases, text):
        text = text[: hit.start] + " " * (hit.end - hit.start) + text[hit.end :]
    return text


def _norm_column(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _touch(a: _Hit, b: _Hit) -> bool:
    """Overlapping or next to each other (one space between)."""
    return a.start <= b.end + 1 and b.start <= a.end + 1


def _explained(hit: _Hit, by: _Hit) -> bool:
    """``hit`` lies inside the longer contiguous phrase ``by``."""
    return not by.gapped and by.words > hit.words and by.start <= hit.start and hit.end <= by.end


@dataclass
class _Evidence:
    score: float = 0.0
    notes: list[str] = field(default_factory=list)
    title: list[_Hit] = field(default_factory=list)
    named: bool = False  # a synonym (a police-only name) was found in the title or keywords
    lead: _Hit | None = None  # the first phrase that names it in the description's opening


@dataclass(frozen=True)
class _CategoryPhrases:
    """One category's phrases, compiled for each field they are looked for in."""

    synonyms: _Phrases
    title_terms: _Phrases
    keyword_terms: _Phrases  # title terms and terms
    description: _Phrases  # synonyms and terms
    lead: _Phrases  # synonyms and title terms
    every: _Phrases  # all of its phrases
    columns: frozenset[str]


@cache
def _category_phrases(cat: Category) -> _CategoryPhrases:
    terms = category_vocabulary()[cat]
    groups = (
        _Phrases(terms.synonyms),
        _Phrases(terms.title_terms),
        _Phrases(terms.title_terms, terms.terms),
        _Phrases(terms.synonyms, terms.terms),
        _Phrases(terms.synonyms, terms.title_terms),
    )
    return _CategoryPhrases(
        *groups, every=_Phrases(terms.synonyms, terms.title_terms, terms.terms), columns=frozenset(terms.columns)
    )


def _category_evidence(cat: Category, t: str, k: str, d: str, lead: str, cols: set[str]) -> _Evidence:
    phrases = _category_phrases(cat)
    ev = _Evidence()
    named = _hits(phrases.synonyms, t)
    ev.title = named + _hits(phrases.title_terms, t)
    if ev.title:
        longest = max(ev.title, key=lambda h: (h.words, -h.start))
        ev.score += W_TITLE + 0.1 * longest.words
        ev.notes.append(f"title: {longest.phrase!r}")
    key_named = _find(phrases.synonyms, k)
    key_hits = key_named or _find(phrases.keyword_terms, k)
    if key_hits:
        ev.score += W_KEYWORD
        ev.notes.append(f"keywords: {key_hits[0]!r}")
    ev.named = bool(named or key_named)
    col_hits = sorted(cols.intersection(phrases.columns))
    if col_hits:
        ev.score += min(MAX_COLUMN_SCORE, W_COLUMN * len(col_hits))
        ev.notes.append(f"columns: {', '.join(col_hits[:3])}")
    desc_hits = _find(phrases.description, d)
    if desc_hits:
        ev.score += W_DESCRIPTION
        ev.notes.append(f"description: {desc_hits[0]!r}")
    lead_hits = _hits(phrases.lead, lead)
    ev.lead = min(lead_hits, key=lambda h: h.start) if lead_hits else None
    return ev


def _resolve_overlaps(found: dict[Category, _Evidence]) -> set[Category]:
    """Categories whose title words belong to another category's phrase (see the module doc)."""
    vocab = category_vocabulary()
    dropped: set[Category] = set()
    for cat, ev in found.items():
        if not ev.title:
            continue
        others = [(c, h) for c, e in found.items() if c is not cat for h in e.title]
        if all(any(_explained(hit, by) for _, by in others) for hit in ev.title):
            dropped.add(cat)
        narrower = [h for c, h in others if cat in vocab[c].broader]
        if narrower and all(any(_touch(hit, by) for by in narrower) for hit in ev.title):
            dropped.add(cat)
    return dropped


def classify(
    title: str,
    description: str = "",
    keywords: Sequence[str] = (),
    themes: Sequence[str] = (),
    columns: Sequence[str] = (),
) -> Classification:
    """Decide police-relatedness and categories (best first) from a dataset's metadata."""
    vocab = category_vocabulary()
    t = _Words(analyze(title))
    d = _Words(analyze(description))
    lead = _Words(analyze(_TAG.sub(" ", description).strip()[:LEAD_CHARS]))
    k = _Words(" | ".join(analyze(w) for w in (*keywords, *themes)))  # no phrase spans two keywords
    cols = {_norm_column(c) for c in columns if c}

    tk: str = _Words(f"{t} | {k}")
    vetoes = _find(_NOT_POLICE, tk)
    # Police words inside a vetoed phrase ("sheriff sales") say nothing about policing.
    tk = _strip(_NOT_POLICE, tk)
    # Agency abbreviations (SPD, CMPD) count in the title only: keywords are full of other
    # acronyms (CFTC's "MPD" is its Market Participants Division).
    agencies = [w for w in _strip(_NOT_POLICE, t).split() if _AGENCY_ABBREVIATION.match(w)]
    police_words = _find(_POLICE_CONTEXT, tk) + agencies
    officer_columns = sorted(c for c in cols if OFFICER_COLUMN_WORDS.intersection(c.split("_")))
    police_in_description = _find(_POLICE_CONTEXT, _strip(_NOT_POLICE, d))

    # A category none of whose phrases has all its words in the texts, and none of whose columns
    # are here, has no evidence: most categories of most datasets, skipped with set tests.
    words = _tokens(t) | _tokens(k) | _tokens(d) | _tokens(lead)
    found: dict[Category, _Evidence] = {
        cat: (
            _category_evidence(cat, t, k, d, lead, cols)
            if _category_phrases(cat).every.may_match(words) or not cols.isdisjoint(_category_phrases(cat).columns)
            else _Evidence()
        )
        for cat in vocab
        if cat is not Category.OTHER_POLICING
    }
    leads = [ev.lead.start for ev in found.values() if ev.lead]
    if leads and not any(ev.title for ev in found.values()):
        # A vague title ("Monthly Report"): the category the description's opening names first is
        # what the data is ("Officer-involved shootings investigated by the homicide bureau").
        for ev in found.values():
            if ev.lead and ev.lead.start == min(leads):
                ev.score += W_LEAD
                ev.notes.append(f"description names it first: {ev.lead.phrase!r}")
    found = {cat: ev for cat, ev in found.items() if ev.score >= THRESHOLD}
    for cat in _resolve_overlaps(found):
        del found[cat]

    stop_kinds = (Category.TRAFFIC_STOPS, Category.PEDESTRIAN_STOPS, Category.STOPS)
    if any(found.get(c) and found[c].title for c in stop_kinds) and _find(_VEHICLE, t) and _find(_PEDESTRIAN, t):
        mixed = _Evidence(
            score=max(found[c].score for c in stop_kinds if c in found),
            notes=["title: names vehicle and pedestrian stops"],
            title=[h for c in stop_kinds if c in found for h in found[c].title],
            named=True,
        )
        for c in stop_kinds:
            found.pop(c, None)
        found[Category.STOPS] = mixed

    # When the title names a category, others need more than columns or a word in the description:
    # a stop table's columns (reason_for_stop) do not make a RIPA dataset a traffic-stop one.
    if any(ev.title for ev in found.values()):
        found = {c: ev for c, ev in found.items() if ev.title or ev.score > SECONDARY_MIN}

    # A title that names police-only data speaks of police for its other words too.
    named_police = any(ev.title and (vocab[c].police_by_itself or ev.named) for c, ev in found.items())
    has_context = bool(police_words or officer_columns or named_police or (police_in_description and not vetoes))
    kept = {
        cat: ev
        for cat, ev in found.items()
        if not (vetoes and not police_words) and (vocab[cat].police_by_itself or ev.named or has_context)
    }

    notes: list[str] = []
    if police_words:
        notes.append(f"police context: {', '.join(police_words[:3])}")
    if officer_columns:
        notes.append(f"officer columns: {', '.join(officer_columns[:3])}")
    if vetoes:
        notes.append(f"non-police context: {', '.join(vetoes[:3])}")

    if not kept:
        why = _find(_category_phrases(Category.OTHER_POLICING).lead, tk)  # its synonyms and title terms
        if why or (not vetoes and (police_words or officer_columns)):
            where = "title" if _find(why[:1], t) else "keywords"
            first = f"{where}: {why[0]!r}" if why else "police words without a listed category"
            return Classification(
                police_related=True,
                categories=[
                    CategoryAssignment(
                        category=Category.OTHER_POLICING,
                        confidence=0.5,
                        evidence=[first, *notes, "no listed category matched"],
                    )
                ],
                evidence=notes,
            )
        return Classification(police_related=False, categories=[], evidence=notes)

    ranked = sorted(kept.items(), key=lambda kv: (-kv[1].score, kv[0].value))
    assignments = [
        CategoryAssignment(
            category=cat,
            confidence=round(min(0.99, ev.score / (ev.score + 1.5)), 3),
            evidence=ev.notes + notes,
        )
        for cat, ev in ranked
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
