"""The record resources, one class per URL shape, for airports and trips alike.

``Kind`` says what differs between airports and trips: names, service, schemas.
Their OpenAPI operations: ``gateway_falcon.record_operations``.
"""

from dataclasses import dataclass

import falcon
from marshmallow import Schema, ValidationError

from gateway_falcon import record_operations
from gateway_falcon.body import read_json_object
from gateway_falcon.errors import ERROR_STATUS, Problem, problem_for, validation_problem
from gateway_falcon.middleware import rpc_context
from gateway_falcon.rpc import RpcClient
from travel_common import idempotency
from travel_common.ids import is_id


@dataclass(frozen=True)
class Kind:
    name: str  # "airport": POST /airport, GET /airport/<id>
    plural: str  # "airports": GET /airports
    service: str
    schema: Schema
    page_query: Schema
    page_schema: Schema
    # Whether deleting can be refused because other records use this one.
    delete_conflicts: bool = False


def load(schema: Schema, data: dict) -> dict:
    try:
        return schema.load(data)
    except ValidationError as error:
        raise validation_problem(error.messages) from None


async def call(rpc: RpcClient, req, service: str, method: str, *args, **kwargs):
    """An RPC on behalf of ``req``, within its deadline; what it raises
    becomes an HTTP problem."""
    try:
        return await rpc.call(service, method, rpc_context(req), *args, **kwargs)
    except tuple(ERROR_STATUS) as error:
        raise problem_for(error) from None


class RecordCreate:
    """``POST /<kind>``."""

    def __init__(self, kind: Kind, rpc: RpcClient, max_body_bytes: int):
        self.kind = kind
        self.rpc = rpc
        self.max_body_bytes = max_body_bytes

    async def on_post(self, req, resp):
        fields = load(
            self.kind.schema, await read_json_object(req, self.max_body_bytes)
        )
        record = await call(
            self.rpc,
            req,
            self.kind.service,
            "create",
            idempotency_key=self._idempotency_key(req),
            **fields,
        )
        resp.status = falcon.HTTP_201
        resp.location = "/%s/%s" % (self.kind.name, record["id"])
        resp.media = record

    def openapi(self) -> dict:
        return record_operations.create_operations(self.kind)

    @staticmethod
    def _idempotency_key(req) -> str:
        token = req.get_header("Idempotency-Key")
        if token is None:
            return idempotency.auto_key()
        if not idempotency.is_token(token):
            raise Problem(
                400, "Idempotency-Key must be 1-255 visible ASCII characters."
            )
        return idempotency.client_key(token, req.context.get("principal", ""))


class RecordItem:
    """``GET`` and ``DELETE /<kind>/<id>``; an id of the wrong shape is a 404."""

    def __init__(self, kind: Kind, rpc: RpcClient):
        self.kind = kind
        self.rpc = rpc

    def _checked(self, record_id: str) -> str:
        if not is_id(record_id):
            raise Problem(404, "No record with this id.")
        return record_id

    def openapi(self) -> dict:
        return record_operations.item_operations(self.kind)

    async def on_get(self, req, resp, record_id):
        resp.media = await call(
            self.rpc, req, self.kind.service, "get", self._checked(record_id)
        )

    async def on_delete(self, req, resp, record_id):
        await call(self.rpc, req, self.kind.service, "delete", self._checked(record_id))
        resp.status = falcon.HTTP_204


class RecordList:
    """``GET /<kinds>?limit=N&cursor=C``."""

    def __init__(self, kind: Kind, rpc: RpcClient):
        self.kind = kind
        self.rpc = rpc

    def openapi(self) -> dict:
        return record_operations.list_operations(self.kind)

    async def on_get(self, req, resp):
        query = load(self.kind.page_query, dict(req.params))
        resp.media = await call(self.rpc, req, self.kind.service, "list", **query)
