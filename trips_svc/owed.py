"""What the trips service owes the airports service, kept beside the trips.

A trip ``T`` is stored by the trips service, but the airports service keeps
which trips use each airport (``airports:refs:<airport>``): ``reserve``
adds ``T`` to both airports' sets, ``release`` takes it out (and leaves a
tombstone: a released ``T`` is never reserved again).  The two services'
stores can't change in one transaction, so every write that needs both
first records, atomically with its own part, the step it still owes: an
outbox: ``trips:owed:<T>``, the step, and ``trips:owed``, when each step is
due (their fields: the store's map, ``travel_common.redis_keys``).

States of ``T``'s step, and the Lua scripts that move it (each one atomic):

- ``pending``: a create of ``T`` is under way; ``T`` may be reserved, it is
  not stored.  ``OPEN`` records it together with the idempotency claim,
  before ``reserve``.  It lasts at most until ``until``: the caller's
  deadline (the gateway's ``RPC_TIMEOUT``, sent as context data), or
  ``CREATE_TIME_LIMIT`` seconds for a caller that gives none.
- ``undo``: ``T`` will never be stored; its reservation must be released.
  Entered by the create itself when it fails knowingly (``ABANDON``: an
  airport missing, ``reserve`` failed), by ``FINISH`` after ``until``, or by
  the reconciler once ``until`` has passed (``TAKE``).
- ``release``: ``T`` was deleted; its reservation must be released.
  ``DELETE`` removes the trip and its index entries and records this step.
- none: ``FINISH`` stores ``T`` and drops the step, only while it is
  ``pending`` and before ``until``; ``SETTLE`` drops an ``undo`` or
  ``release`` step once a ``release`` of ``T`` has succeeded.

Every trips instance runs the reconciler every ``OWED_STEPS_INTERVAL``
seconds: it takes the steps that are due (``TAKE``: a pending one past
``until`` becomes ``undo``; the step's due time moves ``OWED_STEP_RETRY``
seconds on, so that no other instance takes it meanwhile), calls ``release``
and settles it.  Whatever fails is taken up again on a later round.

Why "an airport is referenced by exactly the stored trips that use it, or by
a trip that has a step" holds through any fault, each script being atomic:

1. ``T`` is reserved only by a create of ``T``, after ``OPEN``.
2. ``T`` is stored only by ``FINISH``, which requires the step ``pending``
   and ``until`` not passed, and runs after ``reserve`` succeeded: a stored
   trip is referenced.  A step leaves ``pending`` only by ``FINISH`` or for
   ``undo``; ``TAKE`` turns it to ``undo`` only after ``until`` (on Redis's
   clock, as ``FINISH`` checks it).  So a trip is never stored once its undo
   began: a create that lost that race (fenced) stores nothing and answers
   ``Interrupted`` (503) or, past its deadline, ``DeadlineExceeded``.
3. A step is dropped only by ``FINISH`` (the trip is stored and referenced)
   or by ``SETTLE`` after a ``release`` that ran after the step entered
   ``undo``/``release``: the references are gone then, and stay gone: a
   ``reserve`` of ``T`` arriving later (held by a frozen airports instance,
   or from a concurrent retry of the same create) finds the tombstone and
   adds nothing (``Released``); one that ran before is undone by the release.
4. ``release`` runs only for a step in ``undo`` (never stored, by 2) or
   ``release`` (deleted): it never takes the references of a stored trip.
   ``SETTLE`` drops only a step still in the state released, and by then the
   release has run; two instances releasing the same step (a lease that ran
   out) do the same idempotent work.
5. A create whose ``FINISH`` outcome is unknown (Redis unreachable, or the
   write not acknowledged by ``REDIS_MIN_REPLICAS`` replicas in time) does
   nothing more: its step is either gone (stored) or pending, and undone once
   ``until`` has passed.  Nothing is released on a guess.
6. A retry of a create with the same idempotency key (or its redelivery after
   an instance died) finds the claim: the first answer if it was stored; the
   same ``T`` while its step is pending (``until`` is pushed to the retry's
   deadline); else a new id: ``T`` is released, never reused.
7. Airports: ``reserve`` adds ``T`` to both airports or, if one is missing,
   to neither; an airport is not deleted while its set has members.  So a
   stored trip's airports exist.

Tombstones are kept a day, far longer than a call can be held (a call
carries its caller's deadline, seconds away).  Steps survive restarts of the
services (they are in Redis).  A step is due at ``until``, or
``OWED_STEP_RETRY`` seconds after the last attempt at it, and each instance
looks every ``OWED_STEPS_INTERVAL`` seconds: once the services and Redis are
reachable again, what a fault left half done is repaired within about the
sum of the two.
"""

import json
import time
from typing import NamedTuple

from travel_common import idempotency
from travel_common.errors import (
    DeadlineExceeded,
    IdempotencyConflict,
    Interrupted,
    NotFound,
)
from travel_common.ids import new_id
from travel_common.records import Records, translated_redis_errors
from travel_common.redis_keys import IDEMPOTENCY, INDEX, OWED, RECORD, SEQUENCE

PENDING, UNDO, RELEASE = "pending", "undo", "release"
STEP_RETRY = 5.0  # OWED_STEP_RETRY: seconds before a step is taken up again
CREATE_TIME_LIMIT = 15.0  # for a create whose caller gives no deadline

# Redis's clock, in seconds, for scripts that compare times.
NOW = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
"""

# KEYS: idem (or ''), owed set, owed:<claimed id>, owed:<new id>
# ARGV: claimed id ('' if none expected), new id, fingerprint, ttl, airports,
# until
# Returns {'conflict'}, {'done', body}, {'claimed', id}: call again expecting
# that claim, {'reuse', id} or {'new', id}.
OPEN = NOW + """
if KEYS[1] ~= '' then
  local cur = redis.call('HMGET', KEYS[1], 'id', 'fp', 'body')
  if cur[1] then
    if cur[2] ~= ARGV[3] then return {'conflict'} end
    if cur[3] then
      -- Rewritten as it is, so that the WAIT that follows (REDIS_MIN_REPLICAS)
      -- covers the first create's writes, which another connection made.
      redis.call('HSET', KEYS[1], 'id', cur[1])
      return {'done', cur[3]}
    end
    if cur[1] ~= ARGV[1] then return {'claimed', cur[1]} end
    local step = redis.call('HMGET', KEYS[3], 'state', 'until')
    if step[1] == 'pending' and tonumber(step[2]) >= now then
      if tonumber(ARGV[6]) > tonumber(step[2]) then
        redis.call('HSET', KEYS[3], 'until', ARGV[6])
        redis.call('ZADD', KEYS[2], ARGV[6], ARGV[1])
      end
      return {'reuse', ARGV[1]}
    end
  end
  redis.call('HSET', KEYS[1], 'id', ARGV[2], 'fp', ARGV[3])
  redis.call('EXPIRE', KEYS[1], ARGV[4])
end
redis.call('HSET', KEYS[4], 'state', 'pending', 'airports', ARGV[5], 'until', ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[2])
return {'new', ARGV[2]}
"""

# KEYS: owed:<id>, owed set, rec, seq, idem (or ''), index, indexes...
# ARGV: id, body, retry, field, value, ...
# 1 stored; 2 stored already (a concurrent attempt); 0 the step is not
# pending (fenced); -1 past until: the step is now 'undo'.
FINISH = NOW + """
if redis.call('EXISTS', KEYS[3]) == 1 then return 2 end
local step = redis.call('HMGET', KEYS[1], 'state', 'until')
if step[1] ~= 'pending' then return 0 end
if tonumber(step[2]) < now then
  redis.call('HSET', KEYS[1], 'state', 'undo')
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
  return -1
end
local seq = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[3], 'seq', seq, unpack(ARGV, 4))
for i = 6, #KEYS do redis.call('ZADD', KEYS[i], seq, ARGV[1]) end
if KEYS[5] ~= '' then redis.call('HSET', KEYS[5], 'body', ARGV[2]) end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
"""

# KEYS: owed:<id>, owed set; ARGV: id, retry. 1 if the step was pending.
ABANDON = NOW + """
if redis.call('HGET', KEYS[1], 'state') ~= 'pending' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'undo')
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
return 1
"""

# KEYS: owed:<id>, owed set, rec, index, indexes...; ARGV: id, airports, retry.
# 1 deleted, with its release owed; 0 missing.
DELETE = NOW + """
if redis.call('EXISTS', KEYS[3]) == 0 then return 0 end
redis.call('DEL', KEYS[3])
for i = 4, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
redis.call('HSET', KEYS[1], 'state', 'release', 'airports', ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
return 1
"""

# KEYS: owed:<id>, owed set; ARGV: id, retry.  The step if it is due, taken
# for 'retry' seconds: {state, airports}; else false.
TAKE = NOW + """
local due = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not due or tonumber(due) > now then return false end
local step = redis.call('HMGET', KEYS[1], 'state', 'airports')
if not step[1] then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return false
end
if step[1] == 'pending' then
  step[1] = 'undo'
  redis.call('HSET', KEYS[1], 'state', 'undo')
end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
return step
"""

# KEYS: owed:<id>, owed set; ARGV: id, state.  Drops the step if in 'state'.
SETTLE = """
if redis.call('HGET', KEYS[1], 'state') == ARGV[2] then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
end
"""


class Step(NamedTuple):
    """A release owed to the airports service for a trip (state undo/release)."""

    trip_id: str
    state: str
    airport_ids: list


class Opened(NamedTuple):
    """A create under way (``trip_id``), or the first answer to its key."""

    trip_id: str | None
    record: dict | None = None


def pack(airport_ids: list) -> str:
    return ",".join(airport_ids)


class OwingTrips(Records):
    """Trip records, written together with the step they owe the airports."""

    step_retry = STEP_RETRY
    create_time_limit = CREATE_TIME_LIMIT

    def __init__(self, client, prefix, **options):
        super().__init__(client, prefix, **options)
        self._open = client.register_script(OPEN)
        self._finish = client.register_script(FINISH)
        self._abandon = client.register_script(ABANDON)
        self._delete_owing = client.register_script(DELETE)
        self._take = client.register_script(TAKE)
        self._settle = client.register_script(SETTLE)

    def owed_key(self, trip_id: str) -> str:
        return self.key(OWED, trip_id)

    def open_create(
        self, fields: dict, airport_ids: list, idempotency_key=None, deadline=None
    ) -> Opened:
        """Claim the idempotency key and a trip id, its create ``pending``.

        With a key used before: the first answer, or its trip id again while
        that create may still finish.  ``IdempotencyConflict`` for a key used
        with other fields.
        """
        if deadline is None:
            deadline = time.time() + self.create_time_limit
        claim_key = fingerprint = ""
        ttl = 0
        if idempotency_key:
            claim_key = self.key(IDEMPOTENCY, idempotency_key)
            fingerprint = idempotency.fingerprint(fields)
            ttl = idempotency.ttl_for(idempotency_key)
        trip_id, claimed = new_id(), ""
        for _ in range(3):  # a concurrent retry may replace the claim meanwhile
            outcome = self.write(
                self._open,
                keys=[
                    claim_key,
                    self.key(OWED),
                    self.owed_key(claimed or trip_id),
                    self.owed_key(trip_id),
                ],
                args=[claimed, trip_id, fingerprint, ttl, pack(airport_ids), deadline],
            )
            if outcome[0] == "conflict":
                raise IdempotencyConflict()
            if outcome[0] == "done":
                return Opened(None, json.loads(outcome[1]))
            if outcome[0] != "claimed":
                return Opened(outcome[1])
            claimed = outcome[1]
        raise Interrupted()

    def finish_create(
        self, trip_id: str, fields: dict, indexes=(), idempotency_key=None
    ) -> dict:
        """Store the trip and drop its step, if the step is still pending.

        ``Interrupted`` if it is not (undone meanwhile); ``DeadlineExceeded``
        if its time ran out: the step is then ``undo``, and its release owed.
        """
        record = {"id": trip_id, **fields}
        flat = [item for pair in fields.items() for item in pair]
        claim_key = self.key(IDEMPOTENCY, idempotency_key) if idempotency_key else ""
        outcome = self.write(
            self._finish,
            keys=[
                self.owed_key(trip_id),
                self.key(OWED),
                self.key(RECORD, trip_id),
                self.key(SEQUENCE),
                claim_key,
                self.key(INDEX),
                *(self.key(i) for i in indexes),
            ],
            args=[trip_id, json.dumps(record), self.step_retry, *flat],
        )
        if outcome == 0:
            raise Interrupted()
        if outcome == -1:
            raise DeadlineExceeded()
        return record

    def abandon(self, trip_id: str) -> bool:
        """Turn a pending create to ``undo``; False if it was not pending."""
        with translated_redis_errors():
            return bool(
                self._abandon(
                    keys=[self.owed_key(trip_id), self.key(OWED)],
                    args=[trip_id, self.step_retry],
                )
            )

    def delete_owing(self, trip_id: str, airport_ids: list, indexes=()) -> Step:
        """Delete the trip and owe its release, at once; ``NotFound`` if gone."""
        deleted = self.write(
            self._delete_owing,
            keys=[
                self.owed_key(trip_id),
                self.key(OWED),
                self.key(RECORD, trip_id),
                self.key(INDEX),
                *(self.key(i) for i in indexes),
            ],
            args=[trip_id, pack(airport_ids), self.step_retry],
        )
        if not deleted:
            raise NotFound()
        return Step(trip_id, RELEASE, airport_ids)

    def take_due(self, limit: int) -> list:
        """Up to ``limit`` steps that are due, taken for ``step_retry`` seconds."""
        steps = []
        with translated_redis_errors():
            seconds, micros = self.client.time()
            due = self.client.zrangebyscore(
                self.key(OWED), "-inf", seconds + micros / 1e6, start=0, num=limit
            )
            for trip_id in due:
                taken = self._take(
                    keys=[self.owed_key(trip_id), self.key(OWED)],
                    args=[trip_id, self.step_retry],
                )
                if taken:
                    steps.append(Step(trip_id, taken[0], taken[1].split(",")))
        return steps

    def settle(self, step: Step) -> None:
        """Drop a step whose release has been done."""
        with translated_redis_errors():
            self._settle(
                keys=[self.owed_key(step.trip_id), self.key(OWED)],
                args=[step.trip_id, step.state],
            )
