"""The OpenAPI 3 document, generated from the routes and marshmallow schemas.

Each resource describes its own operations (``openapi()``; the record
resources' are in ``gateway_falcon.record_operations``), naming schemas by
class; apispec's marshmallow plugin turns the schemas into components.
Operations are grouped by tag: ``airports``, ``trips``, and ``operations``
for everything else.  Every request body and response carries an example,
taken from the schemas' fields (their ``example`` metadata), so that the docs
page's "Try it out" sends a valid request as it stands.
"""

import http

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

from gateway_falcon import auth
from gateway_falcon.problem import PROBLEM_JSON, problem_document
from schemas import ProblemSchema

TITLE = "Travel booking API"
VERSION = "1.0.0"
OPERATIONS_TAG = "operations"
TAGS = [
    {"name": "airports", "description": "Airports: create, read, delete, list."},
    {"name": "trips", "description": "Trips between two existing airports."},
    {"name": OPERATIONS_TAG,
     "description": "Liveness, readiness, metrics and this documentation."},
]


def example_of(schema: Schema, writing: bool = False) -> dict:
    """An example of what ``schema`` dumps (``writing``: of what it loads),
    made of its fields' ``example`` metadata."""
    bound = schema.load_fields if writing else schema.dump_fields
    example = {}
    for name, field in bound.items():
        value = _field_example(field, writing)
        if value is not None:
            example[field.data_key or name] = value
    return example


def _field_example(field: fields.Field, writing: bool):
    if "example" in field.metadata:
        return field.metadata["example"]
    if isinstance(field, fields.Nested):
        return example_of(field.schema, writing)
    if isinstance(field, fields.List):
        inner = _field_example(field.inner, writing)
        return None if inner is None else [inner]
    return None


def json_content(schema: Schema, writing: bool = False) -> dict:
    """A JSON body of ``schema``, with its example."""
    return {"content": {"application/json": {
        "schema": schema, "example": example_of(schema, writing)
    }}}


def problem_response_object(status: int) -> dict:
    """The OpenAPI response object of a problem document of ``status``."""
    return {
        "description": http.HTTPStatus(status).phrase,
        "content": {PROBLEM_JSON: {
            "schema": ProblemSchema, "example": problem_document(status)
        }},
    }


def get_operation(summary: str, description: str, media_type=None) -> dict:
    """The operations of a URL answering ``GET`` with 200 and one kind of body."""
    response = {"description": description}
    if media_type:
        response["content"] = {media_type: {"schema": {"type": "string"}}}
    return {"get": {"summary": summary, "responses": {"200": response}}}


def build_spec(routes, protected=None) -> dict:
    """``routes``: (path template, resource) pairs, as the app registers them;
    ``/openapi.json`` itself is described by ``OpenApi.openapi``.  With
    ``protected`` (path -> bool), those paths need the bearer API key."""
    spec = APISpec(
        title=TITLE,
        version=VERSION,
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "Airports and trips, over Nameko RPC services."},
    )
    for tag in TAGS:
        spec.tag(tag)
    if protected is not None:
        spec.components.security_scheme(auth.SCHEME, auth.security_scheme())
    for path, resource in [*routes, ("/openapi.json", OpenApi)]:
        operations = resource.openapi()
        for operation in operations.values():
            operation.setdefault("tags", [OPERATIONS_TAG])
            if protected is not None and protected(path):
                operation["security"] = [{auth.SCHEME: []}]
                operation["responses"]["401"] = problem_response_object(401)
        spec.path(path=path, operations=operations)
    return spec.to_dict()


class OpenApi:
    """``GET /openapi.json``."""

    def __init__(self, document: dict):
        self.document = document

    @staticmethod
    def openapi() -> dict:
        return get_operation("This document", "OpenAPI 3 document")

    async def on_get(self, req, resp):
        resp.media = self.document
