"""The airports service: airports by id, and which trips use them."""

from airports_svc.storage import Airports
from schemas import AirportPageQuery, AirportSchema
from travel_common import record_service
from travel_common.metrics import RpcMetrics
from travel_common.record_service import load_or_invalid
from travel_common.records_provider import RecordsProvider
from travel_common.redis_keys import AIRPORTS
from travel_common.request_log import RequestLog
from travel_common.rpc_entrypoint import rpc


class AirportsProvider(RecordsProvider):
    """Each worker's ``Airports`` repository."""

    repository_class = Airports


# (The module, not the class: ``nameko run <module>`` would take a base class
# with entrypoints, imported here, for a service of its own.)
class AirportsService(record_service.RecordService):
    name = "airports_service"
    schema = AirportSchema()
    page_query = AirportPageQuery()

    records = AirportsProvider(prefix=AIRPORTS)
    request_log = RequestLog()
    metrics = RpcMetrics()

    @rpc
    def create(self, airport, idempotency_key=None):
        fields = load_or_invalid(self.schema, {"airport": airport})
        record = self.records.create(fields, idempotency_key=idempotency_key)
        return self.schema.dump(record)

    @rpc
    def delete(self, airport_id):
        self.records.delete(airport_id)

    @rpc
    def reserve(self, airport_ids, trip_id):
        """Mark the airports as used by a trip; returns the ids that don't exist.

        ``Released`` for a trip id that was released: a late call adds nothing.
        """
        return self.records.reserve(airport_ids, trip_id)

    @rpc
    def release(self, airport_ids, trip_id):
        """The airports are no longer used by the trip; idempotent."""
        self.records.release(airport_ids, trip_id)
