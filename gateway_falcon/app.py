"""The gateway's app factory: configuration in, wired Falcon ASGI app out."""

import falcon
import falcon.asgi

from gateway_falcon.auth import ApiKeyAuth, protects
from gateway_falcon.config import Config
from gateway_falcon.cors import Cors
from gateway_falcon.errors import handle_unexpected, serialize_problem
from gateway_falcon.metrics import GatewayMetrics, InstrumentedRpc, Metrics
from gateway_falcon.middleware import RequestContext
from gateway_falcon.openapi import OpenApi, build_spec
from gateway_falcon.resources.docs import Docs, DocsAsset
from gateway_falcon.resources.health import Health, Ready
from gateway_falcon.resources.records import Kind, RecordCreate, RecordItem, RecordList
from gateway_falcon.rpc import RpcClient
from schemas import (
    AirportPage,
    AirportPageQuery,
    AirportSchema,
    TripPage,
    TripPageQuery,
    TripSchema,
)

AIRPORT = Kind(
    name="airport",
    plural="airports",
    service="airports_service",
    schema=AirportSchema(),
    page_query=AirportPageQuery(),
    page_schema=AirportPage(),
    delete_conflicts=True,
)
TRIP = Kind(
    name="trip",
    plural="trips",
    service="trips_service",
    schema=TripSchema(),
    page_query=TripPageQuery(),
    page_schema=TripPage(),
)


# Calls that may be sent again when the connection breaks under them: reads,
# and creates, since every create carries an idempotency key.
REPEATABLE = frozenset({"get", "list", "health", "create"})


class RpcLifespan:
    """Starts the RPC client with the ASGI lifespan, and stops it."""

    def __init__(self, rpc):
        self.rpc = rpc

    async def process_startup(self, scope, event):
        await self.rpc.start()

    async def process_shutdown(self, scope, event):
        await self.rpc.stop()


def rpc_client(config: Config, proxy_options: dict | None = None) -> RpcClient:
    """The gateway's RPC client, as ``config`` says."""
    return RpcClient(
        config.amqp_uri,
        config.rpc_timeout,
        max_in_flight=config.rpc_max_in_flight,
        queue_limit=config.rpc_queue_limit,
        proxy_options=proxy_options,
        heartbeat=config.amqp_heartbeat,
        node_order=config.amqp_node_order,
        repeatable=REPEATABLE,
        services=(AIRPORT.service, TRIP.service),
    )


def create_app(config: Config | None = None, rpc=None) -> falcon.asgi.App:
    config = config or Config.from_env()
    if rpc is None:
        rpc = rpc_client(config)
    metrics = GatewayMetrics(rpc)
    rpc = InstrumentedRpc(rpc, metrics)
    app = falcon.asgi.App(
        middleware=[RpcLifespan(rpc), RequestContext(metrics, config.rpc_timeout)]
    )
    app.set_error_serializer(serialize_problem)
    app.add_error_handler(Exception, handle_unexpected)
    if config.cors_origins:
        app.add_middleware(Cors(config.cors_origins))
    if config.api_keys:
        app.add_middleware(ApiKeyAuth(config.api_keys))

    max_body = config.max_body_bytes
    routes = [
        ("/health", Health()),
        ("/ready", Ready(rpc)),
        ("/airport", RecordCreate(AIRPORT, rpc, max_body)),
        ("/airport/{record_id}", RecordItem(AIRPORT, rpc)),
        ("/airports", RecordList(AIRPORT, rpc)),
        ("/trip", RecordCreate(TRIP, rpc, max_body)),
        ("/trip/{record_id}", RecordItem(TRIP, rpc)),
        ("/trips", RecordList(TRIP, rpc)),
        ("/docs", Docs()),
        ("/metrics", Metrics(metrics)),
    ]
    protected = protects if config.api_keys else None
    routes.append(("/openapi.json", OpenApi(build_spec(routes, protected))))
    for path, resource in routes:
        app.add_route(path, resource)
    app.add_route("/docs/{name}", DocsAsset())
    return app
