"""``python -m travel_common.audit`` on stores written by the services' own
storage classes, then broken by hand, in Redis databases of their own."""
import json
import os
import subprocess
import sys
import time

import pytest

from airports_svc.storage import Airports
from travel_common.redis_keys import AIRPORTS, TRIPS
from trips_svc.storage import Trips

from support import ROOT, RedisDatabase, free_port


@pytest.fixture
def database():
    database = RedisDatabase()
    yield database
    database.release()


def run_audit(*args, redis_uri=None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if redis_uri:
        env["REDIS_URI"] = redis_uri
    return subprocess.run(
        [sys.executable, "-m", "travel_common.audit", *args], env=env, cwd=ROOT,
        capture_output=True, text=True, timeout=60,
    )


def store_trip(airports, trips) -> tuple:
    """Two airports and a trip between them, as the services write them."""
    a = airports.create({"airport": "A"})["id"]
    b = airports.create({"airport": "B"})["id"]
    opened = trips.open_create({"airport_from": a, "airport_to": b}, [a, b],
                               deadline=time.time() + 5)
    assert airports.reserve([a, b], opened.trip_id) == []
    trip = trips.finish_trip(opened.trip_id, {"airport_from": a, "airport_to": b})
    return a, b, trip["id"]


def test_audit_of_a_store_broken_by_hand(database):
    client = database.client
    airports, trips = Airports(client, AIRPORTS), Trips(client, TRIPS)
    a, b, trip_id = store_trip(airports, trips)
    done = run_audit(redis_uri=database.uri)
    assert (done.returncode, done.stdout) == (
        0, "checked 2 airports, 1 trips, 0 owed steps: 0 broken, 0 pending\n")

    ghost = "f" * 32
    client.sadd("airports:refs:" + a, ghost)  # a reference no step accounts for
    client.srem("airports:refs:" + b, trip_id)
    done = run_audit(redis_uri=database.uri)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "BROKEN orphan reference: airport %s references trip %s, which is not "
        "stored" % (a, ghost),
        "BROKEN missing reference: trip %s uses airport %s, which does not "
        "reference it" % (trip_id, b),
        "checked 2 airports, 1 trips, 0 owed steps: 2 broken, 0 pending",
    ]

    # The ghost's create is under way after all: pending, not broken.
    client.sadd("airports:refs:" + b, trip_id)
    opened = trips.open_create({"airport_from": a, "airport_to": b}, [a, b],
                               deadline=time.time() + 60)
    client.sadd("airports:refs:" + a, opened.trip_id)
    client.srem("airports:refs:" + a, ghost)
    done = run_audit("--json", redis_uri=database.uri)
    assert done.returncode == 0
    report = json.loads(done.stdout)
    assert report["broken"] == []
    assert [p["kind"] for p in report["pending"]] == ["owed step"]
    assert report["pending"][0]["detail"].startswith(
        "trip %s, airports %s, %s: create under way, due in " % (opened.trip_id, a, b))
    assert report["counts"] == {"airports": 2, "trips": 1, "steps": 1}


def test_audit_across_two_databases(database):
    other = RedisDatabase()
    try:
        airports = Airports(database.client, AIRPORTS)
        trips = Trips(other.client, TRIPS)
        store_trip(airports, trips)
        both = ("--airports-redis", database.uri, "--trips-redis", other.uri)
        done = run_audit(*both)
        assert done.returncode == 0, done.stdout
        assert done.stdout.endswith("1 trips, 0 owed steps: 0 broken, 0 pending\n")
        # read as if one database held both: the trip's airports are missing
        assert run_audit(redis_uri=other.uri).returncode == 1
    finally:
        other.release()


def test_unreachable_store_is_exit_2():
    done = run_audit(redis_uri="redis://:secret@127.0.0.1:%d/0" % free_port())
    assert done.returncode == 2
    assert done.stderr.startswith("cannot read the store: ")
    assert "secret" not in done.stderr
