"""The trips service: trips between two existing, different airports.

The airports service keeps, for each airport, the set of trips that use it:
a trip is only stored once both its airports have it in their set
(``reserve``, atomic on the airports' side), and leaves those sets when it
is deleted.  So an airport still used by a trip cannot be deleted, and a trip
never points at an airport that isn't there.
"""

from nameko.exceptions import RpcTimeout, UnknownService

from schemas import TripPageQuery, TripSchema
from travel_common.broker import BROKER_ERRORS
from travel_common.errors import DependencyUnavailable, Invalid
from travel_common.metrics import RpcMetrics
from travel_common.service import RequestLog, ServiceRpcProxy, load_or_invalid, rpc
from trips_svc.storage import TripStore

trip_schema = TripSchema()
page_query = TripPageQuery()

AIRPORT_FIELDS = ("airport_from", "airport_to")


class TripsService:
    name = "trips_service"

    store = TripStore(prefix="trips")
    airports = ServiceRpcProxy("airports_service")
    request_log = RequestLog()
    metrics = RpcMetrics()

    @rpc
    def create(self, airport_from, airport_to, idempotency_key=None):
        fields = load_or_invalid(
            trip_schema, {"airport_from": airport_from, "airport_to": airport_to}
        )
        airport_ids = [fields[name] for name in AIRPORT_FIELDS]

        def reserve_airports(trip_id):
            missing = self._call_airports("reserve", airport_ids, trip_id)
            if missing:
                raise Invalid(
                    {
                        name: ["Airport not found."]
                        for name in AIRPORT_FIELDS
                        if fields[name] in missing
                    }
                )

        record = self.store.create_trip(
            fields, idempotency_key=idempotency_key, prepare=reserve_airports
        )
        return trip_schema.dump(record)

    @rpc
    def get(self, trip_id):
        return trip_schema.dump(self.store.get(trip_id))

    @rpc
    def delete(self, trip_id):
        trip = self.store.get(trip_id)
        self.store.delete_trip(trip)
        self._call_airports("release", [trip[name] for name in AIRPORT_FIELDS], trip_id)

    @rpc
    def list(self, airport=None, limit=20, cursor=None):
        query = load_or_invalid(
            page_query, {"airport": airport, "limit": limit, "cursor": cursor}
        )
        if query["airport"]:
            page = self.store.page_for_airport(
                query["airport"], query["limit"], query["cursor"]
            )
        else:
            page = self.store.page(query["limit"], query["cursor"])
        page["items"] = trip_schema.dump(page["items"], many=True)
        return page

    @rpc
    def health(self):
        """Answers while this instance can reach Redis."""
        return {"redis": self.store.ping()}

    def _call_airports(self, method, *args):
        """A call to the airports service, within this call's deadline (a
        passed deadline raises ``DeadlineExceeded``)."""
        try:
            return getattr(self.airports, method)(*args)
        except (UnknownService, RpcTimeout, *BROKER_ERRORS):
            raise DependencyUnavailable() from None
