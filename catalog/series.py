"""Series: periodic releases of the same data, grouped as one.

Departments often publish a new file per period rather than update one: "Use of Force 2019",
"Use of Force 2020", … or "Calls for Service Q1 2021", "2019-2020 Traffic Stops". Seen one by one,
every old file looks stale and a missing new one is not seen at all. Grouped, a researcher sees the
whole run, and the series has one freshness: that of its latest release, judged by the release
cadence when the release itself declares no schedule of its own.

Pure functions. A title is read by :func:`parse_release` into a *stem* (the title with its period
taken out, normalised) and the period it covers. Titles with the same stem and the same kind of
period, within one source and jurisdiction, are one series when there are at least two of them.
"""

from __future__ import annotations

import hashlib
import re
import statistics
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import date

from catalog.freshness import Periodicity, snap_period

_YEAR = r"(?:19|20)\d{2}"
_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MONTH_NAME = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_ORDINAL_Q = {"1st": 1, "first": 1, "2nd": 2, "second": 2, "3rd": 3, "third": 3, "4th": 4, "fourth": 4}

# "2010 - Present", "since 2015": a running dataset, not a release of a period
_RUNNING = re.compile(
    rf"\b{_YEAR}\s*(?:-|–|—|to|thru|through)\s*(?:present|current|date|now|today)\b|\bsince\s+{_YEAR}\b"
)
_RANGE = re.compile(
    rf"(?<![\d/])(?:fy\s*)?(?P<a>{_YEAR})\s*(?:-|–|—|/|\bto\b|\bthru\b|\bthrough\b)\s*(?:fy\s*)?(?P<b>{_YEAR}|\d{{2}})(?![\d/])"
)
_QUARTER = re.compile(
    rf"\bq(?P<q1>[1-4])\s*[-/ ,]?\s*(?P<y1>{_YEAR})\b"
    rf"|\b(?P<y2>{_YEAR})\s*[-/ ]?\s*q(?P<q2>[1-4])\b"
    rf"|\b(?P<ord>1st|2nd|3rd|4th|first|second|third|fourth)\s+quarter\s*(?:of\s+)?,?\s*(?P<y3>{_YEAR})\b"
)
_MONTH = re.compile(
    rf"\b{_MONTH_NAME}\.?\s*,?\s*(?P<y1>{_YEAR})\b|(?<![\d-])(?P<y2>{_YEAR})[-/](?P<m2>0[1-9]|1[0-2])(?![\d-])"
)
_FISCAL_SHORT = re.compile(r"\bfy\s*'?(?P<yy>\d{2})\b")
_YEAR_ALONE = re.compile(rf"(?:\b(?:fy|cy|fiscal year|calendar year)\s*)?(?<!\d)(?P<y>{_YEAR})(?!\d)")
_NON_WORD = re.compile(r"[^0-9a-z]+")


@dataclass(frozen=True)
class Release:
    """What a title says about the period its data covers."""

    stem: str  # the title without its period, lower case, words only: the series key
    name: str  # the title without its period, as written (for display)
    label: str  # the period as written: "2019", "Q1 2020", "2015-2017"
    grain: str  # year, quarter, month or range
    start: date
    end: date


def _stem(title: str, start: int, end: int) -> tuple[str, str]:
    before, after = title[:start], title[end:]
    name = re.sub(r"\s{2,}", " ", f"{before} {after}")
    name = re.sub(r"\(\s*\)|\[\s*\]", "", name)
    name = re.sub(r"[_\s]+(?=\.)|(?<=[_(\[])\s+", "", name).strip(" -–—:,_/()[]")
    name = re.sub(r"\s{2,}", " ", name)
    stem = _NON_WORD.sub(" ", f"{before.lower()} {after.lower()}").strip()
    return stem, name


def _year(text: str) -> int:
    return int(text)


def _range_end(a: int, b: str) -> int:
    if len(b) == 2:  # "2015-16"
        return (a // 100) * 100 + int(b) + (100 if int(b) < a % 100 else 0)
    return int(b)


def parse_release(title: str) -> Release | None:
    """The period a title names, or ``None`` when it names none (or a running span such as
    "2010 - Present"). Tried in order: a year range ("2015-2017", "FY2015-16"), a quarter
    ("Q1 2020", "2020 Q1", "first quarter 2020"), a month ("January 2019", "2019-01"), a fiscal
    year ("FY19") and a year ("2019", "FY 2019")."""
    text = title.lower()
    if _RUNNING.search(text):
        return None
    m = _RANGE.search(text)
    if m is not None:
        a = _year(m.group("a"))
        b = _range_end(a, m.group("b"))
        if b > a and b - a <= 20:
            label = title[m.start() : m.end()].strip()
            stem, name = _stem(title, m.start(), m.end())
            if b == a + 1 and len(m.group("b")) == 2:  # "FY2015-16": one fiscal year
                return Release(stem, name, label, "year", date(a, 7, 1), date(b, 6, 30))
            return Release(stem, name, label, "range", date(a, 1, 1), date(b, 12, 31))
    m = _QUARTER.search(text)
    if m is not None:
        year = _year(m.group("y1") or m.group("y2") or m.group("y3"))
        quarter = int(m.group("q1") or m.group("q2") or _ORDINAL_Q[m.group("ord")])
        start = date(year, 3 * quarter - 2, 1)
        end = date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1)
        stem, name = _stem(title, m.start(), m.end())
        return Release(stem, name, title[m.start() : m.end()].strip(), "quarter", start, _day_before(end))
    m = _MONTH.search(text)
    if m is not None:
        year = _year(m.group("y1") or m.group("y2"))
        month = _MONTHS[m.group("mon")[:3]] if m.group("mon") else int(m.group("m2"))
        start = date(year, month, 1)
        end = date(year + (month == 12), month % 12 + 1, 1)
        stem, name = _stem(title, m.start(), m.end())
        return Release(stem, name, title[m.start() : m.end()].strip(), "month", start, _day_before(end))
    m = _FISCAL_SHORT.search(text)
    if m is not None:
        year = 2000 + int(m.group("yy"))
        stem, name = _stem(title, m.start(), m.end())
        return Release(stem, name, title[m.start() : m.end()].strip(), "year", date(year, 1, 1), date(year, 12, 31))
    years = list(_YEAR_ALONE.finditer(text))
    if len(years) == 1:  # two unrelated years ("2019 report, revised 2021") name no one period
        m = years[0]
        year = _year(m.group("y"))
        stem, name = _stem(title, m.start(), m.end())
        return Release(stem, name, title[m.start() : m.end()].strip(), "year", date(year, 1, 1), date(year, 12, 31))
    return None


def _day_before(day: date) -> date:
    return date.fromordinal(day.toordinal() - 1)


#: release cadence (days) of a series when its members' spacing says nothing better
GRAIN_DAYS = {"year": 365.0, "quarter": 90.0, "month": 30.0}


@dataclass(frozen=True)
class Series:
    """Releases of one data set, oldest first; the last is the latest."""

    id: str
    name: str  # the title without its period (of the latest release)
    grain: str
    members: tuple[str, ...]  # record ids, oldest release first
    labels: tuple[str, ...]  # the period each member covers, as its title writes it
    cadence: Periodicity  # how often a new release comes

    @property
    def latest(self) -> str:
        return self.members[-1]


def series_id(scope: Hashable, grain: str, stem: str) -> str:
    """A stable id: the same scope (source and jurisdiction), kind of period and stem give the same
    id on every harvest. Readable: the stem slugged, then 8 hex digits of a hash."""
    slug = _NON_WORD.sub("-", stem).strip("-")[:80] or "series"
    digest = hashlib.sha1(repr((scope, grain, stem)).encode(), usedforsecurity=False).hexdigest()[:8]
    return f"series-{slug}-{digest}"


def cadence(grain: str, starts: list[date], last: Release) -> Periodicity:
    """How often releases come: the median spacing of the members' periods, rounded to a standard
    period (a biennial report gives ``R/P2Y``); for a single spacing or none, the kind of period."""
    distinct = sorted(set(starts))
    gaps = [(b - a).days for a, b in zip(distinct, distinct[1:], strict=False)]
    if gaps:
        return snap_period(float(statistics.median(gaps)))
    if grain in GRAIN_DAYS:
        return snap_period(GRAIN_DAYS[grain])
    return snap_period(float((last.end - last.start).days + 1))


def group_series(items: Iterable[tuple[str, Hashable, str]]) -> list[Series]:
    """Group ``(record id, scope, title)`` into series: same scope, same kind of period and same
    stem, two releases or more. Records that are no release of a series are left out."""
    groups: dict[tuple[Hashable, str, str], list[tuple[Release, str]]] = defaultdict(list)
    for record_id, scope, title in items:
        release = parse_release(title)
        if release is not None and release.stem:
            groups[(scope, release.grain, release.stem)].append((release, record_id))
    out = []
    for (scope, grain, stem), members in groups.items():
        if len(members) < 2:
            continue
        members.sort(key=lambda m: (m[0].end, m[0].start, m[1]))
        latest = members[-1][0]
        out.append(
            Series(
                id=series_id(scope, grain, stem),
                name=latest.name,
                grain=grain,
                members=tuple(rid for _, rid in members),
                labels=tuple(r.label for r, _ in members),
                cadence=cadence(grain, [r.start for r, _ in members], latest),
            )
        )
    out.sort(key=lambda s: s.id)
    return out
