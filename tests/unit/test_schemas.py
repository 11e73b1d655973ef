import pytest
from marshmallow import ValidationError

from schemas import AirportPageQuery, AirportSchema, TripPageQuery, TripSchema

ID_A, ID_B = "a" * 32, "b" * 32


def errors_of(schema, data) -> dict:
    with pytest.raises(ValidationError) as raised:
        schema.load(data)
    return raised.value.messages


@pytest.mark.parametrize("name, stored", [
    ("Lisbon", "Lisbon"),
    ("  Lisbon \t", "Lisbon"),
    ("x" * 100, "x" * 100),
    (" " + "x" * 100 + " ", "x" * 100),
    ("São Paulo–Guarulhos", "São Paulo–Guarulhos"),
])
def test_airport_names_are_stripped(name, stored):
    assert AirportSchema().load({"airport": name}) == {"airport": stored}


@pytest.mark.parametrize("data, errors", [
    ({}, {"airport": ["Missing data for required field."]}),
    ({"airport": ""}, {"airport": ["Length must be between 1 and 100."]}),
    ({"airport": " \t "}, {"airport": ["Length must be between 1 and 100."]}),
    ({"airport": "x" * 101}, {"airport": ["Length must be between 1 and 100."]}),
    ({"airport": ["x"]}, {"airport": ["Not a valid string."]}),
    ({"airport": "a\x00b"}, {"airport": ["Must not contain control characters."]}),
    ({"airport": "a\x1bb"}, {"airport": ["Must not contain control characters."]}),
    ({"airport": "x", "id": ID_A}, {"id": ["Unknown field."]}),
])
def test_airport_refusals(data, errors):
    assert errors_of(AirportSchema(), data) == errors


def test_airport_dump_has_id():
    record = {"id": ID_A, "airport": "X", "seq": "3"}
    assert AirportSchema().dump(record) == {"id": ID_A, "airport": "X"}


def test_trip_loads_two_different_ids():
    data = {"airport_from": ID_A, "airport_to": ID_B}
    assert TripSchema().load(data) == data


@pytest.mark.parametrize("data, errors", [
    ({"airport_from": ID_A, "airport_to": ID_A},
     {"airport_to": ["Must differ from airport_from."]}),
    ({"airport_from": ID_A.upper(), "airport_to": ID_B},
     {"airport_from": ["Not a valid id."]}),
    ({"airport_from": ID_A[:-1], "airport_to": 7},
     {"airport_from": ["Not a valid id."], "airport_to": ["Not a valid string."]}),
    ({"airport_from": ID_A},
     {"airport_to": ["Missing data for required field."]}),
    ({"airport_from": ID_A, "airport_to": ID_B, "seats": 3},
     {"seats": ["Unknown field."]}),
])
def test_trip_refusals(data, errors):
    assert errors_of(TripSchema(), data) == errors


def test_page_query_defaults():
    assert AirportPageQuery().load({}) == {"limit": 20, "cursor": None}
    assert TripPageQuery().load({"airport": ID_A, "limit": "100", "cursor": "42"}) == {
        "airport": ID_A, "limit": 100, "cursor": "42"}


@pytest.mark.parametrize("query, field", [
    ({"limit": "0"}, "limit"),
    ({"limit": "101"}, "limit"),
    ({"limit": "1.5"}, "limit"),
    ({"cursor": "-1"}, "cursor"),
    ({"cursor": "1" * 17}, "cursor"),
    ({"airport": "x"}, "airport"),
])
def test_page_query_refusals(query, field):
    assert list(errors_of(TripPageQuery(), query)) == [field]
