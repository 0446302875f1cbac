"""The coverage matrix as a pure function of commitments and record states."""

from __future__ import annotations

from catalog.coverage import CSV_COLUMNS, Commitments, RecordState, compute_coverage, coverage_rows
from catalog.vocabulary import Category, FreshnessStatus

F, OV, D, U = FreshnessStatus.FRESH, FreshnessStatus.OVERDUE, FreshnessStatus.DELINQUENT, FreshnessStatus.UNKNOWN
JURISDICTIONS = [
    Commitments("hampton-va", "Hampton", "VA", ("use_of_force", "complaints")),
    Commitments("bedford-va", "Bedford", "VA", ("use_of_force",)),
    Commitments("austin-tx", "Austin", "TX", ()),
]
RECORDS = [
    RecordState("h1", ("hampton-va",), ("use_of_force",), F),
    RecordState("h2", ("hampton-va",), ("use_of_force", "officer_involved_shootings"), D),
    RecordState("h3", ("hampton-va",), ("arrests",), OV),
    # a statewide portal's record listed under two jurisdictions
    RecordState("s1", ("hampton-va", "bedford-va"), ("use_of_force",), F),
    RecordState("x1", ("gotham-nj",), ("use_of_force",), F),  # not a seeded jurisdiction: left out
    RecordState("a1", ("austin-tx",), ("crime_incidents",), U),
]


def test_cells_and_totals() -> None:
    m = compute_coverage(JURISDICTIONS, RECORDS)
    assert [c["id"] for c in m["categories"]] == [c.value for c in Category]
    assert m["categories"][0] == {"id": "use_of_force", "label": "Use of force"}
    hampton, bedford, austin = m["jurisdictions"]
    assert hampton["cells"]["use_of_force"] == {
        "committed": True,
        "published": 3,
        "fresh": 2,
        "overdue": 0,
        "delinquent": 1,
    }
    assert hampton["cells"]["complaints"] == {
        "committed": True,
        "published": 0,
        "fresh": 0,
        "overdue": 0,
        "delinquent": 0,
    }
    assert hampton["cells"]["arrests"]["committed"] is False and hampton["cells"]["arrests"]["overdue"] == 1
    # a record with two categories counts once in the jurisdiction's totals
    assert (hampton["committed"], hampton["published"], hampton["fresh"], hampton["missing"]) == (2, 4, 2, 1)
    assert (bedford["published"], bedford["fresh"], bedford["missing"]) == (1, 1, 0)
    assert (austin["committed"], austin["published"], austin["fresh"], austin["missing"]) == (0, 1, 0, 0)
    uof = m["totals"]["by_category"]["use_of_force"]
    assert uof == {
        "committed": 2,
        "published": 3,  # s1 once, though listed under two jurisdictions
        "fresh": 2,
        "overdue": 0,
        "delinquent": 1,
        "jurisdictions_published": 2,
        "committed_published": 2,
        "missing": 0,
    }
    assert m["totals"]["by_category"]["complaints"]["missing"] == 1
    assert m["totals"]["overall"] == {
        "committed": 3,
        "committed_published": 2,
        "missing": 1,
        "published": 5,
        "fresh": 2,
        "overdue": 1,
        "delinquent": 1,
    }


def test_filters_by_jurisdiction_and_category() -> None:
    m = compute_coverage(JURISDICTIONS[:1], RECORDS, ["use_of_force"])
    assert [c["id"] for c in m["categories"]] == ["use_of_force"]
    (hampton,) = m["jurisdictions"]
    assert set(hampton["cells"]) == {"use_of_force"}
    assert (hampton["committed"], hampton["published"], hampton["missing"]) == (1, 3, 0)  # h3 has no use of force
    assert m["totals"]["overall"]["published"] == 3 and m["totals"]["overall"]["committed"] == 1


def test_csv_rows_one_per_jurisdiction_and_category() -> None:
    m = compute_coverage(JURISDICTIONS, RECORDS)
    rows = coverage_rows(m)
    assert len(rows) == len(JURISDICTIONS) * len(Category)
    header = dict(zip(CSV_COLUMNS, rows[0], strict=True))
    assert header == {
        "jurisdiction": "hampton-va",
        "name": "Hampton",
        "state": "VA",
        "category": "use_of_force",
        "committed": "yes",
        "published": 3,
        "fresh": 2,
        "overdue": 0,
        "delinquent": 1,
    }
