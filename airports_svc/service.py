"""The airports service: airports by id, and which trips use them."""

from airports_svc.storage import PREFIX, Airports
from schemas import AirportPageQuery, AirportSchema
from travel_common.metrics import RpcMetrics
from travel_common.service import RecordStore, RequestLog, load_or_invalid, rpc

airport_schema = AirportSchema()
page_query = AirportPageQuery()


class AirportStore(RecordStore):
    repository_class = Airports


class AirportsService:
    name = "airports_service"

    store = AirportStore(prefix=PREFIX)
    request_log = RequestLog()
    metrics = RpcMetrics()

    @rpc
    def create(self, airport, idempotency_key=None):
        fields = load_or_invalid(airport_schema, {"airport": airport})
        record = self.store.create(fields, idempotency_key=idempotency_key)
        return airport_schema.dump(record)

    @rpc
    def get(self, airport_id):
        return airport_schema.dump(self.store.get(airport_id))

    @rpc
    def delete(self, airport_id):
        self.store.delete(airport_id)

    @rpc
    def list(self, limit=20, cursor=None):
        query = load_or_invalid(page_query, {"limit": limit, "cursor": cursor})
        page = self.store.page(query["limit"], query["cursor"])
        page["items"] = airport_schema.dump(page["items"], many=True)
        return page

    @rpc
    def reserve(self, airport_ids, trip_id):
        """Mark the airports as used by a trip; returns the ids that don't exist.

        ``Released`` for a trip id that was released: a late call adds nothing.
        """
        return self.store.reserve(airport_ids, trip_id)

    @rpc
    def release(self, airport_ids, trip_id):
        """The airports are no longer used by the trip; idempotent."""
        self.store.release(airport_ids, trip_id)

    @rpc
    def health(self):
        """Answers while this instance can reach Redis."""
        return {"redis": self.store.ping()}
