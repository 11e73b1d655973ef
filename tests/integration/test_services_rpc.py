"""Each service over real RPC: the records, and the errors as real types."""
import pytest
from nameko.exceptions import IncorrectSignature

from travel_common.errors import (
    IdempotencyConflict,
    InUse,
    Invalid,
    NotFound,
    Released,
)
from travel_common.ids import is_id


def test_airport_create_get_delete(rpc):
    created = rpc.airports_service.create(airport="  Lisbon ")
    assert is_id(created["id"])
    assert created == {"id": created["id"], "airport": "Lisbon"}
    assert rpc.airports_service.get(created["id"]) == created
    assert rpc.airports_service.delete(created["id"]) is None
    with pytest.raises(NotFound):
        rpc.airports_service.get(created["id"])
    with pytest.raises(NotFound):
        rpc.airports_service.delete(created["id"])


def test_a_call_with_the_wrong_arguments_is_refused_and_changes_nothing(rpc):
    before = rpc.airports_service.list(limit=100)
    with pytest.raises(IncorrectSignature, match="unexpected keyword argument 'name'"):
        rpc.airports_service.create(airport="Lisbon", name="Lisbon")
    with pytest.raises(IncorrectSignature, match="missing a required argument"):
        rpc.airports_service.create()
    with pytest.raises(IncorrectSignature, match="too many positional arguments"):
        rpc.airports_service.reserve(["a"], "t", "extra")
    assert rpc.airports_service.list(limit=100) == before


def test_airport_invalid_name_is_field_error(rpc):
    with pytest.raises(Invalid) as raised:
        rpc.airports_service.create(airport="x" * 101)
    assert raised.value.errors == {"airport": ["Length must be between 1 and 100."]}


def test_idempotent_create(rpc):
    first = rpc.airports_service.create(airport="Faro", idempotency_key="client:k1")
    again = rpc.airports_service.create(airport="Faro", idempotency_key="client:k1")
    assert again == first
    with pytest.raises(IdempotencyConflict):
        rpc.airports_service.create(airport="Porto", idempotency_key="client:k1")


def test_trip_needs_existing_different_airports(rpc):
    a = rpc.airports_service.create(airport="A")
    b = rpc.airports_service.create(airport="B")
    trip = rpc.trips_service.create(airport_from=a["id"], airport_to=b["id"])
    assert trip == {"id": trip["id"], "airport_from": a["id"], "airport_to": b["id"]}
    assert rpc.trips_service.get(trip["id"]) == trip

    missing = "0" * 32
    with pytest.raises(Invalid) as raised:
        rpc.trips_service.create(airport_from=a["id"], airport_to=missing)
    assert raised.value.errors == {"airport_to": ["Airport not found."]}
    with pytest.raises(Invalid) as raised:
        rpc.trips_service.create(airport_from=a["id"], airport_to=a["id"])
    assert raised.value.errors == {"airport_to": ["Must differ from airport_from."]}


def test_airport_used_by_trip_cannot_be_deleted(rpc):
    a = rpc.airports_service.create(airport="A")
    b = rpc.airports_service.create(airport="B")
    trip = rpc.trips_service.create(airport_from=a["id"], airport_to=b["id"])
    with pytest.raises(InUse):
        rpc.airports_service.delete(a["id"])
    rpc.trips_service.delete(trip["id"])
    rpc.airports_service.delete(a["id"])
    rpc.airports_service.delete(b["id"])


def test_released_trip_id_is_never_reserved_again(rpc):
    """A reserve that arrives after its trip was released adds nothing."""
    a = rpc.airports_service.create(airport="A")
    b = rpc.airports_service.create(airport="B")
    trip_id = "e" * 32
    rpc.airports_service.release([a["id"], b["id"]], trip_id)
    with pytest.raises(Released):
        rpc.airports_service.reserve([a["id"], b["id"]], trip_id)
    rpc.airports_service.delete(a["id"])  # not referenced


def test_trips_listed_per_airport(rpc):
    a, b, c = (rpc.airports_service.create(airport=n) for n in "ABC")
    ab = rpc.trips_service.create(airport_from=a["id"], airport_to=b["id"])
    cb = rpc.trips_service.create(airport_from=c["id"], airport_to=b["id"])
    assert rpc.trips_service.list(airport=a["id"]) == {"items": [ab], "next": None}
    assert rpc.trips_service.list(airport=b["id"]) == {"items": [ab, cb], "next": None}
    rpc.trips_service.delete(ab["id"])
    assert rpc.trips_service.list(airport=b["id"]) == {"items": [cb], "next": None}


def test_list_pages(rpc):
    created = [rpc.airports_service.create(airport="P%d" % i) for i in range(5)]
    seen, cursor = [], None
    while True:
        page = rpc.airports_service.list(limit=2, cursor=cursor)
        assert len(page["items"]) <= 2
        seen += page["items"]
        cursor = page["next"]
        if cursor is None:
            break
    ids = [record["id"] for record in seen]
    assert len(ids) == len(set(ids))
    assert [r for r in seen if r in created] == created


def test_health_reports_redis(rpc):
    assert rpc.airports_service.health() == {"redis": "up"}
    assert rpc.trips_service.health() == {"redis": "up"}
