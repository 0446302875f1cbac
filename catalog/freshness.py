"""Freshness: how a record's last data update compares with its update period.

Pure functions, no I/O: the caller passes ``now``, so a status can be computed at read time (it
changes with the clock even when nothing is harvested) and tests can pin the clock.

**Statuses** follow the Humanitarian Data Exchange (HDX) data-freshness service, which judges a
dataset's age (now − last update) against its expected update frequency ``f``:

* ``fresh`` while the age is below ``f``;
* ``due`` from ``f`` on;
* ``overdue`` from ``f`` + a margin;
* ``delinquent`` from ``f`` + a larger margin.

The thresholds are HDX's own table (``aging`` in ``src/hdx/freshness/app/project_configuration.yaml``
of OCHA-DAP/hdx-data-freshness, applied by ``calculate_freshness`` in ``datafreshness.py`` with
``age >= threshold``; described on the HDX wiki page "Data Freshness"), in days:

=========  ====  =======  ==========
f (days)   due   overdue  delinquent
=========  ====  =======  ==========
1 (daily)  1     2        3
2          2     4        6
7 (weekly) 7     14       21
14         14    21       28
30 (month) 30    44       60
60         60    84       108
90 (qtr)   90    120      150
120        120   147      174
180        180   210      240
300        300   342      384
365 (year) 365   425      455
730        730   785      840
=========  ====  =======  ==========

HDX treats "Live", "As needed" and "Never" frequencies as always fresh; so do we for ``irregular``
("As needed") and for text saying the data is never updated. Where we go beyond HDX, we say so:

* a period between two rows takes ``due = f`` and the margins of the row below it (``R/P3Y`` uses
  the 730-day row's +55/+110); a period shorter than a day (hourly, real-time) is judged as daily:
  HDX calls real-time data "Live" and never checks it, but we do have its last update time;
* ``unknown`` when no period is declared and none can be inferred, or no update time is known.

``R/P1M`` counts as 30 days and ``R/P1Y`` as 365, as HDX's monthly and yearly rows do.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from catalog.record import CatalogRecord
from catalog.vocabulary import FreshnessStatus

# --------------------------------------------------------------------------------------------------
# Periodicity
# --------------------------------------------------------------------------------------------------

IRREGULAR = "irregular"
NEVER = "never"  # ours, not DCAT's: the portal says the data is not updated any more

# The DCAT-US 1.1 schema's pattern for accrualPeriodicity (catalog/schemas), less the "R/" it adds.
_ISO = re.compile(
    r"^R/P(?:(?P<Y>\d+(?:\.\d+)?)Y)?(?:(?P<M>\d+(?:\.\d+)?)M)?(?:(?P<W>\d+(?:\.\d+)?)W)?(?:(?P<D>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
_DAYS_PER = {"Y": 365.0, "M": 30.0, "W": 7.0, "D": 1.0, "h": 1 / 24, "m": 1 / 1440, "s": 1 / 86400}

_NO_PERIOD = re.compile(
    r"\b(never|not (?:be )?updated|no longer (?:being )?updated|static|historical|one[- ]time|"
    r"none|n/a|discontinued|archived?)\b"
)
_EVERY_N = re.compile(r"\b(?:every\s+)?(\d+(?:\.\d+)?)\s*[- ]?\s*(minute|min|hour|hr|day|week|month|year)s?\b")
_EVERY_ONE = re.compile(r"\bevery\s+(minute|hour|day|week|month|year)\b")
_UNIT = {
    "minute": "PT{}M",
    "min": "PT{}M",
    "hour": "PT{}H",
    "hr": "PT{}H",
    "day": "P{}D",
    "week": "P{}W",
    "month": "P{}M",
    "year": "P{}Y",
}
# Free-text frequencies, specific words before the words they contain ("bi-weekly" before
# "weekly"). Rendered into docs/mapping.md (by way of harvesters.convert).
PERIOD_WORDS: tuple[tuple[str, str], ...] = (
    ("semi-annually", "R/P6M"),
    ("semi-annual", "R/P6M"),
    ("semiannually", "R/P6M"),
    ("semiannual", "R/P6M"),
    ("biannually", "R/P6M"),
    ("biannual", "R/P6M"),
    ("twice a year", "R/P6M"),
    ("bi-weekly", "R/P2W"),
    ("biweekly", "R/P2W"),
    ("fortnightly", "R/P2W"),
    ("every two weeks", "R/P2W"),
    ("semi-weekly", "R/P3.5D"),
    ("semiweekly", "R/P3.5D"),
    ("twice a week", "R/P3.5D"),
    ("semi-monthly", "R/P0.5M"),
    ("semimonthly", "R/P0.5M"),
    ("twice a month", "R/P0.5M"),
    ("bi-monthly", "R/P2M"),
    ("bimonthly", "R/P2M"),
    ("biennially", "R/P2Y"),
    ("biennial", "R/P2Y"),
    ("triennial", "R/P3Y"),
    ("decennial", "R/P10Y"),
    ("quarterly", "R/P3M"),
    ("hourly", "R/PT1H"),
    ("daily", "R/P1D"),
    ("nightly", "R/P1D"),
    ("weekdays", "R/P1D"),
    ("weekly", "R/P1W"),
    ("monthly", "R/P1M"),
    ("annually", "R/P1Y"),
    ("annual", "R/P1Y"),
    ("yearly", "R/P1Y"),
    ("continuously", "R/PT1S"),
    ("continuous", "R/PT1S"),
    ("real-time", "R/PT1S"),
    ("real time", "R/PT1S"),
    ("realtime", "R/PT1S"),
    ("streaming", "R/PT1S"),
    ("as needed", IRREGULAR),
    ("as necessary", IRREGULAR),
    ("as available", IRREGULAR),
    ("when available", IRREGULAR),
    ("irregularly", IRREGULAR),
    ("irregular", IRREGULAR),
    ("ad hoc", IRREGULAR),
    ("ad-hoc", IRREGULAR),
    ("periodically", IRREGULAR),
    ("periodic", IRREGULAR),
    ("varies", IRREGULAR),
    ("sporadically", IRREGULAR),
)
_PERIOD_WORD_PATTERNS = tuple((re.compile(rf"\b{re.escape(w)}\b"), iso) for w, iso in PERIOD_WORDS)


def _words(text: str) -> str:
    words = text.strip().lower()
    if words.startswith(("http://", "https://")):  # a vocabulary URI: …/frequency/MONTHLY
        words = words.rstrip("/").rsplit("/", 1)[-1]
    return re.sub(r"\s+", " ", words.replace("_", " ")).strip()


def says_never_updated(text: str) -> bool:
    """True when a portal's frequency text says the data is not updated (``Never``, ``Historical``)."""
    return bool(_NO_PERIOD.search(_words(text)))


def periodicity_from_words(text: str) -> str | None:
    """An ISO 8601 repeating duration or ``irregular`` from a portal's frequency words.

    ``Daily`` → ``R/P1D``, ``Weekly`` → ``R/P1W``, ``Quarterly`` → ``R/P3M``, ``Annually`` →
    ``R/P1Y``, ``every 4 hours`` → ``R/PT4H``, ``As needed`` → ``irregular``; vocabulary URIs by
    their last segment. Text saying the data is not updated (see :func:`says_never_updated`) and
    text it cannot read give ``None``.
    """
    words = _words(text)
    if not words or _NO_PERIOD.search(words):
        return None
    # Words first: in "updated daily with a 2 day lag" the period is the word, not the number.
    for pattern, iso in _PERIOD_WORD_PATTERNS:
        if pattern.search(words):
            return iso
    every_one = _EVERY_ONE.search(words)
    if every_one:
        return "R/" + _UNIT[every_one.group(1)].format(1)
    every_n = _EVERY_N.search(words)
    if every_n:
        amount = every_n.group(1).removesuffix(".0")
        candidate = "R/" + _UNIT[every_n.group(2)].format(amount)
        if iso_period_days(candidate):
            return candidate
    return None


def iso_period_days(value: str) -> float | None:
    """The length in days of an ISO 8601 repeating duration (``R/P1W`` → 7.0), else ``None``.

    Months count 30 days and years 365, as in HDX's table; a zero duration gives ``None``.
    """
    match = _ISO.match(_normalise_iso(value))
    if match is None:
        return None
    days = sum(float(v) * _DAYS_PER[k] for k, v in match.groupdict().items() if v is not None)
    return days if days > 0 else None


def _normalise_iso(value: str) -> str:
    raw = value.strip().upper()
    if raw.startswith("P"):
        raw = "R/" + raw
    return raw


@dataclass(frozen=True)
class Periodicity:
    """An update period: an ISO 8601 repeating duration (``R/P1W``), ``irregular`` or ``never``."""

    value: str
    days: float | None = None  # length of the period; None for irregular / never

    @property
    def scheduled(self) -> bool:
        return self.days is not None


def parse_periodicity(value: str | None) -> Periodicity | None:
    """A periodicity from what a record holds: an ISO duration (``R/P1M``; a bare ``P1M`` too),
    ``irregular``, ``never``, a frequency vocabulary URI, or a platform's words (``Daily``,
    ``Weekly``, ``Monthly``, ``Quarterly``, ``Annually``, ``As needed``, ``Historical``).
    ``None`` when there is nothing to read."""
    if value is None or not value.strip():
        return None
    raw = value.strip()
    if raw.lower() == IRREGULAR:
        return Periodicity(IRREGULAR)
    if raw.lower() == NEVER:
        return Periodicity(NEVER)
    iso = _normalise_iso(raw)
    days = iso_period_days(iso)
    if days is not None:
        return Periodicity(iso, days)
    if says_never_updated(raw):
        return Periodicity(NEVER)
    words = periodicity_from_words(raw)
    if words == IRREGULAR:
        return Periodicity(IRREGULAR)
    if words is not None:
        return Periodicity(words, iso_period_days(words))
    return None


def declared_periodicity(accrual_periodicity: str | None, declared_frequency: str | None) -> Periodicity | None:
    """The period a record declares: its mapped ``accrual_periodicity``, else the portal's own
    words (``declared_frequency``), which may say ``Never``."""
    return parse_periodicity(accrual_periodicity) or parse_periodicity(declared_frequency)


# --------------------------------------------------------------------------------------------------
# Thresholds (HDX)
# --------------------------------------------------------------------------------------------------

#: HDX's aging table: update frequency in days → (due, overdue, delinquent) ages in days.
HDX_AGING: dict[int, tuple[int, int, int]] = {
    1: (1, 2, 3),
    2: (2, 4, 6),
    7: (7, 14, 21),
    14: (14, 21, 28),
    30: (30, 44, 60),
    60: (60, 84, 108),
    90: (90, 120, 150),
    120: (120, 147, 174),
    180: (180, 210, 240),
    300: (300, 342, 384),
    365: (365, 425, 455),
    730: (730, 785, 840),
}


@dataclass(frozen=True)
class Thresholds:
    """Ages at which a record becomes due, overdue and delinquent."""

    due: timedelta
    overdue: timedelta
    delinquent: timedelta


def thresholds(period_days: float) -> Thresholds:
    """The HDX thresholds for a period of ``period_days`` (see the module docstring for periods
    between HDX's rows and shorter than a day)."""
    days = max(1.0, period_days)
    row = HDX_AGING.get(round(days)) if math.isclose(days, round(days)) else None
    if row is not None:
        due, overdue, delinquent = (float(x) for x in row)
    else:
        base = max((f for f in HDX_AGING if f <= days), default=1)
        _, over, delin = HDX_AGING[base]
        due, overdue, delinquent = days, days + (over - base), days + (delin - base)
    return Thresholds(timedelta(days=due), timedelta(days=overdue), timedelta(days=delinquent))


# --------------------------------------------------------------------------------------------------
# Inference from a record's history
# --------------------------------------------------------------------------------------------------

#: periods an inferred cadence is rounded to when close enough (ISO, days)
STANDARD_PERIODS: tuple[tuple[str, float], ...] = (
    ("R/P1D", 1),
    ("R/P1W", 7),
    ("R/P2W", 14),
    ("R/P1M", 30),
    ("R/P2M", 60),
    ("R/P3M", 90),
    ("R/P4M", 120),
    ("R/P6M", 180),
    ("R/P1Y", 365),
    ("R/P2Y", 730),
)
#: an inferred cadence within this factor of a standard period is rounded to it
SNAP_FACTOR = 1.25
#: updates closer together than this are one update (a correction the same day)
SAME_UPDATE = timedelta(hours=12)
#: the fewest update times (two intervals) a period is inferred from
MIN_UPDATES = 3


def snap_period(days: float) -> Periodicity:
    """A period of about ``days``: the nearest standard period when within :data:`SNAP_FACTOR`,
    else whole days (at least one)."""
    iso, std = min(STANDARD_PERIODS, key=lambda p: abs(math.log(days / p[1])) if days > 0 else math.inf)
    if days > 0 and max(days / std, std / days) <= SNAP_FACTOR:
        return Periodicity(iso, std)
    whole = max(1, round(days))
    return Periodicity(f"R/P{whole}D", float(whole))


def infer_periodicity(update_times: Iterable[datetime]) -> Periodicity | None:
    """The update period a record shows in its history of data-update times, or ``None``.

    Needs :data:`MIN_UPDATES` distinct updates; the period is the median interval, rounded to a
    standard period when close. We only see the updates our harvests saw, so a dataset updated
    daily but harvested weekly shows a weekly period: never a stricter one than it has.
    """
    times = sorted(set(update_times))
    distinct: list[datetime] = []
    for t in times:
        if not distinct or t - distinct[-1] >= SAME_UPDATE:
            distinct.append(t)
    if len(distinct) < MIN_UPDATES:
        return None
    gaps = [(b - a).total_seconds() / 86400 for a, b in zip(distinct, distinct[1:], strict=False)]
    return snap_period(max(statistics.median(gaps), 1.0))


# --------------------------------------------------------------------------------------------------
# Assessment
# --------------------------------------------------------------------------------------------------


def parse_when(value: Any) -> datetime | None:
    """An ISO 8601 date or date-time as stored (UTC when it has no offset); anything else, such as
    a repeating duration in ``modified``, gives ``None``."""
    if not isinstance(value, str) or not value or value[:1] in ("R", "P"):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def last_update_of(data: Mapping[str, Any]) -> datetime | None:
    """When a record's data last changed, from its stored JSON (DCAT-US with ``pdi``): the portal's
    data-update time, else its metadata time, else DCAT ``modified`` (when a date). HDX, too,
    counts a metadata change as an update when nothing better is known."""
    fresh = (data.get("pdi") or {}).get("freshness") or {}
    for value in (fresh.get("last_data_update"), fresh.get("last_metadata_update"), data.get("modified")):
        when = parse_when(value)
        if when is not None:
            return when
    return None


class PeriodicitySource(StrEnum):
    """Where the period a record is judged by came from."""

    DECLARED = "declared"  # the portal declares it (accrualPeriodicity, its frequency field)
    INFERRED = "inferred"  # from the intervals between the updates our harvests saw
    SERIES = "series"  # the release cadence of the series the record belongs to
    NONE = "none"


@dataclass(frozen=True)
class Assessment:
    """A record's freshness at one moment."""

    status: FreshnessStatus
    periodicity: Periodicity | None
    source: PeriodicitySource
    last_update: datetime | None
    expected_next_update: datetime | None
    days_overdue: int  # whole days past the expected next update (0 when not past it)


def assess(
    periodicity: Periodicity | None,
    last_update: datetime | None,
    now: datetime,
    *,
    source: PeriodicitySource = PeriodicitySource.DECLARED,
    superseded: bool = False,
) -> Assessment:
    """The status at ``now`` of data last updated at ``last_update`` with ``periodicity``.

    ``superseded``: an older release of a series that has a newer one. It is final, like data
    declared never to be updated, so it is fresh (HDX's rule for "Never"); the series' latest
    release carries the series' status, so a stale series counts once.
    """
    if periodicity is None:
        source = PeriodicitySource.NONE
    if superseded:
        return Assessment(FreshnessStatus.FRESH, periodicity, PeriodicitySource.SERIES, last_update, None, 0)
    if periodicity is None:
        return Assessment(FreshnessStatus.UNKNOWN, None, source, last_update, None, 0)
    if periodicity.days is None:  # irregular ("as needed") or never: HDX calls these fresh
        return Assessment(FreshnessStatus.FRESH, periodicity, source, last_update, None, 0)
    if last_update is None:
        return Assessment(FreshnessStatus.UNKNOWN, periodicity, source, None, None, 0)
    limits = thresholds(periodicity.days)
    age = now - last_update
    if age >= limits.delinquent:
        status = FreshnessStatus.DELINQUENT
    elif age >= limits.overdue:
        status = FreshnessStatus.OVERDUE
    elif age >= limits.due:
        status = FreshnessStatus.DUE
    else:
        status = FreshnessStatus.FRESH
    expected = last_update + limits.due
    late = now - expected
    days_overdue = int(late.total_seconds() // 86400) if late > timedelta(0) else 0
    return Assessment(status, periodicity, source, last_update, expected, days_overdue)


#: staleness order of the statuses, worst first (the order of /api/freshness)
STALE_ORDER: tuple[FreshnessStatus, ...] = (
    FreshnessStatus.DELINQUENT,
    FreshnessStatus.OVERDUE,
    FreshnessStatus.DUE,
    FreshnessStatus.FRESH,
    FreshnessStatus.UNKNOWN,
)


def effective_periodicity(
    declared: Periodicity | None,
    update_times: Iterable[datetime] = (),
    series_cadence: Periodicity | None = None,
) -> tuple[Periodicity | None, PeriodicitySource]:
    """The period a record is judged by, and where it came from.

    A declared schedule wins. The latest release of a series without a schedule of its own is
    judged by the series' release cadence (a new release is what is due). A declared
    ``irregular``/``never`` is taken at its word. Otherwise the period is inferred from the
    record's update history, if it shows one.
    """
    if declared is not None and declared.scheduled:
        return declared, PeriodicitySource.DECLARED
    if series_cadence is not None:
        return series_cadence, PeriodicitySource.SERIES
    if declared is not None:
        return declared, PeriodicitySource.DECLARED
    inferred = infer_periodicity(update_times)
    if inferred is not None:
        return inferred, PeriodicitySource.INFERRED
    return None, PeriodicitySource.NONE


def assess_record(record: CatalogRecord, now: datetime) -> Assessment:
    """A record's freshness from the record alone: its declared period and last update. (Inferred
    periods and series need the store; see ``store/coverage.py``.)"""
    fresh = record.pdi.freshness
    return assess(
        declared_periodicity(fresh.accrual_periodicity, fresh.declared_frequency),
        last_update_of(record.model_dump(mode="json", by_alias=True)),
        now,
    )
