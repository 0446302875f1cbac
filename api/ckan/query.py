"""CKAN's ``package_search`` parameters, turned into one of our :class:`SearchQuery` s.

CKAN hands ``q`` and ``fq`` to Solr. We understand the part of that syntax that CKAN clients and
CKAN's own harvester send, over the fields our index can filter on, and refuse the rest with a
Validation Error naming it, rather than ignoring it and answering a different question:

- ``field:value``, ``field:"quoted value"``, ``field:(a OR b)``, ``field:a OR field:b``; clauses
  separated by spaces (or ``AND``) must all hold; a leading ``+`` is allowed;
- fields: ``organization``/``owner_org`` (jurisdiction id), ``groups`` (PDI category id),
  ``tags`` (keyword), ``res_format`` (distribution format), ``state`` (``active``; ``deleted``
  matches nothing, as withdrawn datasets are not listed) and ``metadata_modified:[X TO *]``
  (``X`` an ISO date or date-time, ``*``, ``NOW`` or ``NOW-7DAYS``; the upper bound ``*`` or ``NOW``);
- not supported: negation (``-field:x``, ``NOT``), ``OR`` between different fields, a field in two
  clauses, ranges on other fields, upper date bounds, wildcards in values.

``q`` is free text (``*:*`` or empty: everything); a fielded term in it (``tags:x``) is a filter
like one in ``fq``, and ``text:words`` is plain text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from index.base import SearchQuery, SortOrder

# CKAN field -> our index facet field
FILTER_FIELDS = {
    "organization": "jurisdiction",
    "owner_org": "jurisdiction",
    "groups": "category",
    "tags": "keyword",
    "res_format": "format",
    "state": "status",
}
# what facet.field may name, and the index facet each one counts
FACET_FIELDS = {"organization": "jurisdiction", "groups": "category", "tags": "keyword", "res_format": "format"}
DATE_FIELD = "metadata_modified"
STATES = {"active": "active", "deleted": "withdrawn"}

DEFAULT_ROWS = 10
MAX_ROWS = 1000  # CKAN's default ckan.search.rows_max: more is capped, as CKAN does
DEFAULT_FACET_LIMIT = 50
MAX_FACET_LIMIT = 10_000
DEFAULT_SORT = "score desc, metadata_modified desc"

# sort strings we can honour: the first key picks our order, the rest must agree with its tie-break
_SORTS: dict[str, tuple[SortOrder, tuple[str, ...]]] = {
    "score desc": (SortOrder.RELEVANCE, ("metadata_modified desc",)),
    "metadata_modified desc": (SortOrder.MODIFIED, ("name asc", "id asc")),
    "name asc": (SortOrder.ID, ("id asc",)),
    "id asc": (SortOrder.ID, ("name asc",)),
}
# parameters a client may send that change nothing here (no private or draft datasets exist)
IGNORED_PARAMS = frozenset(
    {"include_private", "include_drafts", "include_deleted", "use_default_schema", "facet", "_", "callback"}
)
SEARCH_PARAMS = frozenset(
    {"q", "fq", "fq_list", "rows", "start", "sort", "facet.field", "facet.limit", "facet.mincount"}
)


class ParameterError(ValueError):
    """A parameter we cannot honour: a CKAN Validation Error on ``field``."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class PackageSearch:
    query: SearchQuery
    rows: int
    start: int
    sort: str
    facet_fields: list[str] = field(default_factory=list)
    facet_mincount: int = 1


# ---- scalars ------------------------------------------------------------------------------------


def natural(data: dict[str, Any], name: str, default: int, maximum: int | None = None) -> int:
    """A non-negative integer parameter; above ``maximum`` it is capped (CKAN's rows_max does so)."""
    raw = data.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        raise ParameterError(name, "Invalid integer")
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ParameterError(name, "Invalid integer") from None
    if value < 0:
        raise ParameterError(name, "Must be a natural number")
    return min(value, maximum) if maximum is not None else value


def boolean(data: dict[str, Any], name: str, default: bool) -> bool:
    raw = data.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ParameterError(name, f"{raw!r} is not a boolean (true or false)")


def string_list(data: dict[str, Any], name: str) -> list[str]:
    """A list parameter given as a JSON list (``["a","b"]``, as CKAN takes it in a URL), a list, or one value."""
    raw = data.get(name)
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("["):
            try:
                raw = json.loads(text)
            except ValueError:
                raise ParameterError(name, "not a JSON list of strings") from None
        else:
            raw = [text]
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise ParameterError(name, "expected a list of strings")
    return [v for v in raw if v]


# ---- sort ---------------------------------------------------------------------------------------


def parse_sort(value: Any) -> tuple[SortOrder, str]:
    """A CKAN sort string (``metadata_modified desc``, ``name asc``, ``score desc`` ...) as our order."""
    if value is None or str(value).strip() == "":
        return SortOrder.RELEVANCE, DEFAULT_SORT
    text = re.sub(r"\s+", " ", str(value).strip().lower())
    keys = [k.strip() for k in text.split(",") if k.strip()]
    first = _SORTS.get(keys[0]) if keys else None
    if first is None or any(k not in first[1] for k in keys[1:]):
        supported = ", ".join(sorted(_SORTS))
        raise ParameterError("sort", f"cannot sort by {value!r}; supported: {supported} (or {DEFAULT_SORT!r})")
    return first[0], ", ".join(keys)


# ---- the query language -------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<open>\()
  | (?P<close>\))
  | (?P<range>[\[{][^\]}]*[\]}])
  | (?P<quoted>"(?:[^"\\]|\\.)*")
  | (?P<word>(?:[^\s()"\\\[\]{}]|\\.)+)
    """,
    re.VERBOSE,
)
_FIELD = re.compile(r"^(?P<sign>[+-]?)(?P<field>[A-Za-z_][A-Za-z0-9_.]*):(?P<rest>.*)$", re.DOTALL)
_NOW = re.compile(r"^NOW(?:/DAY)?(?:-(?P<n>\d+)(?P<unit>MINUTES?|HOURS?|DAYS?))?(?:/DAY)?$")


@dataclass
class _Term:
    field: str
    values: list[str]
    is_range: bool = False


def _tokens(text: str, where: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ParameterError(where, f"cannot read {text[pos : pos + 30]!r}")
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append((kind, m.group()))
        pos = m.end()
    return out


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


class _Parser:
    """Reads ``clause (AND? clause)*`` where a clause is ``term (OR term)*`` over one field."""

    def __init__(self, text: str, where: str) -> None:
        self.where = where
        self.toks = _tokens(text, where)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def at_or(self) -> bool:
        tok = self.peek()
        return tok is not None and tok[1] in ("OR", "||")

    def take(self) -> tuple[str, str]:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def fail(self, message: str) -> ParameterError:
        return ParameterError(self.where, message)

    def clauses(self, words: list[str] | None = None) -> list[_Term]:
        """Every clause; bare words (in ``q``) go to ``words``, in ``fq`` they are an error."""
        out: list[_Term] = []
        while (tok := self.peek()) is not None:
            kind, text = tok
            if kind == "word" and text in ("AND", "&&"):
                self.take()
                continue
            if kind == "word" and text in ("NOT", "!"):
                raise self.fail("negation (NOT, -field:value) is not supported")
            if kind == "word" and text in ("OR", "||"):
                raise self.fail("OR must stand between two clauses of one field")
            if (kind == "word" and _FIELD.match(text) is None) or kind == "quoted":
                if words is None:
                    raise self.fail(f"{text!r} is not a field:value clause")
                self.take()
                words.append(_unescape(text.strip('"')) if kind == "quoted" else text)
                continue
            out.append(self.clause())
        return out

    def clause(self) -> _Term:
        term = self.term()
        while self.at_or():
            self.take()
            other = self.term()
            if other.field != term.field or other.is_range or term.is_range:
                raise self.fail(f"OR joins values of one field only ({term.field} OR {other.field})")
            term.values += other.values
        return term

    def term(self) -> _Term:
        tok = self.peek()
        if tok is None:
            raise self.fail("a clause is missing at the end")
        kind, text = self.take()
        if kind == "open":
            term = self.clause()
            if self.peek() is None or self.take()[0] != "close":
                raise self.fail("a parenthesis is not closed")
            return term
        m = _FIELD.match(text) if kind == "word" else None
        if m is None:
            raise self.fail(f"{text!r} is not a field:value clause")
        if m.group("sign") == "-":
            raise self.fail("negation (NOT, -field:value) is not supported")
        name, rest = m.group("field"), m.group("rest")
        if rest:
            return _Term(name, [self.value(rest)])
        nxt = self.peek()
        if nxt is None:
            raise self.fail(f"{name}: has no value")
        kind, text = self.take()
        if kind == "quoted":
            return _Term(name, [_unescape(text[1:-1])])
        if kind == "range":
            return _Term(name, [text], is_range=True)
        if kind == "open":
            values = [self.bare_value()]
            while self.at_or():
                self.take()
                values.append(self.bare_value())
            if self.peek() is None or self.take()[0] != "close":
                raise self.fail(f"{name}:( ... ) is not closed, or joins values with something other than OR")
            return _Term(name, values)
        raise self.fail(f"{name}: has no value")

    def bare_value(self) -> str:
        if self.peek() is None:
            raise self.fail("a value is missing")
        kind, text = self.take()
        if kind == "quoted":
            return _unescape(text[1:-1])
        if kind == "word" and text not in ("AND", "OR", "NOT"):
            return self.value(text)
        raise self.fail(f"{text!r} is not a value")

    def value(self, text: str) -> str:
        if re.search(r"(?<!\\)[*?]", text) and text != "*":
            raise self.fail(f"wildcards are not supported ({text!r})")
        return _unescape(text)


def _when(value: str, where: str, now: datetime) -> datetime | None:
    value = value.strip()
    if value == "*":
        return None
    m = _NOW.match(value.upper())
    if m:
        when = now
        if m.group("n"):
            unit = m.group("unit").rstrip("S").lower() + "s"
            when = now - timedelta(**{unit: int(m.group("n"))})
        if "/DAY" in value.upper():  # Solr's rounding down to the start of the day
            when = when.replace(hour=0, minute=0, second=0, microsecond=0)
        return when
    try:
        if len(value) == 10:
            d = date.fromisoformat(value)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ParameterError(where, f"{value!r} is not a date (ISO 8601, *, NOW or NOW-7DAYS)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _date_range(text: str, where: str, now: datetime) -> datetime | None:
    m = re.match(r"^\[\s*(?P<lo>\S+)\s+TO\s+(?P<hi>\S+)\s*\]$", text)
    if m is None:
        raise ParameterError(where, f"{DATE_FIELD}: expected [FROM TO *] (inclusive), got {text!r}")
    if m.group("hi") not in ("*", "NOW"):
        raise ParameterError(where, f"{DATE_FIELD}: only open ranges [FROM TO *] are supported, got {text!r}")
    return _when(m.group("lo"), where, now)


@dataclass
class _Filters:
    filters: dict[str, list[str]] = field(default_factory=dict)
    modified_after: datetime | None = None
    seen: set[str] = field(default_factory=set)


def _apply(terms: list[_Term], where: str, out: _Filters, now: datetime) -> None:
    for term in terms:
        key = "owner_org" if term.field == "organization" else term.field  # one field, two names
        if key in out.seen:
            raise ParameterError(
                where, f"{term.field} appears in two clauses; a dataset matches one of a field's values: join with OR"
            )
        out.seen.add(key)
        if term.field == DATE_FIELD:
            if not term.is_range:
                raise ParameterError(where, f"{DATE_FIELD}: expected a range [FROM TO *]")
            out.modified_after = _date_range(term.values[0], where, now)
            continue
        target = FILTER_FIELDS.get(term.field)
        if target is None:
            known = ", ".join([*sorted(FILTER_FIELDS), DATE_FIELD])
            raise ParameterError(where, f"cannot filter on {term.field!r}; supported fields: {known}")
        if term.is_range:
            raise ParameterError(where, f"{term.field}: ranges are supported on {DATE_FIELD} only")
        values = term.values
        if target == "format":
            values = [v.upper() for v in values]
        elif target == "status":
            unknown = [v for v in values if v not in STATES]
            if unknown:
                raise ParameterError(where, f"state: {', '.join(unknown)} is not active or deleted")
            values = [STATES[v] for v in values]
        out.filters[target] = list(dict.fromkeys(values))


def parse_filters(
    q: str | None, fq: list[str], now: datetime
) -> tuple[str | None, dict[str, list[str]], datetime | None]:
    """``q`` and ``fq`` as (free text, index filters, modified-after)."""
    out = _Filters()
    text: str | None = None
    if q is not None and q.strip() and q.strip() != "*:*":
        words: list[str] = []
        terms = _Parser(q, "q").clauses(words)
        free: list[str] = []
        for term in terms:
            if term.field == "text":
                free += term.values
            else:
                _apply([term], "q", out, now)
        text = " ".join([*words, *free]).strip() or None
    for clause in fq:
        if clause.strip() in ("", "*:*"):
            continue
        _apply(_Parser(clause, "fq").clauses(), "fq", out, now)
    out.filters.setdefault("status", ["active"])
    return text, out.filters, out.modified_after


def parse_package_search(data: dict[str, Any], now: datetime | None = None) -> PackageSearch:
    """Every ``package_search`` parameter checked; an unknown one is an error, not ignored."""
    unknown = sorted(k for k in data if k not in SEARCH_PARAMS and k not in IGNORED_PARAMS and not k.startswith("ext_"))
    if unknown:
        raise ParameterError(unknown[0], f"The input field {unknown[0]} was not expected.")
    q = data.get("q")
    if q is not None and not isinstance(q, str):
        raise ParameterError("q", "expected a string")
    if isinstance(q, str) and len(q) > 1000:
        raise ParameterError("q", "longer than 1000 characters")
    fq_raw = data.get("fq")
    if fq_raw is not None and not isinstance(fq_raw, str):
        raise ParameterError("fq", "expected a string")
    fq = [fq_raw] if fq_raw else []
    fq += string_list(data, "fq_list")
    text, filters, modified_after = parse_filters(q, fq, now or datetime.now(UTC))
    sort, sort_text = parse_sort(data.get("sort"))
    rows = natural(data, "rows", DEFAULT_ROWS, MAX_ROWS)
    start = natural(data, "start", 0)
    facet_fields = string_list(data, "facet.field")
    bad = [f for f in facet_fields if f not in FACET_FIELDS]
    if bad:
        raise ParameterError("facet.field", f"cannot count {', '.join(bad)}; supported: {', '.join(FACET_FIELDS)}")
    raw_limit = data.get("facet.limit")
    limit = MAX_FACET_LIMIT if str(raw_limit).strip() == "-1" else natural(data, "facet.limit", DEFAULT_FACET_LIMIT)
    mincount = natural(data, "facet.mincount", 1)
    query = SearchQuery(
        q=text,
        filters=filters,
        modified_after=modified_after,
        sort=sort,
        size=rows,
        offset=start,
        facet_size=min(limit, MAX_FACET_LIMIT) if facet_fields else 0,
    )
    return PackageSearch(
        query=query,
        rows=rows,
        start=start,
        sort=sort_text,
        facet_fields=list(dict.fromkeys(facet_fields)),
        facet_mincount=max(mincount, 1),
    )
