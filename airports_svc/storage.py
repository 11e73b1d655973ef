"""Airports in Redis, with the set of trips that use each one.

Besides the records (``travel_common.records``), the airports keep
``airports:refs:<airport id>``, the trips that use each airport, and
``airports:released:<trip id>``, a trip id that was released: it is never
reserved again, so that a ``reserve`` that arrives late (held by a frozen
instance until after the trips service gave up on it and released it) adds
nothing.  A tombstone is kept for ``RELEASED_TTL``, far longer than a call can
be held.  (The map of the whole store: ``travel_common.redis_keys``.)
"""

from travel_common.errors import Released
from travel_common.records import Records
from travel_common.redis_keys import RECORD, REFS, RELEASED, key

RELEASED_TTL = 24 * 3600  # seconds; as long as a client's idempotency key

# KEYS: released, the airports' records, then their reference sets; ARGV: trip
# id.  Adds the trip to every airport's set, or to none if one of them is
# missing; returns the positions of the missing ones, or -1 if the trip id was
# released already.
RESERVE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local n = (#KEYS - 1) / 2
local missing = {}
for i = 2, n + 1 do
  if redis.call('EXISTS', KEYS[i]) == 0 then table.insert(missing, i - 1) end
end
if #missing == 0 then
  for i = n + 2, #KEYS do redis.call('SADD', KEYS[i], ARGV[1]) end
end
return missing
"""

# KEYS: released, reference sets; ARGV: trip id, ttl.
RELEASE = """
for i = 2, #KEYS do redis.call('SREM', KEYS[i], ARGV[1]) end
redis.call('SET', KEYS[1], '1', 'EX', ARGV[2])
"""


class Airports(Records):
    def __init__(self, client, prefix, **options):
        super().__init__(client, prefix, **options)
        self._reserve = client.register_script(RESERVE)
        self._release = client.register_script(RELEASE)

    def delete(self, airport_id: str) -> None:
        super().delete(airport_id, guard=key(REFS, airport_id))

    def reserve(self, airport_ids: list, trip_id: str) -> list:
        """Mark the airports as used by ``trip_id``; return the missing ones.

        ``Released`` if ``trip_id`` was released before: nothing is marked.
        """
        missing = self.write(
            self._reserve,
            keys=[self.key(RELEASED, trip_id)]
            + [self.key(RECORD, a) for a in airport_ids]
            + [self.key(REFS, a) for a in airport_ids],
            args=[trip_id],
        )
        if missing == -1:
            raise Released()
        return [airport_ids[position - 1] for position in missing]

    def release(self, airport_ids: list, trip_id: str) -> None:
        """The airports are no longer used by ``trip_id``, nor ever will be."""
        self.write(
            self._release,
            keys=[self.key(RELEASED, trip_id)]
            + [self.key(REFS, a) for a in airport_ids],
            args=[trip_id, RELEASED_TTL],
        )
