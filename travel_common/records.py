"""Records in Redis: one hash per record, sorted-set indexes, idempotent creates.

Keys, under a service's prefix ``P``:

- ``P:rec:<id>``     hash of the record's fields, plus ``seq``
- ``P:seq``          counter giving each record its position
- ``P:index``        sorted set of all ids, scored by ``seq``
- ``P:<index>``      further sorted sets (for example trips by airport)
- ``P:idem:<key>``   hash ``id``, ``fp`` and, once stored, ``body`` of a create

Pages follow ``seq``: a cursor is the last ``seq`` seen, so every record that
exists for the whole walk is listed exactly once.  Writes that touch several
keys are Lua scripts, so that Redis applies them whole.
"""

import json
from contextlib import contextmanager

import redis

from travel_common import idempotency
from travel_common.errors import IdempotencyConflict, InUse, NotFound, StoreUnavailable
from travel_common.ids import new_id

# KEYS: idem; ARGV: id, fp, ttl. Returns the claim: id, fp, body (or false).
CLAIM = """
local cur = redis.call('HMGET', KEYS[1], 'id', 'fp', 'body')
if cur[1] then return cur end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'fp', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {ARGV[1], ARGV[2], false}
"""

# KEYS: rec, seq, idem (or ''), indexes...; ARGV: id, body, field, value, ...
STORE = """
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

STORE_ERRORS = (redis.ConnectionError, redis.TimeoutError)


@contextmanager
def store_errors():
    """Turn Redis being unreachable into the domain's ``StoreUnavailable``."""
    try:
        yield
    except STORE_ERRORS:
        raise StoreUnavailable() from None


class Records:
    """The records of one kind, under one key prefix."""

    def __init__(self, client: redis.Redis, prefix: str):
        self.client = client
        self.prefix = prefix
        self._claim = client.register_script(CLAIM)
        self._store = client.register_script(STORE)
        self._delete = client.register_script(DELETE)

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix,) + parts)

    def create(self, fields: dict, indexes=(), idempotency_key=None):
        """Store a new record made of ``fields``; return it with its ``id``.

        With an ``idempotency_key``, a create that already ran for that key
        returns the first one's record instead (and the same key with other
        fields is an ``IdempotencyConflict``).
        """
        record_id = new_id()
        idem = ""
        if idempotency_key:
            idem = self.key("idem", idempotency_key)
            fp = idempotency.fingerprint(fields)
            with store_errors():
                record_id, claimed_fp, body = self._claim(
                    keys=[idem],
                    args=[record_id, fp, idempotency.ttl_for(idempotency_key)],
                )
            if claimed_fp != fp:
                raise IdempotencyConflict()
            if body:
                return json.loads(body)
        record = {"id": record_id, **fields}
        flat = [item for pair in fields.items() for item in pair]
        with store_errors():
            self._store(
                keys=[
                    self.key("rec", record_id),
                    self.key("seq"),
                    idem,
                    self.key("index"),
                    *(self.key(i) for i in indexes),
                ],
                args=[record_id, json.dumps(record), *flat],
            )
        return record

    def get(self, record_id: str) -> dict:
        with store_errors():
            fields = self.client.hgetall(self.key("rec", record_id))
        if not fields:
            raise NotFound()
        return self._record(record_id, fields)

    def delete(self, record_id: str, indexes=(), guard: str | None = None) -> None:
        """Delete a record; ``InUse`` while the ``guard`` set has members."""
        with store_errors():
            outcome = self._delete(
                keys=[
                    self.key("rec", record_id),
                    self.key(guard) if guard else "",
                    self.key("index"),
                    *(self.key(i) for i in indexes),
                ],
                args=[record_id],
            )
        if outcome == 0:
            raise NotFound()
        if outcome == -1:
            raise InUse()

    def page(self, limit: int, cursor: str | None = None, index: str = "index") -> dict:
        """Up to ``limit`` records after ``cursor``, oldest first; the next cursor."""
        low = "(%s" % cursor if cursor else "-inf"
        with store_errors():
            entries = self.client.zrangebyscore(
                self.key(index), low, "+inf", start=0, num=limit + 1, withscores=True
            )
            page, more = entries[:limit], len(entries) > limit
            pipe = self.client.pipeline(transaction=False)
            for record_id, _ in page:
                pipe.hgetall(self.key("rec", record_id))
            found = pipe.execute()
        items = [
            self._record(record_id, fields)
            for (record_id, _), fields in zip(page, found, strict=False)
            if fields
        ]
        return {"items": items, "next": "%d" % page[-1][1] if more else None}

    def ping(self) -> str:
        with store_errors():
            self.client.ping()
        return "up"

    @staticmethod
    def _record(record_id: str, fields: dict) -> dict:
        fields.pop("seq", None)
        return {"id": record_id, **fields}
