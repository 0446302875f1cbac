"""Series: periodic releases grouped by title, with a stable id and a release cadence."""

from __future__ import annotations

from datetime import date

import pytest

from catalog.series import group_series, parse_release


@pytest.mark.parametrize(
    ("title", "stem", "label", "grain", "start", "end"),
    [
        ("Use of Force 2019", "use of force", "2019", "year", date(2019, 1, 1), date(2019, 12, 31)),
        ("2019 APD Use of Force Data", "apd use of force data", "2019", "year", date(2019, 1, 1), date(2019, 12, 31)),
        ("Use of Force - 2020", "use of force", "2020", "year", date(2020, 1, 1), date(2020, 12, 31)),
        ("FY 2021 Citations", "citations", "FY 2021", "year", date(2021, 1, 1), date(2021, 12, 31)),
        ("FY19 Citations", "citations", "FY19", "year", date(2019, 1, 1), date(2019, 12, 31)),
        ("FY2015-16 Traffic Stops", "traffic stops", "FY2015-16", "year", date(2015, 7, 1), date(2016, 6, 30)),
        (
            "Police Use of Force 2015-2017",
            "police use of force",
            "2015-2017",
            "range",
            date(2015, 1, 1),
            date(2017, 12, 31),
        ),
        ("Calls for Service Q1 2021", "calls for service", "Q1 2021", "quarter", date(2021, 1, 1), date(2021, 3, 31)),
        ("Calls for Service 2021 Q4", "calls for service", "2021 Q4", "quarter", date(2021, 10, 1), date(2021, 12, 31)),
        (
            "Fourth Quarter of 2019 Complaints",
            "complaints",
            "Fourth Quarter of 2019",
            "quarter",
            date(2019, 10, 1),
            date(2019, 12, 31),
        ),
        ("Crime Data January 2019", "crime data", "January 2019", "month", date(2019, 1, 1), date(2019, 1, 31)),
        ("Crime Data (2019-02)", "crime data", "2019-02", "month", date(2019, 2, 1), date(2019, 2, 28)),
        (
            "Stop, Question and Frisk Data 2019",
            "stop question and frisk data",
            "2019",
            "year",
            date(2019, 1, 1),
            date(2019, 12, 31),
        ),
    ],
)
def test_parse_release(title: str, stem: str, label: str, grain: str, start: date, end: date) -> None:
    release = parse_release(title)
    assert release is not None
    assert (release.stem, release.label, release.grain, release.start, release.end) == (stem, label, grain, start, end)


@pytest.mark.parametrize(
    "title",
    [
        "Officer Involved Shootings",
        "OIS Incidents (2010 - Present)",  # a running dataset, not a release of one period
        "Arrests since 2015",
        "Employee Demographics 2019 (revised 2021)",  # two unrelated years name no one period
        "911 Calls for Service",
    ],
)
def test_titles_that_name_no_release(title: str) -> None:
    assert parse_release(title) is None


def test_yearly_releases_are_one_series_per_source_and_jurisdiction() -> None:
    items = [
        ("uof-2019", ("socrata:data.seattle.gov", "seattle-wa"), "Use of Force 2019"),
        ("uof-2021", ("socrata:data.seattle.gov", "seattle-wa"), "Use of Force 2021"),
        ("uof-2020", ("socrata:data.seattle.gov", "seattle-wa"), "Use of Force 2020"),
        ("uof-chart-2020", ("socrata:data.seattle.gov", "seattle-wa"), "Use of Force 2020 by Month"),
        ("other-city", ("socrata:data.seattle.gov", "tacoma-wa"), "Use of Force 2022"),
        ("lone", ("socrata:data.seattle.gov", "seattle-wa"), "Arrests 2020"),
        ("cfs-q1", ("ckan:x", "a"), "Calls for Service Q1 2021"),
        ("cfs-q2", ("ckan:x", "a"), "Calls for Service Q2 2021"),
        ("cfs-q3", ("ckan:x", "a"), "Calls for Service 2021 Q3"),
        ("cfs-2020", ("ckan:x", "a"), "Calls for Service 2020"),  # a year is not a quarter
        ("running", ("ckan:x", "a"), "Calls for Service 2015 - present"),
    ]
    series = {s.name: s for s in group_series(items)}
    assert set(series) == {"Use of Force", "Calls for Service"}
    uof = series["Use of Force"]
    assert uof.members == ("uof-2019", "uof-2020", "uof-2021")  # oldest release first
    assert uof.latest == "uof-2021"
    assert uof.labels == ("2019", "2020", "2021")
    assert uof.cadence.value == "R/P1Y"
    cfs = series["Calls for Service"]
    assert cfs.members == ("cfs-q1", "cfs-q2", "cfs-q3") and cfs.cadence.value == "R/P3M"
    # stable: the same releases give the same id, whatever their order, and another scope another id
    again = {s.name: s for s in group_series(reversed(items))}
    assert again["Use of Force"].id == uof.id
    moved = [(rid, ("socrata:data.seattle.gov", "other"), title) for rid, _, title in items[:3]]
    assert group_series(moved)[0].id != uof.id


def test_series_cadence_follows_the_spacing_of_releases() -> None:
    biennial = group_series(
        [(f"r{y}", "s", f"Officer Demographics Report {y}") for y in (2014, 2016, 2018, 2020)]
        + [("r2022", "s", "2022 Officer Demographics Report")]
    )
    assert len(biennial) == 1
    assert biennial[0].cadence.value == "R/P2Y"
    assert biennial[0].latest == "r2022"
    monthly = group_series([(f"m{m}", "s", f"Crime Data {name} 2024") for m, name in ((1, "January"), (3, "March"))])
    assert monthly[0].cadence.value == "R/P2M"  # every other month
