"""The benchmark's baseline: the classic design a nameko user would pick
instead of the gateway, written as nameko's documentation shows it.

A nameko service whose ``@http`` entrypoints (nameko's own eventlet web
server, one worker per request) call ``airports_service`` and
``trips_service`` through nameko's ``RpcProxy``, with the gateway's routes,
bodies and success statuses.  It makes the same RPC calls as the gateway,
including the idempotency key every create carries, so that the services do
the same work behind both.  Errors get nameko's own answers (400 for a bad
body or a domain error, 500 otherwise): the benchmark sends valid requests.

``nameko run --config <config with WEB_SERVER_ADDRESS> bench.baseline``
"""

import json

from marshmallow import ValidationError
from nameko.rpc import RpcProxy
from nameko.web.handlers import http

from schemas import AirportPageQuery, AirportSchema, TripSchema
from travel_common import idempotency
from travel_common.errors import TravelError

airport_schema = AirportSchema()
trip_schema = TripSchema()
page_query = AirportPageQuery()
JSON = {"Content-Type": "application/json"}
BAD_REQUEST = (ValueError, ValidationError, TravelError)


def created(kind: str, record: dict) -> tuple:
    headers = dict(JSON, Location="/%s/%s" % (kind, record["id"]))
    return 201, headers, json.dumps(record)


class BaselineGateway:
    name = "baseline_gateway"

    airports = RpcProxy("airports_service")
    trips = RpcProxy("trips_service")

    @http("GET", "/health")
    def health(self, request):
        return 200, JSON, '{"status": "ok"}'

    @http("POST", "/airport", expected_exceptions=BAD_REQUEST)
    def create_airport(self, request):
        fields = airport_schema.load(json.loads(request.get_data(as_text=True)))
        record = self.airports.create(
            idempotency_key=idempotency.auto_key(), **fields
        )
        return created("airport", record)

    @http("GET", "/airport/<string:airport_id>", expected_exceptions=BAD_REQUEST)
    def get_airport(self, request, airport_id):
        return 200, JSON, json.dumps(self.airports.get(airport_id))

    @http("GET", "/airports", expected_exceptions=BAD_REQUEST)
    def list_airports(self, request):
        query = page_query.load(request.args.to_dict())
        return 200, JSON, json.dumps(self.airports.list(**query))

    @http("POST", "/trip", expected_exceptions=BAD_REQUEST)
    def create_trip(self, request):
        fields = trip_schema.load(json.loads(request.get_data(as_text=True)))
        record = self.trips.create(idempotency_key=idempotency.auto_key(), **fields)
        return created("trip", record)
