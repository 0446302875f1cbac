from __future__ import annotations

import pytest

from catalog.classify import classify
from catalog.vocabulary import Category, category_vocabulary


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
    for terms in vocab.values():
        assert terms.definition and terms.title_terms
