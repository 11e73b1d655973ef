"""Airports and trips stay consistent through faults between the two
services' steps, repaired by the services themselves.

Real ``nameko run`` processes, the real gateway, RabbitMQ and Redis.  The
trips service reaches Redis through a TCP proxy that a test can cut, while
the airports service and the audit reach it directly.  After each fault, with
no client action, the audit must come back clean (no broken reference, no
step still owed) within ``REPAIR_LIMIT`` seconds of the services being back;
then the store is checked against what the clients were told.  Each test
prints what the audit saw before the repair, and how long the repair took.
"""
import functools
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from travel_common.audit import audit

from support import (
    AIRPORTS_MODULE,
    REDIS_HOST,
    REDIS_PORT,
    ROOT,
    TRIPS_MODULE,
    LoadLoop,
    RedisDatabase,
    count_consumers,
    create_airport,
    wait_until,
)
from support.tcp_proxy import TcpProxy

RPC_TIMEOUT = 3
REPAIR_LIMIT = 30  # seconds from the services being back to a consistent store
SETTINGS = {"OWED_STEPS_INTERVAL": "0.5", "OWED_STEP_RETRY": "1"}


@pytest.fixture(scope="module")
def system(stack_factory):
    """Airports and trips services and the gateway; the trips service's
    Redis connections go through ``system.proxy``."""
    assert REDIS_HOST == "127.0.0.1"
    database = RedisDatabase()
    proxy = TcpProxy(REDIS_PORT)
    through_proxy = "redis://127.0.0.1:%d/%d" % (proxy.port, database.db)
    try:
        stack = stack_factory(
            redis_uri=database.uri, env=SETTINGS,
            service_env={TRIPS_MODULE: {"REDIS_URI": through_proxy}},
            RPC_TIMEOUT=str(RPC_TIMEOUT),
        )
        stack.database, stack.proxy = database, proxy
        yield stack
        stack.stop()
    finally:
        proxy.cut()
        database.release()


# --- the system's parts ------------------------------------------------------

def consumers(stack, service, count):
    wait_until(lambda: count_consumers(stack.vhost, service) == count, 30,
               interval=0.1, what="%d instances of %s" % (count, service))


def start_airports(stack) -> float:
    """Start an instance; when it was started (its queue consumed soon after)."""
    started = time.monotonic()
    stack.add_service(AIRPORTS_MODULE)
    consumers(stack, "airports_service", len(stack.running("airports")))
    return started


def start_trips(stack) -> float:
    started = time.monotonic()
    stack.add_service(TRIPS_MODULE)
    consumers(stack, "trips_service", len(stack.running("trips")))
    return started


def remove(stack, process):
    process.kill()
    stack.services.remove(process)


# --- what clients do -----------------------------------------------------------

def post(stack, path, body, key=None, timeout=30):
    headers = {"Idempotency-Key": key} if key else {}
    return requests.post(stack.url + path, json=body, headers=headers,
                         timeout=timeout)


def airports(stack, count) -> list:
    with stack.session() as http:
        return [create_airport(http, uuid.uuid4().hex[:8])["id"] for _ in range(count)]


def trip(stack, a, b, key=None):
    return post(stack, "/trip", {"airport_from": a, "airport_to": b}, key)


def listed(stack, airport_id) -> set:
    """The ids ``GET /trips?airport=`` lists, page by page, once the stack is
    ready (the gateway may not have seen yet a trips instance that was just
    started: its ``/ready`` waits for that)."""
    stack.wait_ready()
    ids, cursor = set(), None
    while True:
        params = {"airport": airport_id, "limit": 100}
        if cursor:
            params["cursor"] = cursor
        answer = requests.get(stack.url + "/trips", params=params, timeout=30)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        ids |= {item["id"] for item in page["items"]}
        cursor = page["next"]
        if cursor is None:
            return ids


# --- the checks ------------------------------------------------------------------

def stored_trips(stack, airport_ids) -> dict:
    """Trip id -> its airports, for every stored trip using one of them."""
    client = stack.database.client
    found = {}
    for key in client.scan_iter("trips:rec:*", count=1000):
        ends = tuple(client.hmget(key, "airport_from", "airport_to"))
        if set(ends) & set(airport_ids):
            found[key.rsplit(":", 1)[1]] = ends
    return found


def report_lines(stack) -> list:
    return audit(stack.database.client, stack.database.client).lines()


def wait_consistent(stack, fault, back, started=None) -> float:
    """Wait, doing nothing, until the audit finds nothing broken and nothing
    owed; seconds since ``back`` (the services back: consuming their queues
    again, or reaching Redis again).  ``started``: when the instance that
    brought them back was started."""
    def clean():
        report = audit(stack.database.client, stack.database.client)
        return not report.broken and not report.pending

    wait_until(clean, REPAIR_LIMIT, interval=0.1, what="a consistent store")
    now = time.monotonic()
    repair = now - back
    print("%s: consistent %.1fs after the services were back%s" % (
        fault, repair,
        "" if started is None else " (%.1fs after the new instance was started)"
        % (now - started)))
    assert repair < REPAIR_LIMIT
    return repair


def assert_audit_command_clean(stack):
    done = subprocess.run(
        [sys.executable, "-m", "travel_common.audit"], cwd=ROOT, timeout=60,
        env=dict(os.environ, REDIS_URI=stack.database.uri),
        capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.endswith(" 0 broken, 0 pending\n"), done.stdout


def assert_store_matches(stack, airport_ids, expected: set):
    """Exactly the expected trips are stored over these airports, each listed
    for both its airports; an airport no trip uses can be deleted."""
    stored = stored_trips(stack, airport_ids)
    assert set(stored) == expected
    for airport_id in airport_ids:
        users = {t for t, ends in stored.items() if airport_id in ends}
        assert listed(stack, airport_id) == users
    unused = [a for a in airport_ids if not any(a in e for e in stored.values())]
    for airport_id in unused:
        response = requests.delete(stack.url + "/airport/" + airport_id, timeout=30)
        assert response.status_code == 204, response.text
    assert_audit_command_clean(stack)


def print_before_repair(fault, lines):
    print("%s: the audit before the repair:\n  %s" % (fault, "\n  ".join(lines)))


# --- the faults --------------------------------------------------------------------

def test_airports_down_during_trip_delete(system):
    a, b, c = airports(system, 3)
    kept = trip(system, a, b).json()["id"]
    doomed = trip(system, a, c).json()["id"]
    (instance,) = system.running("airports")
    instance.stop()
    system.services.remove(instance)
    response = requests.delete(system.url + "/trip/" + doomed, timeout=30)
    # The trip is deleted for good; the release is owed, done later.
    assert response.status_code == 204
    assert requests.get(system.url + "/trip/" + doomed, timeout=30).status_code == 404
    before = report_lines(system)
    print_before_repair("airports down during DELETE /trip", before)
    assert before[0].startswith("PENDING owed step: trip %s" % doomed)
    started = start_airports(system)
    wait_consistent(system, "airports down during DELETE /trip", time.monotonic(),
                    started)
    assert_store_matches(system, [a, b, c], {kept})
    # a trip's airports keep their reference to it
    assert requests.delete(system.url + "/airport/" + a, timeout=30).status_code == 409


def test_airports_killed_during_trip_creates(system):
    a, b = airports(system, 2)
    created = []

    def create(session):
        response = session.post(system.url + "/trip", timeout=30,
                                json={"airport_from": a, "airport_to": b})
        if response.status_code == 201:
            created.append(response.json()["id"])
        return response

    with LoadLoop(create, threads=4) as load:
        wait_until(lambda: len(created) > 20, 10, what="trips created")
        remove(system, system.running("airports")[0])  # kill -9, calls in hand
        killed = time.monotonic()
        # Down until a create sent since then failed: the calls in hand can
        # all be redelivered to the next instance and answered 201 when it
        # starts within their deadline.
        wait_until(lambda: {503, 504} & load.statuses(load.since(killed)), 15,
                   interval=0.1, what="a create to fail while airports is down")
        before = report_lines(system)
        started = start_airports(system)
        back = time.monotonic()
        wait_until(lambda: any(s == 201 for _, s, _ in load.since(back)), 15,
                   what="creates to succeed again")
    statuses = [s for t, s, _ in load.outcomes if t >= killed]
    print("creates after the kill: %s" % {s: statuses.count(s) for s in set(statuses)})
    print_before_repair("airports killed during POST /trip", before)
    assert {503, 504} & set(statuses)
    wait_consistent(system, "airports killed during POST /trip", back, started)
    # every 201 stored once; nothing answered 503 or 504 was stored
    assert_store_matches(system, [a, b], set(created))


def test_only_trips_instance_killed_between_reserve_and_store(system):
    a, b = airports(system, 2)
    (airports_instance,) = system.running("airports")
    (trips_instance,) = system.running("trips")
    key = uuid.uuid4().hex
    client = system.database.client
    answers = []
    airports_instance.signal(signal.SIGSTOP)  # holds the reserve call
    try:
        caller = threading.Thread(target=lambda: answers.append(trip(system, a, b,
                                                                       key)))
        caller.start()
        wait_until(lambda: client.zcard("trips:owed"), 2, what="the create's step")
        time.sleep(0.2)  # the reserve call reaches the frozen instance
        trips_instance.signal(signal.SIGSTOP)
    finally:
        airports_instance.signal(signal.SIGCONT)
    # The reserve runs, its reply waits for a trips instance that never reads it.
    (abandoned,) = wait_until(lambda: client.smembers("airports:refs:" + a), 2,
                              what="the reserve")
    remove(system, trips_instance)
    before = report_lines(system)
    caller.join(30)
    assert answers[0].status_code == 504
    started = start_trips(system)
    back = time.monotonic()
    print_before_repair("trips instance killed between reserve and store", before)
    (line,) = [line for line in before if line.startswith("PENDING")]
    assert ": create under way, " in line
    wait_consistent(system, "trips instance killed between reserve and store", back,
                    started)
    assert stored_trips(system, [a, b]) == {}
    assert listed(system, a) == listed(system, b) == set()
    # The client's retry with its key gets a new trip, stored once.
    retried = trip(system, a, b, key)
    assert retried.status_code == 201
    assert retried.json()["id"] != abandoned
    assert_store_matches(system, [a, b], {retried.json()["id"]})
    assert requests.delete(system.url + "/trip/" + retried.json()["id"],
                           timeout=30).status_code == 204
    assert_store_matches(system, [a, b], set())


def test_redis_cut_for_trips_between_reserve_and_store(system):
    a, b = airports(system, 2)
    (airports_instance,) = system.running("airports")
    client = system.database.client
    key = uuid.uuid4().hex
    answers = []
    airports_instance.signal(signal.SIGSTOP)
    try:
        caller = threading.Thread(target=lambda: answers.append(trip(system, a, b,
                                                                       key)))
        caller.start()
        wait_until(lambda: client.zcard("trips:owed"), 2, what="the create's step")
        time.sleep(0.2)
        system.proxy.cut()
    finally:
        airports_instance.signal(signal.SIGCONT)
    try:
        caller.join(30)
        assert answers[0].status_code == 503
        assert answers[0].json()["detail"] == "The data store is unavailable."
        assert client.smembers("airports:refs:" + a)  # reserved, never stored
        before = report_lines(system)
        time.sleep(1)
    finally:
        system.proxy.restore()
    back = time.monotonic()
    print_before_repair("Redis cut for trips between reserve and store", before)
    (line,) = [line for line in before if line.startswith("PENDING")]
    assert ": create under way, " in line
    wait_consistent(system, "Redis cut for trips between reserve and store", back)
    assert_store_matches(system, [a, b], set())
    # the same request again, with its key: stored now, once
    again = trip(system, *airports(system, 2), uuid.uuid4().hex)
    assert again.status_code == 201


def test_burst_of_creates_and_deletes_with_instances_killed(system):
    """Two instances of each service; a trips instance, then an airports
    instance killed mid-burst.  Clients retry with their key until they have
    an answer, as a careful client does; then the store holds exactly what
    they were told."""
    start_trips(system)  # second instances take over the victims' calls
    start_airports(system)
    airport_ids = airports(system, 3)
    created, deleted, seen = set(), set(), []
    lock = threading.Lock()

    def until_answered(send, finals):
        for _ in range(20):
            try:
                response = send()
            except requests.RequestException:
                continue
            seen.append(response.status_code)
            if response.status_code in finals:
                return response
            time.sleep(0.1)
        raise AssertionError("no answer after 20 tries")

    def client_work(n):
        rng = random.Random(n)
        session = requests.Session()
        for _ in range(12):
            a, b = rng.sample(airport_ids, 2)
            send = functools.partial(
                session.post, system.url + "/trip", timeout=30,
                json={"airport_from": a, "airport_to": b},
                headers={"Idempotency-Key": uuid.uuid4().hex})
            trip_id = until_answered(send, {201}).json()["id"]
            with lock:
                assert trip_id not in created
                created.add(trip_id)
            if rng.random() < 0.5:
                send = functools.partial(session.delete,
                                         system.url + "/trip/" + trip_id, timeout=30)
                until_answered(send, {204, 404})
                with lock:
                    deleted.add(trip_id)

    with ThreadPoolExecutor(8) as pool:
        work = [pool.submit(client_work, n) for n in range(8)]
        for count, victims in ((24, "trips"), (48, "airports")):
            wait_until(lambda n=count: len(created) >= n, 30, interval=0.005,
                       what="%d trips created" % count)
            remove(system, system.running(victims)[0])
        for future in work:
            future.result()
    back = time.monotonic()
    before = report_lines(system)
    print("burst: %d trips created, %d deleted; answers %s"
          % (len(created), len(deleted), {s: seen.count(s) for s in set(seen)}))
    print_before_repair("burst with instances killed", before)
    wait_consistent(system, "burst with instances killed", back)
    assert_store_matches(system, airport_ids, created - deleted)
    for trip_id in created - deleted:
        response = requests.delete(system.url + "/trip/" + trip_id, timeout=30)
        assert response.status_code == 204
    assert_store_matches(system, airport_ids, set())
