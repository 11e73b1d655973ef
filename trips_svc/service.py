"""The trips service: trips between two existing, different airports.

The airports service keeps, for each airport, the set of trips that use it:
a trip is only stored once both its airports have it in their set
(``reserve``, atomic on the airports' side), and leaves those sets when it
is deleted.  So an airport still used by a trip cannot be deleted, and a trip
never points at an airport that isn't there.  A step the trips service still
owes the airports (a ``release`` after a failed create or a delete) is kept
in Redis and retried by every instance's ``settle_owed_steps`` until it is
done: see ``trips_svc.owed`` for how that keeps both stores consistent.
"""

import logging

from nameko.contextdata import ContextDataProvider
from nameko.exceptions import RpcTimeout, UnknownService

from schemas import TripPageQuery, TripSchema
from travel_common import record_service
from travel_common.broker import BROKER_ERRORS
from travel_common.call_context import DEADLINE
from travel_common.errors import (
    DeadlineExceeded,
    DependencyUnavailable,
    Interrupted,
    Invalid,
    Released,
    StoreUnavailable,
)
from travel_common.metrics import RpcMetrics
from travel_common.record_service import load_or_invalid
from travel_common.records_provider import RecordsProvider
from travel_common.redis_keys import TRIPS
from travel_common.request_log import RequestLog
from travel_common.rpc_entrypoint import rpc
from travel_common.service_proxy import ServiceRpcProxy
from travel_common.timer import every
from trips_svc.owed import CREATE_TIME_LIMIT, STEP_RETRY, UNDO, Step
from trips_svc.storage import Trips

log = logging.getLogger(__name__)

AIRPORT_FIELDS = ("airport_from", "airport_to")
STEPS_PER_ROUND = 100


class CallerDeadline(ContextDataProvider):
    """When the caller stops waiting (epoch seconds, context data), or None."""

    context_key = DEADLINE


class TripsProvider(RecordsProvider):
    """Each worker's ``Trips`` repository, with the timings of the owed steps
    from the config (``OWED_STEP_RETRY``, ``CREATE_TIME_LIMIT``: see
    ``trips_svc.owed``)."""

    repository_class = Trips

    def start(self):
        super().start()
        config = self.container.config
        self.repository.step_retry = float(config.get("OWED_STEP_RETRY", STEP_RETRY))
        self.repository.create_time_limit = float(
            config.get("CREATE_TIME_LIMIT", CREATE_TIME_LIMIT)
        )


# (The module, not the class: ``nameko run <module>`` would take a base class
# with entrypoints, imported here, for a service of its own.)
class TripsService(record_service.RecordService):
    name = "trips_service"
    schema = TripSchema()
    page_query = TripPageQuery()

    records = TripsProvider(prefix=TRIPS)
    airports = ServiceRpcProxy("airports_service")
    caller_deadline = CallerDeadline()
    request_log = RequestLog()
    metrics = RpcMetrics()

    @rpc
    def create(self, airport_from, airport_to, idempotency_key=None):
        """Owe the trip's undo, reserve its airports, store it (dropping the
        debt).  A create that fails knowingly undoes its reservation itself;
        one cut short is undone by ``settle_owed_steps`` after its deadline."""
        fields = load_or_invalid(
            self.schema, {"airport_from": airport_from, "airport_to": airport_to}
        )
        airport_ids = [fields[name] for name in AIRPORT_FIELDS]
        opened = self.records.open_create(
            fields, airport_ids, idempotency_key, self._deadline()
        )
        if opened.record is not None:
            return self.schema.dump(opened.record)
        trip_id = opened.trip_id
        try:
            self._reserve(fields, airport_ids, trip_id)
        except Exception:
            self._abandon(Step(trip_id, UNDO, airport_ids))
            raise
        try:
            record = self.records.finish_trip(trip_id, fields, idempotency_key)
        except DeadlineExceeded:  # the step is 'undo' now, and ours to release
            self._release(Step(trip_id, UNDO, airport_ids))
            raise
        return self.schema.dump(record)

    @rpc
    def delete(self, trip_id):
        """Delete the trip, then release its airports.  The delete stands even
        if the release fails: it is owed, and done by ``settle_owed_steps``."""
        trip = self.records.get(trip_id)
        airport_ids = [trip[name] for name in AIRPORT_FIELDS]
        self._release(self.records.delete_trip(trip, airport_ids))

    @rpc
    def list(self, airport=None, limit=20, cursor=None):
        """All trips, or those from or to ``airport``."""
        query = load_or_invalid(
            self.page_query, {"airport": airport, "limit": limit, "cursor": cursor}
        )
        if query["airport"]:
            page = self.records.page_for_airport(
                query["airport"], query["limit"], query["cursor"]
            )
        else:
            page = self.records.page(query["limit"], query["cursor"])
        return self.dumped(page)

    @every("OWED_STEPS_INTERVAL", 2, eager=True)
    def settle_owed_steps(self):
        """Release what interrupted creates and deletes still owe the airports.

        Stops at the first failure: the airports service or Redis is
        unreachable, and the next round tries again.
        """
        while True:
            try:
                steps = self.records.take_due(STEPS_PER_ROUND)
            except StoreUnavailable:
                log.warning("owed steps not looked at: the data store is unavailable")
                return
            for step in steps:
                if not self._release(step, logging.WARNING):
                    return
                log.info("trip %s: settled its owed %s", step.trip_id, step.state)
            if len(steps) < STEPS_PER_ROUND:
                return

    def _reserve(self, fields, airport_ids, trip_id):
        try:
            missing = self._call_airports("reserve", airport_ids, trip_id)
        except Released:  # undone meanwhile: this trip id is spent
            raise Interrupted() from None
        if missing:
            raise Invalid(
                {
                    name: ["Airport not found."]
                    for name in AIRPORT_FIELDS
                    if fields[name] in missing
                }
            )

    def _abandon(self, step: Step):
        """A create that will not store its trip undoes its reservation."""
        try:
            if not self.records.abandon(step.trip_id):
                return  # stored or undone by another call meanwhile
        except StoreUnavailable:
            log.warning("trip %s: create failed; undone when it expires", step.trip_id)
            return
        self._release(step)

    def _release(self, step: Step, level=logging.INFO) -> bool:
        """Release the step's airports and drop the step; False if still owed
        (logged at ``level``)."""
        try:
            self._call_airports("release", step.airport_ids, step.trip_id)
            self.records.settle(step)
        except Exception as error:  # noqa: BLE001 - whatever it is, retried later
            log.log(
                level,
                "trip %s: release of its airports (%s) still owed: %s",
                step.trip_id,
                step.state,
                getattr(error, "detail", None) or type(error).__name__,
            )
            return False
        return True

    def _deadline(self) -> float | None:
        deadline = self.caller_deadline
        return None if deadline is None else float(deadline)

    def _call_airports(self, method, *args):
        """A call to the airports service, within this call's deadline (a
        passed deadline raises ``DeadlineExceeded``)."""
        try:
            return getattr(self.airports, method)(*args)
        except (UnknownService, RpcTimeout, *BROKER_ERRORS):
            raise DependencyUnavailable() from None
