"""Audit of airports and trips: ``python -m travel_common.audit``.

Scans the whole store (its keys: ``travel_common.redis_keys``) and prints
every broken reference, one per line:

- an airport that references a trip that is not stored, or that does not use
  it, while that trip owes nothing (no step in ``trips:owed:``);
- references kept for an airport that does not exist;
- a stored trip whose airport is missing, or does not reference it;
- an index entry (``trips:index``, ``trips:by_airport:``) that disagrees with
  the stored trips, or a stored trip missing from its indexes;
- a stored trip that still owes a step, or a step that no instance would
  ever take up (not in the ``trips:owed`` schedule).

References held by a trip that owes a step are work in progress, not broken:
they are listed apart, as pending, with the step's state and when it is due
(``trips_svc.owed``: the services finish them by themselves).

A store in use changes while it is scanned, so a reference can look broken
for the moment a create or a delete takes between its steps; what looks
broken is scanned again, and only what is broken in both scans is reported.

``REDIS_URI`` comes from the environment, as the services read it (either
form, ``redis://`` or ``redis+sentinel://``); when the
two services keep their records in different Redis databases, give them with
``--airports-redis`` and ``--trips-redis``.  Exit status: 0 when nothing is
broken (pending steps are fine), 1 when something is, 2 when the store cannot
be read.
"""

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import NamedTuple

import redis

from travel_common import redis_client
from travel_common.logs import mask_secrets
from travel_common.redis_keys import (
    AIRPORTS,
    BY_AIRPORT,
    INDEX,
    OWED,
    RECORD,
    REFS,
    TRIPS,
    key,
)

DEFAULT_REDIS_URI = "redis://localhost:6379/0"
BATCH = 1000
RESCAN_PAUSE = 0.2  # seconds between the two scans of a store that looks broken


class Finding(NamedTuple):
    kind: str
    detail: str


@dataclass
class Snapshot:
    """What the store held, read key by key (not at one instant)."""

    now: float = 0.0
    airports: set = field(default_factory=set)
    refs: dict = field(default_factory=dict)  # airport id -> trip ids
    trips: dict = field(default_factory=dict)  # trip id -> (from, to)
    index: set = field(default_factory=set)  # trips:index
    by_airport: dict = field(default_factory=dict)  # airport id -> trip ids
    steps: dict = field(default_factory=dict)  # trip id -> owed step's fields
    schedule: dict = field(default_factory=dict)  # trip id -> due time


@dataclass
class Report:
    broken: list
    pending: list
    counts: dict

    def as_dict(self) -> dict:
        return {
            "broken": [f._asdict() for f in self.broken],
            "pending": [f._asdict() for f in self.pending],
            "counts": self.counts,
        }

    def lines(self) -> list:
        out = ["BROKEN %s: %s" % finding for finding in self.broken]
        out += ["PENDING %s: %s" % finding for finding in self.pending]
        counts = self.counts
        out.append(
            "checked %d airports, %d trips, %d owed steps: %d broken, %d pending"
            % (
                counts["airports"],
                counts["trips"],
                counts["steps"],
                len(self.broken),
                len(self.pending),
            )
        )
        return out


def _ids(client, pattern: str) -> list:
    """The last part of every key matching ``pattern``."""
    return [key.rsplit(":", 1)[1] for key in client.scan_iter(pattern, count=BATCH)]


def _batched(client, ids: list, read) -> list:
    """``read(pipe, id)`` for every id, through pipelines of ``BATCH`` reads."""
    results = []
    for start in range(0, len(ids), BATCH):
        pipe = client.pipeline(transaction=False)
        for item in ids[start : start + BATCH]:
            read(pipe, item)
        results += pipe.execute()
    return results


def _sets(client, parent: str, read) -> dict:
    """id -> members of every ``parent:<id>`` set, read by ``read(pipe, key)``."""
    ids = _ids(client, key(parent, "*"))
    found = _batched(client, ids, lambda pipe, i: read(pipe, key(parent, i)))
    return {i: set(members) for i, members in zip(ids, found, strict=True)}


def snapshot(airports_client, trips_client) -> Snapshot:
    """Read every airport, reference, trip, index entry and owed step."""
    seen = Snapshot()
    seconds, micros = trips_client.time()
    seen.now = seconds + micros / 1e6
    seen.airports = set(_ids(airports_client, key(AIRPORTS, RECORD, "*")))
    seen.refs = _sets(airports_client, key(AIRPORTS, REFS), lambda p, k: p.smembers(k))
    trip_ids = _ids(trips_client, key(TRIPS, RECORD, "*"))
    ends = _batched(
        trips_client,
        trip_ids,
        lambda p, i: p.hmget(key(TRIPS, RECORD, i), "airport_from", "airport_to"),
    )
    seen.trips = dict(zip(trip_ids, map(tuple, ends), strict=True))
    seen.index = set(trips_client.zrange(key(TRIPS, INDEX), 0, -1))
    seen.by_airport = _sets(
        trips_client, key(TRIPS, BY_AIRPORT), lambda p, k: p.zrange(k, 0, -1)
    )
    step_ids = _ids(trips_client, key(TRIPS, OWED, "*"))
    steps = _batched(
        trips_client, step_ids, lambda p, i: p.hgetall(key(TRIPS, OWED, i))
    )
    seen.steps = {i: step for i, step in zip(step_ids, steps, strict=True) if step}
    seen.schedule = dict(trips_client.zrange(key(TRIPS, OWED), 0, -1, withscores=True))
    return seen


def _step_detail(seen: Snapshot, trip_id: str) -> str:
    step = seen.steps[trip_id]
    state = step.get("state", "?")
    what = "create under way" if state == "pending" else "release owed (%s)" % state
    airports = ", ".join(step.get("airports", "").split(","))
    due = seen.schedule.get(trip_id)
    if due is None:
        when = "not scheduled"
    elif due > seen.now:
        when = "due in %.1fs" % (due - seen.now)
    else:
        when = "overdue by %.1fs" % (seen.now - due)
    return "trip %s, airports %s: %s, %s" % (trip_id, airports, what, when)


def findings(seen: Snapshot) -> tuple:
    """(broken, pending): lists of ``Finding``, in a stable order."""
    broken, pending = [], []
    for airport_id, members in sorted(seen.refs.items()):
        if airport_id not in seen.airports:
            broken.append(
                Finding(
                    "references of a missing airport",
                    "airport %s (no record) is referenced by trips %s"
                    % (airport_id, ", ".join(sorted(members))),
                )
            )
        for trip_id in sorted(members):
            ends = seen.trips.get(trip_id)
            if ends is not None and airport_id in ends:
                continue
            if trip_id in seen.steps:
                continue  # listed with the pending steps below
            if ends is None:
                kind, why = "orphan reference", "which is not stored"
            else:
                kind, why = "wrong reference", "which does not use it"
            detail = "airport %s references trip %s, %s" % (airport_id, trip_id, why)
            broken.append(Finding(kind, detail))
    for trip_id, ends in sorted(seen.trips.items()):
        for airport_id in ends:
            if airport_id not in seen.airports:
                broken.append(
                    Finding(
                        "missing airport",
                        "trip %s uses airport %s, which does not exist"
                        % (trip_id, airport_id),
                    )
                )
            elif trip_id not in seen.refs.get(airport_id, ()):
                broken.append(
                    Finding(
                        "missing reference",
                        "trip %s uses airport %s, which does not reference it"
                        % (trip_id, airport_id),
                    )
                )
            if trip_id not in seen.by_airport.get(airport_id, ()):
                broken.append(
                    Finding(
                        "missing index entry",
                        "trip %s is not listed for airport %s" % (trip_id, airport_id),
                    )
                )
        if trip_id not in seen.index:
            broken.append(
                Finding("missing index entry", "trip %s is not listed" % trip_id)
            )
        if trip_id in seen.steps:
            broken.append(
                Finding(
                    "stored trip with a step",
                    "trip %s is stored and owes a step (%s)"
                    % (trip_id, seen.steps[trip_id].get("state")),
                )
            )
    for airport_id, members in sorted(seen.by_airport.items()):
        for trip_id in sorted(members):
            if airport_id not in seen.trips.get(trip_id, ()):
                broken.append(
                    Finding(
                        "stale index entry",
                        "trip %s is listed for airport %s but is not stored with it"
                        % (trip_id, airport_id),
                    )
                )
    for trip_id in sorted(seen.index - set(seen.trips)):
        broken.append(
            Finding("stale index entry", "trip %s is listed but not stored" % trip_id)
        )
    for trip_id in sorted(seen.steps):
        if trip_id not in seen.schedule:
            broken.append(
                Finding(
                    "unscheduled step",
                    "trip %s owes a step that no instance will take up" % trip_id,
                )
            )
        elif trip_id not in seen.trips:
            pending.append(Finding("owed step", _step_detail(seen, trip_id)))
    return broken, pending


def audit(airports_client, trips_client, rescan_pause: float = RESCAN_PAUSE) -> Report:
    """Scan the store; what looks broken is scanned again, and reported only
    if it is broken in both scans."""
    seen = snapshot(airports_client, trips_client)
    broken, pending = findings(seen)
    if broken:
        time.sleep(rescan_pause)
        seen = snapshot(airports_client, trips_client)
        again, pending = findings(seen)
        broken = [finding for finding in again if finding in set(broken)]
    counts = {
        "airports": len(seen.airports),
        "trips": len(seen.trips),
        "steps": len(seen.steps),
    }
    return Report(broken, pending, counts)


def client(uri: str) -> redis.Redis:
    """The store at ``uri``, in either form the services take (``redis_client``)."""
    return redis_client.connect(
        uri, decode_responses=True, socket_timeout=10, socket_connect_timeout=5
    )


def main(argv: list[str] | None = None) -> int:
    default = os.environ.get("REDIS_URI") or DEFAULT_REDIS_URI
    parser = argparse.ArgumentParser(
        prog="python -m travel_common.audit",
        description="Print every broken reference between airports and trips.",
    )
    parser.add_argument(
        "--airports-redis", default=default, help="the airports' Redis (REDIS_URI)"
    )
    parser.add_argument(
        "--trips-redis", default=default, help="the trips' Redis (REDIS_URI)"
    )
    parser.add_argument("--json", action="store_true", help="one JSON document")
    args = parser.parse_args(argv)
    airports_client = client(args.airports_redis)
    trips_client = (
        airports_client
        if args.trips_redis == args.airports_redis
        else client(args.trips_redis)
    )
    try:
        report = audit(airports_client, trips_client)
    except (redis.ConnectionError, redis.TimeoutError) as error:
        print("cannot read the store: %s" % mask_secrets(str(error)), file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print("\n".join(report.lines()))
    return 1 if report.broken else 0


if __name__ == "__main__":
    sys.exit(main())
