"""``Idempotency-Key`` on the creates, through the real gateway and services."""
import uuid

import requests

from support import assert_problem


def post(http, path, body, key):
    return http.post(path, json=body, headers={"Idempotency-Key": key})


def test_same_key_same_body_gives_the_first_answer(http, redis_db):
    key = "order-" + uuid.uuid4().hex
    first = post(http, "/airport", {"airport": "Lisbon"}, key)
    stored = redis_db.client.zcard("airports:index")
    again = post(http, "/airport", {"airport": " Lisbon "}, key)  # same once loaded
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert redis_db.client.zcard("airports:index") == stored  # nothing new
    # kept for a day
    ttl = max(redis_db.client.ttl(k) for k in redis_db.client.keys("airports:idem:*"))
    assert 24 * 3600 - 60 < ttl <= 24 * 3600


def test_same_key_other_body_is_422(http):
    key = "order-" + uuid.uuid4().hex
    assert post(http, "/airport", {"airport": "Porto"}, key).status_code == 201
    response = post(http, "/airport", {"airport": "Faro"}, key)
    body = assert_problem(
        response, 422,
        "This Idempotency-Key was already used with another request body.")
    assert "errors" not in body


def test_trip_create_is_idempotent(http):
    a = http.post("/airport", json={"airport": "A"}).json()
    b = http.post("/airport", json={"airport": "B"}).json()
    body = {"airport_from": a["id"], "airport_to": b["id"]}
    key = "trip-" + uuid.uuid4().hex
    first = post(http, "/trip", body, key)
    again = post(http, "/trip", body, key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    trips = http.get("/trips", params={"airport": a["id"]}).json()["items"]
    assert trips == [first.json()]
    reversed_body = {"airport_from": b["id"], "airport_to": a["id"]}
    assert post(http, "/trip", reversed_body, key).status_code == 422


def test_keys_are_per_kind(http):
    """The same token on an airport and on a trip are two different keys."""
    key = "shared-" + uuid.uuid4().hex
    a = post(http, "/airport", {"airport": "A"}, key).json()
    b = http.post("/airport", json={"airport": "B"}).json()
    trip = post(http, "/trip", {"airport_from": a["id"], "airport_to": b["id"]}, key)
    assert trip.status_code == 201


def test_concurrent_retries_create_one_record(http, stack):
    from concurrent.futures import ThreadPoolExecutor

    key = "race-" + uuid.uuid4().hex

    def send(_):
        return requests.post(stack.url + "/airport", json={"airport": "Race"},
                             headers={"Idempotency-Key": key}, timeout=30)

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(send, range(16)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1


def test_concurrent_trip_retries_create_one_trip(http, stack, redis_db):
    """Concurrent retries of one trip create share its trip id: one trip, and
    no step left owed to the airports service."""
    from concurrent.futures import ThreadPoolExecutor

    a = http.post("/airport", json={"airport": "A"}).json()["id"]
    b = http.post("/airport", json={"airport": "B"}).json()["id"]
    key = "race-" + uuid.uuid4().hex

    def send(_):
        return requests.post(stack.url + "/trip", timeout=30,
                             json={"airport_from": a, "airport_to": b},
                             headers={"Idempotency-Key": key})

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(send, range(16)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert http.get("/trips", params={"airport": a}).json()["items"] == [
        responses[0].json()]
    trip_id = responses[0].json()["id"]
    assert redis_db.client.smembers("airports:refs:" + a) == {trip_id}
    assert not redis_db.client.exists("trips:owed:" + trip_id)
