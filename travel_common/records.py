"""Records in Redis: one hash per record, sorted-set indexes, idempotent creates.

The keys (``P:rec:<id>``, ``P:seq``, ``P:index``, ``P:idem:<key>`` under a
service's prefix ``P``, and the indexes a service adds) are in the map of the
whole store, ``travel_common.redis_keys``.

Pages follow ``seq``: a cursor is the last ``seq`` seen, so every record that
exists for the whole walk is listed exactly once.  Writes that touch several
keys are Lua scripts, so that Redis applies them whole.

Every write that a client is answered for goes through ``Records.write``: with
``min_replicas`` (``REDIS_MIN_REPLICAS``) it is followed, on the same
connection, by ``WAIT min_replicas`` (Redis's own count of the replicas that
hold everything this connection wrote), and a write fewer replicas confirmed
in time is ``NotAcknowledged``.  So no create answered 201 is lost when the
primary dies and Sentinel promotes a replica.
"""

import json
from contextlib import contextmanager

import redis

from travel_common import idempotency
from travel_common.errors import (
    IdempotencyConflict,
    InUse,
    NotAcknowledged,
    NotFound,
    StoreUnavailable,
)
from travel_common.ids import new_id
from travel_common.redis_keys import IDEMPOTENCY, INDEX, RECORD, SEQUENCE, key

# How long a write waits for its replicas (WAIT's timeout): plenty for a live
# replica (well under a millisecond on one network), short beside RPC_TIMEOUT.
WAIT_TIMEOUT_MS = 1000

# KEYS: idem, rec, seq, indexes...; ARGV: id, fingerprint, ttl, body, field,
# value, ...  A create with an idempotency key in one round trip: the claim,
# the record and its indexes, the claim's body.  Returns false when it stored
# the record; else the claim found: id, fp, body (or false: a claim of an
# earlier version of this code, made before its record was stored).
CLAIM_AND_INSERT = """
local cur = redis.call('HMGET', KEYS[1], 'id', 'fp', 'body')
if cur[1] then
  -- Rewritten as it is: WAIT is documented to cover the writes of its own
  -- connection, and the one that stored this claim may have been another's.
  redis.call('HSET', KEYS[1], 'id', cur[1])
  return cur
end
if redis.call('EXISTS', KEYS[2]) == 0 then
  local seq = redis.call('INCR', KEYS[3])
  redis.call('HSET', KEYS[2], 'seq', seq, unpack(ARGV, 5))
  for i = 4, #KEYS do redis.call('ZADD', KEYS[i], seq, ARGV[1]) end
end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'fp', ARGV[2], 'body', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return false
"""

# KEYS: rec, seq, idem (or ''), indexes...; ARGV: id, body, field, value, ...
INSERT = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  local seq = redis.call('INCR', KEYS[2])
  redis.call('HSET', KEYS[1], 'seq', seq, unpack(ARGV, 3))
  for i = 4, #KEYS do redis.call('ZADD', KEYS[i], seq, ARGV[1]) end
end
if KEYS[3] ~= '' then redis.call('HSET', KEYS[3], 'body', ARGV[2]) end
"""

# KEYS: rec, guard (or ''), indexes...; ARGV: id. 1 deleted, 0 missing, -1 in use.
DELETE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if KEYS[2] ~= '' and redis.call('SCARD', KEYS[2]) > 0 then return -1 end
redis.call('DEL', KEYS[1])
for i = 3, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
return 1
"""

REDIS_UNREACHABLE = (redis.ConnectionError, redis.TimeoutError)


@contextmanager
def translated_redis_errors():
    """Turn Redis being unreachable into the domain's ``StoreUnavailable``, and
    a primary refusing writes for want of replicas (``min-replicas-to-write``)
    into ``NotAcknowledged``."""
    try:
        yield
    except REDIS_UNREACHABLE:
        raise StoreUnavailable() from None
    except redis.ResponseError as error:
        if str(error).startswith("NOREPLICAS "):
            raise NotAcknowledged() from None
        raise


class Records:
    """The records of one kind, under one key prefix."""

    def __init__(self, client: redis.Redis, prefix: str, min_replicas: int = 0):
        self.client = client
        self.prefix = prefix
        self.min_replicas = min_replicas
        self._claim_and_insert = client.register_script(CLAIM_AND_INSERT)
        self._insert = client.register_script(INSERT)
        self._delete = client.register_script(DELETE)

    def key(self, *parts: str) -> str:
        """One of this prefix's keys (``travel_common.redis_keys``)."""
        return key(self.prefix, *parts)

    def write(self, script, keys: list, args: list):
        """Run a write ``script``; its result, once ``min_replicas`` replicas
        hold it.  Raises ``NotAcknowledged`` otherwise: the write may or may
        not stand, so it must be safe to run again."""
        with translated_redis_errors():
            if not self.min_replicas:
                return script(keys=keys, args=args)
            result, replicas = self._run_and_wait(script, keys, args)
            if isinstance(result, Exception):
                raise result
        if isinstance(replicas, Exception) or replicas < self.min_replicas:
            raise NotAcknowledged()
        return result

    def _run_and_wait(self, script, keys: list, args: list) -> list:
        """EVALSHA and WAIT in one round trip, on one connection.  (A script
        called on a pipeline would first ask SCRIPT EXISTS: one round trip
        more on every write.)  A server that doesn't have the script yet (a
        promoted replica: scripts reach replicas as their effects) refuses it
        without running it; it is then loaded, and run again."""
        for _ in range(2):
            pipe = self.client.pipeline(transaction=False)
            pipe.evalsha(script.sha, len(keys), *keys, *args)
            pipe.wait(self.min_replicas, WAIT_TIMEOUT_MS)
            outcome = pipe.execute(raise_on_error=False)
            if not isinstance(outcome[0], redis.exceptions.NoScriptError):
                break
            self.client.script_load(script.script)
        return outcome

    def create(self, fields: dict, indexes=(), idempotency_key=None):
        """Store a new record made of ``fields``; return it with its ``id``.

        With an ``idempotency_key``, a create that already ran for that key
        returns the first one's record instead (and the same key with other
        fields is an ``IdempotencyConflict``).
        """
        record_id = new_id()
        record = {"id": record_id, **fields}
        flat = [item for pair in fields.items() for item in pair]
        indexes = [self.key(INDEX), *(self.key(i) for i in indexes)]
        claim_key = ""
        if idempotency_key:
            claim_key = self.key(IDEMPOTENCY, idempotency_key)
            fingerprint = idempotency.fingerprint(fields)
            claimed = self.write(
                self._claim_and_insert,
                keys=[claim_key, self.key(RECORD, record_id), self.key(SEQUENCE),
                      *indexes],
                args=[record_id, fingerprint, idempotency.ttl_for(idempotency_key),
                      json.dumps(record), *flat],
            )
            if claimed is None:
                return record
            record_id, claimed_fingerprint, body = claimed
            if claimed_fingerprint != fingerprint:
                raise IdempotencyConflict()
            if body:
                return json.loads(body)
            record = {"id": record_id, **fields}  # the claim's record, not stored
        self.write(
            self._insert,
            keys=[self.key(RECORD, record_id), self.key(SEQUENCE), claim_key,
                  *indexes],
            args=[record_id, json.dumps(record), *flat],
        )
        return record

    def get(self, record_id: str) -> dict:
        with translated_redis_errors():
            fields = self.client.hgetall(self.key(RECORD, record_id))
        if not fields:
            raise NotFound()
        return self._record(record_id, fields)

    def delete(self, record_id: str, indexes=(), guard: str | None = None) -> None:
        """Delete a record; ``InUse`` while the ``guard`` set has members."""
        outcome = self.write(
            self._delete,
            keys=[
                self.key(RECORD, record_id),
                self.key(guard) if guard else "",
                self.key(INDEX),
                *(self.key(i) for i in indexes),
            ],
            args=[record_id],
        )
        if outcome == 0:
            raise NotFound()
        if outcome == -1:
            raise InUse()

    def page(self, limit: int, cursor: str | None = None, index: str = INDEX) -> dict:
        """Up to ``limit`` records after ``cursor``, oldest first; the next cursor."""
        low = "(%s" % cursor if cursor else "-inf"
        with translated_redis_errors():
            entries = self.client.zrangebyscore(
                self.key(index), low, "+inf", start=0, num=limit + 1, withscores=True
            )
            page, more = entries[:limit], len(entries) > limit
            pipe = self.client.pipeline(transaction=False)
            for record_id, _ in page:
                pipe.hgetall(self.key(RECORD, record_id))
            found = pipe.execute()
        items = [
            self._record(record_id, fields)
            for (record_id, _), fields in zip(page, found, strict=False)
            if fields
        ]
        return {"items": items, "next": "%d" % page[-1][1] if more else None}

    def ping(self) -> str:
        with translated_redis_errors():
            self.client.ping()
        return "up"

    @staticmethod
    def _record(record_id: str, fields: dict) -> dict:
        fields.pop("seq", None)
        return {"id": record_id, **fields}
