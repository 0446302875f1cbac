"""Freshness rules: periodicity parsing, HDX thresholds, inference from history, statuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from catalog.freshness import (
    HDX_AGING,
    IRREGULAR,
    NEVER,
    PeriodicitySource,
    assess,
    declared_periodicity,
    effective_periodicity,
    infer_periodicity,
    parse_periodicity,
    thresholds,
)
from catalog.vocabulary import FreshnessStatus

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
F, DUE, OVER, DELQ, UNK = (
    FreshnessStatus.FRESH,
    FreshnessStatus.DUE,
    FreshnessStatus.OVERDUE,
    FreshnessStatus.DELINQUENT,
    FreshnessStatus.UNKNOWN,
)


@pytest.mark.parametrize(
    ("value", "iso", "days"),
    [
        ("R/P1D", "R/P1D", 1),
        ("R/P1W", "R/P1W", 7),
        ("R/P2W", "R/P2W", 14),
        ("R/P1M", "R/P1M", 30),
        ("R/P3M", "R/P3M", 90),
        ("R/P6M", "R/P6M", 180),
        ("R/P1Y", "R/P1Y", 365),
        ("R/PT1H", "R/PT1H", 1 / 24),
        ("P1W", "R/P1W", 7),  # a bare duration gains its R/
        ("r/p1m", "R/P1M", 30),
        ("R/P0.5M", "R/P0.5M", 15),
        ("Daily", "R/P1D", 1),
        ("Weekly", "R/P1W", 7),
        ("Monthly", "R/P1M", 30),
        ("Quarterly", "R/P3M", 90),
        ("Annually", "R/P1Y", 365),
        ("Bi-weekly", "R/P2W", 14),
        ("every 4 hours", "R/PT4H", 4 / 24),
        ("http://publications.europa.eu/resource/authority/frequency/MONTHLY", "R/P1M", 30),
        ("As needed", IRREGULAR, None),
        ("irregular", IRREGULAR, None),
        ("Never", NEVER, None),
        ("Historical data, not updated", NEVER, None),
        ("never", NEVER, None),
    ],
)
def test_parse_periodicity(value: str, iso: str, days: float | None) -> None:
    parsed = parse_periodicity(value)
    assert parsed is not None
    assert parsed.value == iso
    assert parsed.days == (pytest.approx(days) if days is not None else None)


@pytest.mark.parametrize("value", [None, "", "   ", "whenever we feel like it", "R/P", "P0D"])
def test_parse_periodicity_gives_none_for_nothing_readable(value: str | None) -> None:
    assert parse_periodicity(value) is None


def test_declared_periodicity_prefers_the_mapped_iso_then_the_portals_words() -> None:
    assert declared_periodicity("R/P1W", "Monthly").value == "R/P1W"  # type: ignore[union-attr]
    assert declared_periodicity(None, "Monthly").value == "R/P1M"  # type: ignore[union-attr]
    assert declared_periodicity(None, "Historical").value == NEVER  # type: ignore[union-attr]
    assert declared_periodicity(None, None) is None


# HDX's table (project_configuration.yaml of OCHA-DAP/hdx-data-freshness): f → due, overdue, delinquent.
HDX_TABLE = [
    (1, 1, 2, 3),
    (2, 2, 4, 6),
    (7, 7, 14, 21),
    (14, 14, 21, 28),
    (30, 30, 44, 60),
    (60, 60, 84, 108),
    (90, 90, 120, 150),
    (120, 120, 147, 174),
    (180, 180, 210, 240),
    (300, 300, 342, 384),
    (365, 365, 425, 455),
    (730, 730, 785, 840),
]


@pytest.mark.parametrize(("f", "due", "overdue", "delinquent"), HDX_TABLE)
def test_thresholds_are_hdx_table(f: int, due: int, overdue: int, delinquent: int) -> None:
    limits = thresholds(f)
    assert (limits.due.days, limits.overdue.days, limits.delinquent.days) == (due, overdue, delinquent)
    assert HDX_AGING[f] == (due, overdue, delinquent)


def test_thresholds_between_rows_and_below_a_day() -> None:
    three_years = thresholds(1095)  # 730 row's margins: +55, +110
    assert (three_years.due.days, three_years.overdue.days, three_years.delinquent.days) == (1095, 1150, 1205)
    half_week = thresholds(3.5)  # 2-day row's margins: +2, +4
    assert half_week.due == timedelta(days=3.5) and half_week.delinquent == timedelta(days=7.5)
    hourly = thresholds(1 / 24)  # judged as daily
    assert hourly == thresholds(1)


@pytest.mark.parametrize(
    ("period", "age_days", "status", "days_overdue"),
    [
        # weekly, the example: due at 7 days, overdue at 14, delinquent at 21
        ("R/P1W", 0, F, 0),
        ("R/P1W", 6.99, F, 0),
        ("R/P1W", 7, DUE, 0),
        ("R/P1W", 13.9, DUE, 6),
        ("R/P1W", 14, OVER, 7),
        ("R/P1W", 20.9, OVER, 13),
        ("R/P1W", 21, DELQ, 14),
        ("R/P1W", 100, DELQ, 93),
        ("R/P1D", 0.5, F, 0),
        ("R/P1D", 1, DUE, 0),
        ("R/P1D", 2, OVER, 1),
        ("R/P1D", 3, DELQ, 2),
        ("R/P1M", 29, F, 0),
        ("R/P1M", 30, DUE, 0),
        ("R/P1M", 44, OVER, 14),
        ("R/P1M", 60, DELQ, 30),
        ("R/P1Y", 364, F, 0),
        ("R/P1Y", 425, OVER, 60),
        ("R/P1Y", 455, DELQ, 90),
        ("R/P1W", -3, F, 0),  # a portal clock ahead of ours is not stale
    ],
)
def test_assess_statuses(period: str, age_days: float, status: FreshnessStatus, days_overdue: int) -> None:
    last = NOW - timedelta(days=age_days)
    result = assess(parse_periodicity(period), last, NOW)
    assert result.status is status
    assert result.days_overdue == days_overdue
    assert result.expected_next_update == last + thresholds(result.periodicity.days).due  # type: ignore[union-attr,arg-type]
    assert result.last_update == last


def test_assess_irregular_never_unknown_and_superseded() -> None:
    long_ago = NOW - timedelta(days=5000)
    irregular = assess(parse_periodicity("As needed"), long_ago, NOW)
    assert irregular.status is F and irregular.expected_next_update is None  # HDX: "As needed" is fresh
    assert assess(parse_periodicity("Never"), long_ago, NOW).status is F  # HDX: "Never" is fresh
    assert assess(None, long_ago, NOW).status is UNK
    assert assess(None, long_ago, NOW).source is PeriodicitySource.NONE
    assert assess(parse_periodicity("R/P1W"), None, NOW).status is UNK  # no update time known
    old = assess(parse_periodicity("R/P1Y"), long_ago, NOW, superseded=True)
    assert old.status is F and old.source is PeriodicitySource.SERIES and old.days_overdue == 0


def _every(days: float, n: int, jitter: float = 0.0) -> list[datetime]:
    start = NOW - timedelta(days=days * n)
    return [start + timedelta(days=days * i + (jitter if i % 2 else -jitter)) for i in range(n)]


@pytest.mark.parametrize(
    ("times", "expected"),
    [
        (_every(1, 10), "R/P1D"),
        (_every(7, 5, jitter=0.5), "R/P1W"),
        (_every(30.4, 6, jitter=2), "R/P1M"),
        (_every(91, 4, jitter=3), "R/P3M"),
        (_every(365, 3), "R/P1Y"),
        (_every(45, 4), "R/P45D"),  # nothing standard near 45 days: whole days
    ],
)
def test_infer_periodicity_from_history(times: list[datetime], expected: str) -> None:
    inferred = infer_periodicity(times)
    assert inferred is not None and inferred.value == expected


def test_inference_needs_three_distinct_updates() -> None:
    assert infer_periodicity([NOW, NOW - timedelta(days=7)]) is None
    # a same-day correction is not an update of its own
    assert infer_periodicity([NOW, NOW - timedelta(hours=2), NOW - timedelta(days=7)]) is None
    assert infer_periodicity([]) is None


def test_effective_periodicity_order() -> None:
    weekly, yearly = parse_periodicity("R/P1W"), parse_periodicity("R/P1Y")
    history = _every(30, 5)
    assert effective_periodicity(weekly, history, yearly) == (weekly, PeriodicitySource.DECLARED)
    # the latest release of a series without a schedule of its own: the release cadence
    assert effective_periodicity(parse_periodicity("irregular"), history, yearly) == (
        yearly,
        PeriodicitySource.SERIES,
    )
    irregular = parse_periodicity("irregular")
    assert effective_periodicity(irregular, history) == (irregular, PeriodicitySource.DECLARED)
    inferred, source = effective_periodicity(None, history)
    assert source is PeriodicitySource.INFERRED and inferred is not None and inferred.value == "R/P1M"
    assert effective_periodicity(None, history[:2]) == (None, PeriodicitySource.NONE)
