"""A Sentinel-watched Redis losing nodes under a load of creates.

The gateway and both services run as real processes on ``REDIS_URI=
redis+sentinel://...`` with ``REDIS_MIN_REPLICAS=1``, against a password-
protected primary, two replicas and three Sentinels of this module's own
(``sentinel_support.SentinelGroup``).  Each fault is driven for real (``kill -9``,
SIGSTOP) while threads create airports and trips; afterwards the whole store
is read back and checked against every answer the clients got.
"""
import threading
import time
import uuid
from collections import Counter

import pytest
import requests

from travel_common.errors import NotAcknowledged
from travel_common.records import Records
from travel_common.redis_client import connect

from support import AIRPORTS_MODULE, LoadLoop, service, wait_until
from support.sentinel import SentinelGroup

RPC_TIMEOUT = 5  # the default
RESUME_LIMIT = 15  # seconds from the promotion to normal answers


@pytest.fixture(scope="module")
def group():
    group = SentinelGroup(replicas=2)
    yield group
    group.remove()


@pytest.fixture(scope="module")
def cluster_stack(group, stack_factory):
    return stack_factory(redis_uri=group.uri(), env={"REDIS_MIN_REPLICAS": "1"},
                         RPC_TIMEOUT=str(RPC_TIMEOUT))


class Creates:
    """One request per call, alternating per thread: a new airport, then a trip
    from it to the hub.  So no two trips share an origin, and a record stored
    twice would show.  Every 201 is kept, with what it answered."""

    def __init__(self, url: str):
        self.url = url
        hub = {"airport": "hub-" + uuid.uuid4().hex}
        self.hub = requests.post(url + "/airport", json=hub).json()["id"]
        self.airports = {}  # id -> name, as answered 201
        self.trips = {}  # id -> (from, to), as answered 201
        self.failed_trips = 0
        self.details = Counter()  # (status, detail) of every other answer
        self.local = threading.local()

    def __call__(self, session):
        origin = getattr(self.local, "origin", None)
        if origin is None:
            name = "a-" + uuid.uuid4().hex
            response = session.post(self.url + "/airport", json={"airport": name},
                                    timeout=30)
            if response.status_code == 201:
                self.airports[response.json()["id"]] = name
                self.local.origin = response.json()["id"]
        else:
            self.local.origin = None
            response = session.post(
                self.url + "/trip", timeout=30,
                json={"airport_from": origin, "airport_to": self.hub})
            if response.status_code == 201:
                self.trips[response.json()["id"]] = (origin, self.hub)
            else:
                self.failed_trips += 1
        if response.status_code != 201:
            detail = response.json().get("detail", "") if response.content else ""
            self.details[response.status_code, detail] += 1
        return response


@pytest.fixture
def creates(cluster_stack):
    return Creates(cluster_stack.url)


def check_store(group, creates) -> None:
    """Every 201 stored as answered, nothing twice, every stored trip in its
    airports' reference sets.  Also counts this load's references to trips
    that are not stored: a trip create that failed between
    the airports' step and its own leaves one (only failed requests can)."""
    with group.primary().client(group.password) as client:
        airports = {key.split(":")[2]: client.hget(key, "airport")
                    for key in client.scan_iter("airports:rec:*", count=1000)}
        trips = {key.split(":")[2]: tuple(client.hmget(key, "airport_from",
                                                       "airport_to"))
                 for key in client.scan_iter("trips:rec:*", count=1000)}
        refs = {key.split("refs:")[1]: client.smembers(key)
                for key in client.scan_iter("airports:refs:*", count=1000)}
    assert creates.airports and creates.trips
    lost = {i for i, name in creates.airports.items() if airports.get(i) != name}
    assert not lost, "airports answered 201 and missing: %s" % lost
    lost = {i for i, pair in creates.trips.items() if trips.get(i) != pair}
    assert not lost, "trips answered 201 and missing: %s" % lost
    assert max(Counter(airports.values()).values()) == 1
    assert max(Counter(origin for origin, _ in trips.values()).values()) == 1
    for trip_id, (origin, destination) in trips.items():
        assert trip_id in refs.get(origin, ()), trip_id
        assert trip_id in refs.get(destination, ()), trip_id
    dangling = {t for origin in creates.airports for t in refs.get(origin, ())
                if t not in trips}
    assert len(dangling) <= creates.failed_trips
    print("store: %d airports, %d trips, all %d + %d answered 201 there; %d "
          "references to trips whose create failed (of %d failed)"
          % (len(airports), len(trips), len(creates.airports), len(creates.trips),
             len(dangling), creates.failed_trips))


def first_201_after(load, moment: float) -> float | None:
    """When the first request sent after ``moment`` was answered 201."""
    return next((t + d for t, s, d in load.since(moment) if s == 201), None)


def test_a_sentinel_lost(group, creates):
    """Losing one Sentinel of three: nothing for the clients to see."""
    lost = group.sentinels[0]  # the first one the services ask
    with LoadLoop(creates, threads=4) as load:
        wait_until(lambda: 201 in load.statuses(), 10, what="normal answers first")
        lost.kill()
        killed = time.monotonic()
        time.sleep(2)
        during = load.since(killed)
    lost.start(group.password)
    assert load.statuses() == {201}, creates.details
    assert len(during) > 10
    check_store(group, creates)


def test_a_replayed_create_waits_for_its_replicas(group):
    """A create stored on the primary alone (its WAIT failed: "not
    acknowledged"), sent again with its key from another connection, is not
    answered before replicas hold it."""
    def records(min_replicas):
        client = connect(group.uri(1), socket_timeout=3, decode_responses=True)
        return Records(client, "replay", min_replicas=min_replicas)

    unwaiting, replayer = records(0), records(1)
    replayer.create({"airport": "acknowledged"})
    replicas = group.replicas()
    for replica in replicas:
        replica.pause()
    try:
        stored = unwaiting.create({"airport": "R"}, idempotency_key="client:k")
        with pytest.raises(NotAcknowledged):
            replayer.create({"airport": "R"}, idempotency_key="client:k")
    finally:
        for replica in replicas:
            replica.resume()
    assert replayer.create({"airport": "R"}, idempotency_key="client:k") == stored
    replayer.client.flushdb()


def test_primary_killed_a_replica_promoted_writes_resume(group, creates):
    old = group.primary()
    with LoadLoop(creates, threads=4) as load:
        wait_until(lambda: 201 in load.statuses(), 10, what="normal answers first")
        old.kill()
        killed = time.monotonic()
        wait_until(lambda: group.master_port() not in (None, old.port), 30,
                   interval=0.05, what="the Sentinels to promote a replica")
        promoted = time.monotonic()
        resumed = wait_until(lambda: first_201_after(load, promoted),
                             RESUME_LIMIT + 5, interval=0.05, what="writes to resume")
        time.sleep(2)  # and they go on
    during = [(s, d) for t, s, d in load.since(killed) if t + d < resumed]
    failures = [(s, d) for s, d in during if s != 201]
    print("failover: primary killed at 0.0 s, promoted (as the Sentinels tell) at "
          "%.1f s, first 201 at %.1f s (%.1f s after the promotion); %d requests "
          "answered in between: %s, the slowest in %.2f s"
          % (promoted - killed, resumed - killed, resumed - promoted, len(during),
             dict(Counter(s for s, _ in during)), max(d for _, d in during)))
    assert resumed - promoted < RESUME_LIMIT
    assert {s for s, _ in failures} <= {503}
    assert all(d < RPC_TIMEOUT for _, d in failures)  # fast, never a timeout
    assert LoadLoop.statuses(load, load.since(resumed + 1)) == {201}
    check_store(group, creates)


def test_old_primary_returns_as_a_replica(group, creates):
    (old,) = [node for node in group.nodes if not node.running] or [None]
    if old is None:
        pytest.skip("needs the primary killed by the test before")
    with LoadLoop(creates, threads=4) as load:
        wait_until(lambda: 201 in load.statuses(), 10, what="normal answers first")
        old.start(group.password)
        back = time.monotonic()
        wait_until(lambda: old in group.replicas(), 30, interval=0.2,
                   what="the Sentinels to make the old primary a replica")
        print("old primary: a replica in sync %.1f s after its start"
              % (time.monotonic() - back))
        time.sleep(1)
    assert load.statuses() == {201}, creates.details
    assert group.master_port() != old.port
    check_store(group, creates)


def test_replicas_lost(group, creates, cluster_stack):
    """One replica of two lost: writes go on.  Both: every write is a 503 "not
    acknowledged", fast, and a write refused outright leaves nothing behind."""
    first, second = group.replicas()
    with LoadLoop(creates, threads=4) as load:
        wait_until(lambda: 201 in load.statuses(), 10, what="normal answers first")
        first.kill()
        killed = time.monotonic()
        time.sleep(2)
        second.pause()  # silent: the primary still counts it, WAIT times out
        paused = time.monotonic()
        time.sleep(3)
        second.resume()
        resumed = time.monotonic()
        wait_until(lambda: first_201_after(load, resumed), 10, interval=0.05,
                   what="writes to resume")
    one_left = [s for t, s, d in load.outcomes if killed <= t and t + d < paused]
    none_left = [(s, d) for t, s, d in load.outcomes
                 if paused + 0.1 <= t and t + d < resumed]
    print("replicas lost: with one left %s; with none %s"
          % (dict(Counter(one_left)), dict(Counter(s for s, _ in none_left))))
    assert set(one_left) == {201}
    assert none_left and {s for s, _ in none_left} == {503}
    assert all(d < RPC_TIMEOUT for _, d in none_left)
    assert set(creates.details) == {(503, NotAcknowledged.detail)}

    # No replica at all: the primary refuses every write (min-replicas-to-write)
    # and nothing is written, not even an idempotency claim.
    second.kill()
    wait_until(lambda: not group.replicas(), 10, what="the primary to see none")
    with group.primary().client(group.password) as client:
        keys = client.dbsize()
        refused = [requests.post(cluster_stack.url + "/airport", json={"airport": "x"}),
                   requests.post(cluster_stack.url + "/trip", json={
                       "airport_from": next(iter(creates.airports)),
                       "airport_to": creates.hub})]
        assert [r.status_code for r in refused] == [503, 503]
        assert {r.json()["detail"] for r in refused} == {NotAcknowledged.detail}
        assert client.dbsize() == keys
    first.start(group.password)
    second.start(group.password)
    wait_until(lambda: len(group.replicas()) == 2, 30, interval=0.2,
               what="both replicas back")
    assert requests.post(cluster_stack.url + "/airport",
                         json={"airport": "y"}).status_code == 201
    check_store(group, creates)


def test_no_password_in_any_log_line(group, cluster_stack):
    """After the faults above (connection errors, failovers, refused writes):
    the password, however written, in no process's log."""
    logs = {p.name: p.log() for p in (cluster_stack.gateway, *cluster_stack.services)}
    services = "".join(logs[p.name] for p in cluster_stack.services)
    assert "StoreUnavailable" in services and "NotAcknowledged" in services
    for server in group.nodes + group.sentinels:
        logs["redis-server " + server.dir.name] = server.log()
    for name, text in logs.items():
        assert text, name
        assert group.secret not in text, name


def test_a_bad_uri_stops_the_service_at_start_up(group, cluster_stack, tmp_path):
    uri = group.uri().replace("/travel/0", "/travel/zero")
    env = dict(cluster_stack.env, REDIS_URI=uri)
    process = service(AIRPORTS_MODULE, "bad-uri", env, tmp_path).start()
    process.popen.wait(30)
    output = process.log()
    assert process.popen.returncode != 0
    assert "REDIS_URI: the database 'zero' is not a number" in output
    assert group.secret not in output
