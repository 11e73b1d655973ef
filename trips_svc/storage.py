"""Trips in Redis, indexed by the airports they connect
(``trips:by_airport:<airport id>``; the map of the whole store:
``travel_common.redis_keys``).

Creates and deletes go through ``OwingTrips`` (``trips_svc.owed``), which
keeps, beside each trip, the step it still owes the airports service.
"""

from travel_common.redis_keys import BY_AIRPORT, key
from trips_svc.owed import OwingTrips, Step


def airport_index(airport_id: str) -> str:
    """The index of the trips from or to ``airport_id``, below the prefix."""
    return key(BY_AIRPORT, airport_id)


def trip_indexes(trip: dict) -> list:
    return [airport_index(trip["airport_from"]), airport_index(trip["airport_to"])]


class Trips(OwingTrips):
    def finish_trip(self, trip_id: str, fields: dict, idempotency_key=None) -> dict:
        return self.finish_create(
            trip_id, fields, trip_indexes(fields), idempotency_key=idempotency_key
        )

    def delete_trip(self, trip: dict, airport_ids: list) -> Step:
        return self.delete_owing(trip["id"], airport_ids, trip_indexes(trip))

    def page_for_airport(self, airport_id, limit, cursor=None) -> dict:
        return self.page(limit, cursor, index=airport_index(airport_id))

