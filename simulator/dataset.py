"""What the simulator knows about one dataset: served metadata plus ground-truth labels.

:class:`SimDataset` is immutable; a change replaces the object (under the world's lock), so a
request that took a snapshot renders a consistent catalog while another thread mutates it.
The labels ``police`` and ``categories`` are never served over HTTP; they are the truth the
classifier is measured against.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Frequency:
    """A declared update frequency and how each platform spells it."""

    key: str
    days: float | None  # None: no schedule (irregular)
    label: str  # Socrata custom field / CKAN extra value
    iso: str  # DCAT-US accrualPeriodicity


FREQUENCIES: dict[str, Frequency] = {
    f.key: f
    for f in (
        Frequency("daily", 1, "Daily", "R/P1D"),
        Frequency("weekly", 7, "Weekly", "R/P1W"),
        Frequency("monthly", 30, "Monthly", "R/P1M"),
        Frequency("quarterly", 91, "Quarterly", "R/P3M"),
        Frequency("annually", 365, "Annually", "R/P1Y"),
        Frequency("irregular", None, "As needed", "irregular"),
    )
}


@dataclass(frozen=True)
class SimColumn:
    """One column: display name, API field name, Socrata data type name, description."""

    name: str
    field_name: str
    datatype: str  # text, number, calendar_date, checkbox, point, location, url
    description: str = ""


@dataclass(frozen=True)
class SimDataset:
    """One simulated dataset of one portal.

    Ground truth (not served): ``police``, ``categories`` (Category ids), ``kind`` (the vocabulary
    entry it was drawn from), ``jurisdiction`` (the jurisdiction id the data is about, or None for
    statewide data on a shared portal).
    """

    host: str
    platform: str
    remote_id: str  # the key a harvester uses: Socrata 4x4, CKAN package uuid, Hub DCAT identifier URL
    identifier: str  # what the platform serves as the dataset's identifier (== remote_id)
    slug: str  # CKAN name, Hub slug
    title: str
    description: str
    police: bool
    categories: list[str]
    kind: str
    jurisdiction: str | None
    publisher: str
    domain_category: str
    tags: list[str]
    columns: list[SimColumn]
    frequency: str | None  # key of FREQUENCIES, None when the portal declares none
    created_at: datetime
    metadata_updated_at: datetime
    data_updated_at: datetime
    row_count: int
    asset_type: str = "dataset"  # Socrata asset type: dataset, map, chart, filter, href, file
    updating: bool = True  # False: stale, never refreshed whatever its declared frequency
    spatial: bool = False  # a geographic layer (has a location column / geometry)
    year: int | None = None  # the year of a yearly series member
    page_views: int = 0
    download_count: int = 0
    license: str = "public-domain"
    hide_from_data_json: bool = False  # Socrata's "hide from data.json": listed by the catalog API only
    position: int = 0  # creation order within the portal; the stable default order
    # schedule bookkeeping for ``advance``: updates land at update_phase + k * period
    update_phase: datetime | None = None
    rows_per_update: int = 0
    views_per_day: float = 0.0
    base_rows: int = 0
    base_views: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def period(self) -> timedelta | None:
        """The declared update period, or None for irregular / undeclared."""
        freq = FREQUENCIES.get(self.frequency or "")
        return timedelta(days=freq.days) if freq and freq.days else None

    @property
    def updated_at(self) -> datetime:
        """The later of the metadata and data update times (Socrata's ``updatedAt``)."""
        return max(self.metadata_updated_at, self.data_updated_at)


_NON_WORD = re.compile(r"[^0-9a-z]+")


def snake(text: str) -> str:
    """``Subject Perceived Race`` -> ``subject_perceived_race``."""
    return _NON_WORD.sub("_", text.lower()).strip("_")


def slugify(text: str) -> str:
    """``Use of Force 2019`` -> ``use-of-force-2019``."""
    return snake(text).replace("_", "-")
