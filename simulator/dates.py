"""The simulator's clock values and the timestamp spellings each platform uses.

The simulator never reads the wall clock: its "now" starts at :data:`DEFAULT_NOW` (or what the
caller gives) and moves only when a test calls ``advance``, so two runs serve the same bytes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

DEFAULT_NOW = datetime(2026, 11, 1, tzinfo=UTC)
#: the earliest a generated dataset may have been created (open-data portals took off around then)
EARLIEST = datetime(2011, 6, 1, tzinfo=UTC)


def parse_now(value: str | datetime) -> datetime:
    """A timezone-aware UTC datetime from ``2026-11-01T00:00:00Z`` or a datetime."""
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso_z(moment: datetime) -> str:
    """Socrata Discovery / ArcGIS Hub style: ``2025-06-16T13:30:03.000Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def ckan_ts(moment: datetime) -> str:
    """CKAN style, naive UTC with microseconds: ``2017-08-05T03:16:52.857800``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def iso_offset(moment: datetime, micro: bool = False) -> str:
    """OpenDataSoft style, with an explicit offset: ``2020-12-07T05:27:41+00:00`` (or with
    microseconds, as its ``metadata_processed``)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds" if micro else "seconds")


def epoch_ms(moment: datetime) -> int:
    """ArcGIS style: milliseconds since the epoch."""
    return int(moment.timestamp() * 1000)


def epoch(moment: datetime) -> int:
    """Socrata views style: whole seconds since the epoch."""
    return int(moment.timestamp())


def day(moment: datetime) -> str:
    """A calendar date: ``2026-10-31``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


def between(start: datetime, end: datetime, fraction: float) -> datetime:
    """The moment ``fraction`` of the way from ``start`` to ``end``, to the millisecond."""
    if end <= start:
        return start
    span = (end - start).total_seconds()
    return start + timedelta(milliseconds=int(span * fraction * 1000))
