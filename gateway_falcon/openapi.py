"""The OpenAPI 3 document, generated from the routes and marshmallow schemas.

Each resource describes its own operations (``openapi()``), naming schemas
by class; apispec's marshmallow plugin turns the schemas into components.
"""

import http

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from gateway_falcon import auth
from schemas import ProblemSchema

TITLE = "Travel booking API"
VERSION = "1.0.0"


def problem_response(status: int) -> dict:
    return {
        "description": http.HTTPStatus(status).phrase,
        "content": {"application/problem+json": {"schema": ProblemSchema}},
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
    if protected is not None:
        spec.components.security_scheme(auth.SCHEME, auth.security_scheme())
    for path, resource in routes:
        operations = resource.openapi()
        if protected is not None and protected(path):
            for operation in operations.values():
                operation["security"] = [{auth.SCHEME: []}]
                operation["responses"]["401"] = problem_response(401)
        spec.path(path=path, operations=operations)
    spec.path(path="/openapi.json", operations=OpenApi.openapi())
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
