from __future__ import annotations

import pytest

from catalog.classify import InputError, analyze, classify, parse_input
from catalog.vocabulary import Category, category_vocabulary, parse_vocabulary


@pytest.mark.parametrize(
    ("title", "extra", "expected"),
    [
        ("APD Use of Force Incidents", {}, "use_of_force"),
        ("Response to Resistance 2019", {}, "use_of_force"),
        ("R2R Subjects", {}, "use_of_force"),
        ("Officer Involved Shootings", {}, "officer_involved_shootings"),
        ("Terry Stops", {}, "pedestrian_stops"),
        ("CMPD Traffic Stops", {}, "traffic_stops"),
        ("RIPA Stop Data", {}, "stops"),
        ("Field Interviews", {}, "field_contacts"),
        ("Uniform Citation Data", {"description": "Citations issued by LMPD officers"}, "citations"),
        ("Officers Assaulted", {}, "assaults_on_officers"),
        ("Seattle Police Department 911 Incident Response", {}, "calls_for_service"),
        ("Crime Incidents (NIBRS)", {}, "crime_incidents"),
        ("Vehicle Pursuits", {}, "vehicle_pursuits"),
        ("MCPD Bias Incidents", {}, "hate_crimes"),
        ("Internal Affairs Allegations", {"keywords": ["police"]}, "complaints"),
        ("Police Officer Demographics", {}, "employee_demographics"),
        ("Police Community Events", {}, "community_engagement"),
        ("Police Beats", {}, "other_policing"),
    ],
)
def test_best_category(title: str, extra: dict, expected: str):
    result = classify(title, **extra)
    assert result.police_related
    assert result.category_ids[0] == expected
    assert result.categories[0].evidence, "a decision must say what decided it"


@pytest.mark.parametrize(
    ("title", "extra"),
    [
        ("Fire Department Calls for Service", {}),
        ("Bus Stops", {}),
        ("Street Stop Signs", {}),
        ("Noise Complaints", {"keywords": ["311"]}),
        ("Building Code Citations", {}),
        ("Parks and Recreation Facilities", {}),
        ("Sold Fleet Equipment", {}),
        ("Restaurant Inspections", {}),
    ],
)
def test_not_police(title: str, extra: dict):
    assert not classify(title, **extra).police_related


def test_columns_and_context_decide_when_the_title_is_vague():
    result = classify(
        "Incident Data 2023",
        description="Records of the police department",
        columns=["force_type", "subject_resistance", "officer_id"],
    )
    assert result.category_ids[0] == "use_of_force"
    assert any("columns" in e for e in result.categories[0].evidence)


def test_confidence_in_range_and_best_first():
    result = classify("Arrests and Use of Force", description="police")
    assert [c.confidence for c in result.categories] == sorted((c.confidence for c in result.categories), reverse=True)
    assert all(0 < c.confidence < 1 for c in result.categories)


def test_vocabulary_covers_every_category():
    vocab = category_vocabulary()
    assert set(vocab) == set(Category)
    for cat, terms in vocab.items():
        assert terms.definition.endswith(".") and len(terms.definition.split()) >= 5, cat
        assert terms.synonyms and terms.title_terms and terms.terms and terms.columns, cat
        assert all(c == c.lower() and " " not in c for c in terms.columns), cat
        assert cat not in terms.broader


def _raw_vocabulary() -> dict:
    return {
        c.value: {
            "definition": "A definition.",
            "synonyms": ["x"],
            "title_terms": ["y"],
            "terms": ["z"],
            "columns": ["c"],
        }
        for c in Category
    }


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda raw: raw["arrests"].pop("synonyms"), "arrests.synonyms"),
        (lambda raw: raw["arrests"].update(columns=[]), "arrests.columns"),
        (lambda raw: raw["calls_for_service"].update(terms=[911]), "calls_for_service.terms"),
        (lambda raw: raw["stops"].update(synonym=["typo"]), "unknown field"),
        (lambda raw: raw["hate_crimes"].update(broader=["crimes"]), "hate_crimes.broader"),
        (lambda raw: raw["lawsuits"].update(police_by_itself="yes"), "lawsuits.police_by_itself"),
        (lambda raw: raw.pop("lawsuits"), "missing ['lawsuits']"),
        (lambda raw: raw.update(parking_tickets=raw["lawsuits"]), "unknown ['parking_tickets']"),
    ],
)
def test_vocabulary_errors_name_the_field(change, fragment):
    raw = _raw_vocabulary()
    assert parse_vocabulary(raw)  # the unchanged document is valid
    change(raw)
    with pytest.raises(ValueError, match="categories.yaml") as err:
        parse_vocabulary(raw)
    assert fragment in str(err.value)


@pytest.mark.parametrize(
    ("title", "extra", "expected"),
    [
        # plurals folded, camelCase split, one inserted word in a long phrase
        ("Uses of Force by Deputies", {}, ["use_of_force"]),
        ("OfficerInvolvedShootings", {}, ["officer_involved_shootings"]),
        ("Deaths in Sheriff's Custody", {}, ["deaths_in_custody"]),
        # a phrase inside a longer one, a narrower category touching a broader one, mixed stops
        ("Vehicle Stop Data 2022", {}, ["traffic_stops"]),
        ("Hate Crime Incidents", {}, ["hate_crimes"]),
        ("Crime Incidents and Hate Crimes", {}, ["crime_incidents", "hate_crimes"]),
        ("Police Pedestrian and Vehicle Stops", {}, ["stops"]),
        # a synonym decides alone; a generic title word needs police context
        ("CCRB Allegations", {}, ["complaints"]),
        ("Complaints and Investigations", {"keywords": ["police"]}, ["complaints"]),
        ("Traffic Stops and Citations", {}, ["traffic_stops", "citations"]),
        # columns about officers are police context
        ("Table", {"columns": ["complaint_number", "allegation", "finding", "officer_race"]}, ["complaints"]),
        # a vague title: the category the description's opening names first
        (
            "Monthly Report",
            {"description": "Officer-involved shootings investigated by the homicide bureau."},
            ["officer_involved_shootings"],
        ),
    ],
)
def test_categories(title: str, extra: dict, expected: list[str]):
    assert sorted(classify(title, **extra).category_ids) == sorted(expected)


@pytest.mark.parametrize(
    "title",
    [
        "Out-of-Hospital Cardiac Arrests",
        "Police Jury Meeting Minutes",
        "Facility Bookings",
        "Registered Voters by Precinct",
        "Complaints and Investigations",
    ],
)
def test_more_look_alikes_are_not_police(title: str):
    assert classify(title).category_ids == []


def test_agency_abbreviations_count_in_the_title_only():
    # a real recorded record (CFTC data.json): MPD is its Market Participants Division
    keywords = ["fcm", "retail foreign exchange", "dealer", "market participants", "mpd"]
    assert not classify("Financial Data for FCMS", keywords=keywords).police_related
    assert classify("BPD Officer Involved Injuries").category_ids == ["other_policing"]


def test_analyze_folds_plurals_but_keeps_jargon():
    assert analyze("Uses of Force; OIS & EMS <b>Crashes</b> 9-1-1 Sheriff's Injuries") == (
        "use of force ois ems crash 911 sheriff injury"
    )


def test_parse_input_accepts_the_documented_shapes():
    inp = parse_input(
        {
            "title": "T",
            "keywords": "police, stops",
            "theme": "Public Safety",
            "columns": ["a", {"name": "B c", "field_name": "b_c"}],
            "other": 1,
        }
    )
    assert inp.keywords == ("police", "stops") and inp.themes == ("Public Safety",)
    assert inp.columns == ("a", "B c", "b_c")
    mapped = parse_input({"title": "T", "keyword": ["x"], "pdi": {"columns": [{"name": "n"}]}})
    assert mapped.keywords == ("x",) and mapped.columns == ("n",)


@pytest.mark.parametrize(
    ("obj", "fragment"),
    [
        ([1], "expected a JSON object"),
        ({"title": 3}, "'title' must be a string"),
        ({"title": "T", "keywords": [1]}, "'keywords' must be a list of strings"),
        ({"title": "T", "columns": "a,b"}, "'columns' must be a list"),
        ({"title": "T", "columns": [{"type": "text"}]}, "'columns' item 0"),
        ({"name": "T"}, "none of title"),
    ],
)
def test_parse_input_rejects_wrong_types(obj, fragment):
    with pytest.raises(InputError, match=fragment):
        parse_input(obj)
