"""The stack on a RabbitMQ cluster; faults under load, and what the clients
were told against what happened.

``cluster_stack`` runs the gateway and the services on a cluster, each
process on the node chosen for it, with quorum request queues whose leaders
are on the node chosen for them.

``CreateLoad`` sends creates through the gateway at a steady rate: an
airport with a name of its own, then a trip from that new airport to a hub,
so that every request can be found in the store afterwards.  Each request
is recorded: when it was sent, its request id, its status, the id it got.

``Timeline`` tells, relative to a fault: the statuses seen each second, the
time to normal answers after the fault and after the node's return.
``check_store`` compares the store with what the clients were told, and
``check_deadlines`` the services' log lines with each request's deadline.
"""

import collections
import itertools
import json
import subprocess
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

import requests
from kombu import Connection

from travel_common.rpc_queues import request_queue

from support.rabbit_cluster import RabbitCluster
from support.redis_servers import RedisDatabase
from support.stack import Stack

NORMAL = 201
SERVICES = ("airports_service", "trips_service")


@dataclass(frozen=True)
class Placement:
    """Which node (index) the gateway, the services and the request queues'
    leaders are on."""

    gateway: int
    services: int
    leaders: int


def declare_request_queues(cluster: RabbitCluster, vhost: str, node: int):
    """The services' quorum request queues, declared through ``node``: their
    leaders are there (RabbitMQ places a new queue's leader on the node of
    the connection that declares it)."""
    with Connection(cluster.nodes[node].uri(vhost), connect_timeout=5) as connection:
        channel = connection.channel()
        for service in SERVICES:
            request_queue(service, {"RPC_QUEUE_TYPE": "quorum"}).bind(channel).declare()


def broker_ports(pid: int) -> set:
    """The ports of the RabbitMQ nodes process ``pid`` has connections to."""
    out = subprocess.run(["ss", "-Htnp", "state", "established"],
                         capture_output=True, text=True, check=True).stdout
    return {int(line.split()[3].rsplit(":", 1)[1]) for line in out.splitlines()
            if "pid=%d," % pid in line}


@contextmanager
def cluster_stack(cluster: RabbitCluster, log_dir, placement: Placement | None = None,
                  **gateway_env):
    """The gateway and one instance of each service on ``cluster``, in a vhost
    and a Redis database of their own, with quorum request queues and JSON
    logs; each process on its ``placement`` node first (``listed`` node
    order), or in an order of its own (``shuffle``) without one."""
    vhost = cluster.add_vhost()
    database = RedisDatabase()
    env = {"RPC_QUEUE_TYPE": "quorum", "LOG_FORMAT": "json"}
    if placement is None:
        services_uri = gateway_uri = cluster.uri(vhost=vhost)
    else:
        declare_request_queues(cluster, vhost, placement.leaders)
        services_uri = cluster.uri(placement.services, vhost)
        gateway_uri = cluster.uri(placement.gateway, vhost)
        env["AMQP_NODE_ORDER"] = "listed"
    stack = Stack(services_uri, database.uri, log_dir, AMQP_URI=gateway_uri,
                  **env, **gateway_env)
    stack.env.update(env)
    stack.vhost, stack.database = vhost, database
    try:
        yield stack.start()
    finally:
        stack.stop()
        cluster.ctl("delete_vhost", vhost)
        database.release()


@dataclass
class Sent:
    kind: str  # "airport" or "trip"
    key: str  # the airport's name, or the trip's airport_from
    request_id: str
    sent: float  # epoch seconds
    status: object = None  # the HTTP status, or the client error's name
    id: str | None = None  # the record's id, when created
    elapsed: float = 0.0


class CreateLoad:
    """``rate`` create requests a second from ``clients`` threads (each one
    waits for its answer, up to ``timeout``)."""

    def __init__(self, url: str, rate: float = 50, clients: int = 16,
                 timeout: float = 15):
        self.url = url
        self.rate = rate
        self.clients = clients
        self.timeout = timeout
        self.label = uuid.uuid4().hex[:8]
        self.records = []
        self._numbers = itertools.count()
        self._next_turn = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []
        hub = requests.post(url + "/airport", json={"airport": "hub-" + self.label},
                            timeout=timeout)
        hub.raise_for_status()
        self.hub = hub.json()["id"]

    def __enter__(self):
        for _ in range(self.clients):
            thread = threading.Thread(target=self._client, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)

    def _turn(self) -> bool:
        with self._lock:
            now = time.monotonic()
            turn = max(self._next_turn, now)
            self._next_turn = turn + 1 / self.rate
        return not self._stop.wait(turn - now)

    def _client(self):
        with requests.Session() as session:
            while self._turn():
                name = "%s-%d" % (self.label, next(self._numbers))
                airport = self._send(session, "airport", name, {"airport": name})
                if airport.status == NORMAL and self._turn():
                    self._send(session, "trip", airport.id,
                               {"airport_from": airport.id, "airport_to": self.hub})

    def _send(self, session, kind: str, key: str, body: dict) -> Sent:
        record = Sent(kind, key, uuid.uuid4().hex, time.time())
        started = time.monotonic()
        try:
            response = session.post(
                "%s/%s" % (self.url, kind), json=body, timeout=self.timeout,
                headers={"X-Request-ID": record.request_id},
            )
            record.status = response.status_code
            if response.status_code == NORMAL:
                record.id = response.json()["id"]
        except requests.RequestException as error:
            record.status = type(error).__name__
        record.elapsed = time.monotonic() - started
        self.records.append(record)
        return record

    def normal_since(self, moment: float) -> bool:
        return any(r.status == NORMAL for r in self.records if r.sent >= moment)


class Timeline:
    """The load's requests around a fault at ``fault`` (epoch seconds) and
    the node's return at ``back``."""

    def __init__(self, records: list, fault: float, back: float):
        self.records = sorted(records, key=lambda record: record.sent)
        self.fault = fault
        self.back = back

    def per_second(self) -> list:
        """(second since the fault, Counter of statuses) for every second
        from 2 s before the fault to the last request."""
        seconds = collections.defaultdict(collections.Counter)
        for record in self.records:
            second = int((record.sent - self.fault) // 1)
            if second >= -2:
                seconds[second][record.status] += 1
        return sorted(seconds.items())

    def _normal_from(self, start: float, end: float) -> float | None:
        """Seconds from ``start`` until the last failed answer to a request
        sent between ``start`` and ``end`` came back (0.0 without one);
        ``None`` when no normal answer came after it."""
        window = [r for r in self.records if start <= r.sent < end]
        failed = [r.sent + r.elapsed for r in window if r.status != NORMAL]
        if not failed:
            return 0.0
        last = max(failed)
        if not any(r.status == NORMAL and r.sent + r.elapsed > last
                   for r in self.records):
            return None
        return last - start

    @property
    def to_normal_after_fault(self) -> float | None:
        return self._normal_from(self.fault, self.back)

    @property
    def to_normal_after_return(self) -> float | None:
        return self._normal_from(self.back, float("inf"))

    def slowest_normal(self, start: float, end: float = float("inf")) -> float:
        """The longest time a normal answer took, for requests sent then."""
        return max((r.elapsed for r in self.records
                    if start <= r.sent < end and r.status == NORMAL), default=0.0)

    def statuses(self, start: float, end: float = float("inf")) -> collections.Counter:
        return collections.Counter(
            r.status for r in self.records if start <= r.sent < end
        )

    def summary(self) -> str:
        def seconds(value):
            return "never" if value is None else "%.1f s" % value

        lines = [
            "statuses while down: %s; after the return: %s" % (
                dict(self.statuses(self.fault, self.back)),
                dict(self.statuses(self.back))),
            "last failure answered %s after the fault, %s after the return; "
            "slowest 201 while down %.1f s" % (
                seconds(self.to_normal_after_fault),
                seconds(self.to_normal_after_return),
                self.slowest_normal(self.fault, self.back)),
            "statuses by the second the request was sent, from the fault:",
        ]
        for second, counts in self.per_second():
            lines.append("  %+4ds %s" % (second, " ".join(
                "%s:%d" % item for item in sorted(counts.items(), key=str))))
        return "\n".join(lines)


def check_store(redis_client, records: list) -> dict:
    """Every 201 stored exactly once, nothing stored that was answered 503;
    any other failure stored at most once.  Returns the counts checked."""
    def counted(pattern: str, field: str) -> tuple:
        """How many records have each value of ``field``, and one id of each."""
        counts, ids = collections.Counter(), {}
        for key in redis_client.scan_iter(pattern):
            value = redis_client.hget(key, field)
            counts[value] += 1
            ids[value] = key.rsplit(":", 1)[1]
        return counts, ids

    stored = {"airport": counted("airports:rec:*", "airport"),
              "trip": counted("trips:rec:*", "airport_from")}
    seen = collections.Counter()
    for record in records:
        counts, ids = stored[record.kind]
        count = counts[record.key]
        seen[record.kind, record.status] += 1
        where = "%s %s (%s, request %s)" % (record.kind, record.key, record.status,
                                            record.request_id)
        if record.status == NORMAL:
            assert count == 1, "a created %s is stored %d times" % (where, count)
            assert ids[record.key] == record.id, where
        elif record.status == 503:
            assert count == 0, "%s answered 503 was stored" % where
        else:
            assert count <= 1, "%s is stored %d times" % (where, count)
    return dict(seen)


def service_calls(log_text: str) -> list:
    """The ``rpc ...`` lines of a service's JSON log, as dicts."""
    calls = []
    for line in log_text.splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry["message"].startswith("rpc ") and "started" in entry:
                calls.append(entry)
    return calls


def check_deadlines(calls: list, records: list, rpc_timeout: float,
                    slack: float = 0.05) -> int:
    """No call started after its deadline, and each request's deadline is
    ``rpc_timeout`` after its arrival at the gateway: between the client
    sending it and getting the answer.  Returns how many calls were checked."""
    requests_by_id = {record.request_id: record for record in records}
    checked = 0
    for call in calls:
        request = requests_by_id.get(call["request_id"])
        if request is None or call.get("deadline") is None:
            continue
        checked += 1
        assert call["started"] <= call["deadline"] + slack, (
            "%s started %.3f s after its deadline" % (
                call["message"], call["started"] - call["deadline"]))
        arrived = call["deadline"] - rpc_timeout
        assert request.sent - slack <= arrived <= request.sent + request.elapsed, (
            call, request)
    return checked
