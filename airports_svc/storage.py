"""Airports in Redis, with the set of trips that use each one."""

from travel_common.records import Records
from travel_common.service import RecordStore

# KEYS: the airports' records, then their reference sets; ARGV: trip id.
# Adds the trip to every airport's set, or to none if one of them is missing;
# returns the ids (positions) of the missing ones.
RESERVE = """
local n = #KEYS / 2
local missing = {}
for i = 1, n do
  if redis.call('EXISTS', KEYS[i]) == 0 then table.insert(missing, i) end
end
if #missing == 0 then
  for i = n + 1, #KEYS do redis.call('SADD', KEYS[i], ARGV[1]) end
end
return missing
"""

# KEYS: the airports' reference sets; ARGV: trip id.
RELEASE = """
for i = 1, #KEYS do redis.call('SREM', KEYS[i], ARGV[1]) end
"""


class Airports(Records):
    def __init__(self, client, prefix, **options):
        super().__init__(client, prefix, **options)
        self._reserve = client.register_script(RESERVE)
        self._release = client.register_script(RELEASE)

    def refs_key(self, airport_id: str) -> str:
        return "refs:" + airport_id

    def delete(self, airport_id: str) -> None:
        super().delete(airport_id, guard=self.refs_key(airport_id))

    def reserve(self, airport_ids: list, trip_id: str) -> list:
        """Mark the airports as used by ``trip_id``; return the missing ones."""
        missing = self.write(
            self._reserve,
            keys=[self.key("rec", a) for a in airport_ids]
            + [self.key(self.refs_key(a)) for a in airport_ids],
            args=[trip_id],
        )
        return [airport_ids[position - 1] for position in missing]

    def release(self, airport_ids: list, trip_id: str) -> None:
        self.write(
            self._release,
            keys=[self.key(self.refs_key(a)) for a in airport_ids],
            args=[trip_id],
        )


class AirportStore(RecordStore):
    repository_class = Airports
