"""``/health`` (liveness) and ``/ready`` (readiness, with each dependency)."""

import asyncio

import falcon

from gateway_falcon.errors import ERROR_STATUS, RETRY_AFTER_SECONDS, problem_for
from gateway_falcon.middleware import rpc_context
from gateway_falcon.openapi import get_operation
from gateway_falcon.rpc import BrokerUnavailable, RpcClient
from travel_common.errors import StoreUnavailable

SERVICES = ("airports_service", "trips_service")
UP = {"status": "up"}


class Health:
    """The gateway process answers; touches nothing else."""

    def openapi(self) -> dict:
        return get_operation("Liveness: the gateway process answers", "OK")

    async def on_get(self, req, resp):
        resp.media = {"status": "ok"}


class Ready:
    """RabbitMQ routing a message back to the gateway, and each service
    answering with Redis reachable."""

    def __init__(self, rpc: RpcClient):
        self.rpc = rpc

    def openapi(self) -> dict:
        return {"get": {
            "summary": "Readiness: RabbitMQ, Redis and each service, one by one",
            "responses": {
                "200": {"description": "Ready"},
                "503": {"description": "A dependency is down; see `checks`"},
            },
        }}

    async def on_get(self, req, resp):
        context = rpc_context(req)
        broker, *services = await asyncio.gather(
            self._broker(),
            *(self._service(name, context) for name in SERVICES),
        )
        checks = {"rabbitmq": broker}
        redis = {"status": "unknown", "detail": "No service answered."}
        for name, (check, redis_check) in zip(SERVICES, services, strict=False):
            checks[name] = check
            if redis_check is not None and redis["status"] != "down":
                redis = redis_check
        checks["redis"] = redis
        ready = all(check["status"] == "up" for check in checks.values())
        resp.media = {"status": "ready" if ready else "unavailable", "checks": checks}
        if not ready:
            resp.status = falcon.HTTP_503
            resp.set_header("Retry-After", str(RETRY_AFTER_SECONDS))

    async def _broker(self) -> dict:
        try:
            await self.rpc.ping_broker()
        except BrokerUnavailable:
            return {"status": "down",
                    "detail": "RabbitMQ is unreachable or does not route messages."}
        return UP

    async def _service(self, name: str, context: dict) -> tuple:
        """The service's check, and the Redis check as that service saw it."""
        try:
            await self.rpc.call(name, "health", context)
        except StoreUnavailable as error:
            return UP, {"status": "down", "detail": error.detail}
        except tuple(ERROR_STATUS) as error:
            return {"status": "down", "detail": problem_for(error).description}, None
        return UP, UP
