"""Trips in Redis, indexed by the airports they connect."""

from travel_common.records import Records
from travel_common.service import RecordStore


def airport_index(airport_id: str) -> str:
    return "by_airport:" + airport_id


def trip_indexes(trip: dict) -> list:
    return [airport_index(trip["airport_from"]), airport_index(trip["airport_to"])]


class Trips(Records):
    def create_trip(self, fields: dict, idempotency_key=None, prepare=None) -> dict:
        return self.create(
            fields,
            indexes=trip_indexes(fields),
            idempotency_key=idempotency_key,
            prepare=prepare,
        )

    def delete_trip(self, trip: dict) -> None:
        self.delete(trip["id"], indexes=trip_indexes(trip))

    def page_for_airport(self, airport_id, limit, cursor=None) -> dict:
        return self.page(limit, cursor, index=airport_index(airport_id))


class TripStore(RecordStore):
    repository_class = Trips
