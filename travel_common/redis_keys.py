"""Every key the services keep in Redis: the one map of the store.

Each service writes under a prefix of its own, ``airports`` or ``trips``
(the tests use other prefixes, and other databases, of their own).  The
values named here are what the services read back: changing one changes
what stored data means.

Records, the same for both services (``travel_common.records``), under a
prefix ``P``:

- ``P:rec:<id>``      hash: the record's fields, plus ``seq``
- ``P:seq``           counter: each new record's ``seq``, its position
- ``P:index``         sorted set: every record's id, scored by its ``seq``
- ``P:idem:<key>``    hash of a create with an idempotency key: ``id`` (the
  record it made), ``fp`` (the fingerprint of its fields) and, once stored,
  ``body`` (its answer, JSON); expires with the key (``idempotency.ttl_for``:
  a day for a client's key, an hour for one the gateway made up)

Airports (``airports_svc.storage``):

- ``airports:refs:<airport id>``      set: the ids of the trips that use the
  airport; it can't be deleted while this has members
- ``airports:released:<trip id>``     tombstone ``1`` of a trip whose
  references were released: it is never reserved again (``RELEASED_TTL``,
  a day)

Trips (``trips_svc.storage``, ``trips_svc.owed``):

- ``trips:by_airport:<airport id>``   sorted set: the trips from or to that
  airport, scored by ``seq``
- ``trips:owed:<trip id>``            hash of the step the trip still owes the
  airports service: ``state`` (``pending``, ``undo`` or ``release``),
  ``airports`` (the two airport ids, comma-separated) and, while pending,
  ``until`` (epoch seconds)
- ``trips:owed``                      sorted set: the trips with a step,
  scored by when the step is due (epoch seconds)

``python -m travel_common.audit`` reads all of these and reports what
disagrees.
"""

AIRPORTS = "airports"
TRIPS = "trips"

RECORD = "rec"
SEQUENCE = "seq"
INDEX = "index"
IDEMPOTENCY = "idem"
REFS = "refs"
RELEASED = "released"
BY_AIRPORT = "by_airport"
OWED = "owed"


def key(*parts: str) -> str:
    """``part:part:...``, as every key above is spelled: a whole key (from its
    prefix on), or the part of one below a prefix (``key(REFS, airport_id)``)."""
    return ":".join(parts)
