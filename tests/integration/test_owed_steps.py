"""The owed steps' scripts (``trips_svc.owed``) and the airports' tombstones,
against the session's own Redis database: every transition, and the races
the module docstring argues about, played out one script at a time."""
import time
import uuid

import pytest

from airports_svc.storage import Airports
from travel_common.errors import (
    DeadlineExceeded,
    IdempotencyConflict,
    Interrupted,
    NotFound,
    Released,
)
from trips_svc.owed import RELEASE, UNDO, Step
from trips_svc.storage import Trips

A, B = "a" * 32, "b" * 32
FIELDS = {"airport_from": A, "airport_to": B}


@pytest.fixture
def trips(redis_db):
    trips = Trips(redis_db.client, "trips-%s" % uuid.uuid4().hex[:8])
    trips.step_retry = 0.2
    return trips


@pytest.fixture
def airports(redis_db):
    airports = Airports(redis_db.client, "airports-%s" % uuid.uuid4().hex[:8])
    for airport_id in (A, B):
        redis_db.client.hset(airports.key("rec", airport_id), "airport", airport_id)
    return airports


def later(seconds=5.0) -> float:
    return time.time() + seconds


def step_of(trips, trip_id) -> dict:
    return trips.client.hgetall(trips.owed_key(trip_id))


def scheduled(trips) -> list:
    return trips.client.zrange(trips.key("owed"), 0, -1)


def test_create_owes_until_stored(trips):
    opened = trips.open_create(FIELDS, [A, B], "auto:1", later())
    assert opened.record is None
    assert step_of(trips, opened.trip_id)["state"] == "pending"
    assert scheduled(trips) == [opened.trip_id]
    record = trips.finish_trip(opened.trip_id, FIELDS, "auto:1")
    assert record == {"id": opened.trip_id, **FIELDS}
    assert trips.get(opened.trip_id) == record
    assert step_of(trips, opened.trip_id) == {}
    assert scheduled(trips) == []
    assert trips.page_for_airport(B, 10)["items"] == [record]
    # the key again: the first answer, nothing new
    assert trips.open_create(FIELDS, [A, B], "auto:1", later()).record == record
    with pytest.raises(IdempotencyConflict):
        trips.open_create({"airport_from": B, "airport_to": A}, [B, A], "auto:1")


def test_redelivered_create_reuses_its_trip_id_and_its_time(trips):
    """A create whose instance died finishes, redelivered, with the same id;
    the step lasts until the later deadline."""
    first = trips.open_create(FIELDS, [A, B], "auto:2", later(1))
    again = trips.open_create(FIELDS, [A, B], "auto:2", later(5))
    assert again.trip_id == first.trip_id
    assert float(step_of(trips, first.trip_id)["until"]) > later(4)
    assert trips.finish_trip(again.trip_id, FIELDS, "auto:2")["id"] == first.trip_id
    # the first attempt, alive after all, finds its trip stored
    assert trips.finish_trip(first.trip_id, FIELDS, "auto:2")["id"] == first.trip_id
    assert len(trips.page(10)["items"]) == 1


def test_abandoned_create_gives_a_retry_a_new_trip_id(trips):
    opened = trips.open_create(FIELDS, [A, B], "auto:3", later())
    assert trips.abandon(opened.trip_id) is True
    assert trips.abandon(opened.trip_id) is False  # once
    assert step_of(trips, opened.trip_id)["state"] == UNDO
    retry = trips.open_create(FIELDS, [A, B], "auto:3", later())
    assert retry.trip_id != opened.trip_id
    # the abandoned create can't store any more (fenced)
    with pytest.raises(Interrupted):
        trips.finish_trip(opened.trip_id, FIELDS, "auto:3")
    assert trips.page(10)["items"] == []


def test_create_past_its_deadline_stores_nothing_and_owes_its_undo(trips):
    opened = trips.open_create(FIELDS, [A, B], None, later(-0.01))
    with pytest.raises(DeadlineExceeded):
        trips.finish_trip(opened.trip_id, FIELDS)
    assert step_of(trips, opened.trip_id)["state"] == UNDO
    assert trips.page(10)["items"] == []


def test_expired_create_is_taken_up_once_and_fenced(trips):
    opened = trips.open_create(FIELDS, [A, B], "auto:4", later(0.1))
    assert trips.take_due(10) == []  # not yet: the create may still finish
    time.sleep(0.15)
    # a retry of the same key does not reuse an expired create
    retry = trips.open_create(FIELDS, [A, B], "auto:4", later())
    assert retry.trip_id != opened.trip_id
    taken = trips.take_due(10)
    assert Step(opened.trip_id, UNDO, [A, B]) in taken
    assert trips.take_due(10) == []  # taken: no other instance gets it meanwhile
    with pytest.raises(Interrupted):
        trips.finish_trip(opened.trip_id, FIELDS, "auto:4")
    time.sleep(0.25)  # not settled within step_retry: taken up again
    assert Step(opened.trip_id, UNDO, [A, B]) in trips.take_due(10)
    trips.settle(Step(opened.trip_id, UNDO, [A, B]))
    assert step_of(trips, opened.trip_id) == {}
    assert opened.trip_id not in scheduled(trips)


def test_delete_owes_the_release(trips):
    opened = trips.open_create(FIELDS, [A, B], None, later())
    trip = trips.finish_trip(opened.trip_id, FIELDS)
    step = trips.delete_trip(trip, [A, B])
    assert step == Step(trip["id"], RELEASE, [A, B])
    with pytest.raises(NotFound):
        trips.get(trip["id"])
    assert trips.page_for_airport(A, 10)["items"] == []
    assert step_of(trips, trip["id"])["state"] == RELEASE
    with pytest.raises(NotFound):
        trips.delete_trip(trip, [A, B])
    trips.settle(Step(trip["id"], UNDO, [A, B]))  # not the step it owes: kept
    assert step_of(trips, trip["id"])["state"] == RELEASE
    trips.settle(step)
    assert scheduled(trips) == []


def test_release_leaves_a_tombstone_that_refuses_late_reserves(airports):
    trip_id = uuid.uuid4().hex
    assert airports.reserve([A, B], trip_id) == []
    airports.release([A, B], trip_id)
    airports.release([A, B], trip_id)  # idempotent
    assert airports.client.smembers(airports.key("refs:" + A)) == set()
    with pytest.raises(Released):
        airports.reserve([A, B], trip_id)
    assert airports.client.smembers(airports.key("refs:" + A)) == set()
    ttl = airports.client.ttl(airports.key("released:" + trip_id))
    assert 24 * 3600 - 60 < ttl <= 24 * 3600


def test_reserve_adds_to_both_airports_or_neither(airports):
    missing = "c" * 32
    assert airports.reserve([A, missing], "1" * 32) == [missing]
    assert airports.client.exists(airports.key("refs:" + A)) == 0
    assert airports.reserve([A, B], "1" * 32) == []
    assert airports.client.smembers(airports.key("refs:" + B)) == {"1" * 32}
