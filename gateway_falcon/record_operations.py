"""The OpenAPI operations of the record URLs (``POST /airport``,
``GET``/``DELETE /airport/{record_id}``, ``GET /airports``, and the same for
trips), as ``resources.records`` serves them."""

from gateway_falcon.openapi import json_content, problem_response_object
from travel_common.idempotency import TOKEN_PATTERN
from travel_common.ids import ID_PATTERN

ID_PARAMETER = {
    "in": "path",
    "name": "record_id",
    "required": True,
    "schema": {"type": "string", "pattern": "^%s$" % ID_PATTERN},
}
IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header",
    "name": "Idempotency-Key",
    "schema": {"type": "string", "pattern": "^%s$" % TOKEN_PATTERN},
    "description": "Repeat a create safely: the same key and body "
    "return the first answer; another body is a 422.",
}


def operation(kind, summary: str, responses: dict, problems=(), **details) -> dict:
    """An operation on records of ``kind``, tagged with its plural; every
    call can also fail with 502, 503 and 504."""
    responses = dict(responses)
    for status in (*problems, 502, 503, 504):
        responses[str(status)] = problem_response_object(status)
    responses["default"] = problem_response_object(500)
    return {"tags": [kind.plural], "summary": summary, "responses": responses,
            **details}


def item_parameter(kind) -> dict:
    """The path's record id, with an example from the kind's schema."""
    example = kind.schema.fields["id"].metadata["example"]
    return dict(ID_PARAMETER, example=example)


def create_operations(kind) -> dict:
    """``POST /<kind>``."""
    article = "an" if kind.name[0] in "aeiou" else "a"
    return {
        "post": operation(
            kind,
            "Create %s %s" % (article, kind.name),
            {
                "201": {
                    "description": "Created",
                    "headers": {"Location": {"schema": {"type": "string"}}},
                    **json_content(kind.schema),
                }
            },
            problems=(400, 408, 413, 415, 422),
            requestBody={"required": True, **json_content(kind.schema, writing=True)},
            parameters=[IDEMPOTENCY_KEY_PARAMETER],
        )
    }


def item_operations(kind) -> dict:
    """``GET`` and ``DELETE /<kind>/{record_id}``."""
    return {
        "get": operation(
            kind,
            "Get one %s" % kind.name,
            {"200": {"description": "OK", **json_content(kind.schema)}},
            problems=(404,),
            parameters=[item_parameter(kind)],
        ),
        "delete": operation(
            kind,
            "Delete one %s" % kind.name,
            {"204": {"description": "Deleted"}},
            problems=(404, 409) if kind.delete_conflicts else (404,),
            parameters=[item_parameter(kind)],
        ),
    }


def list_operations(kind) -> dict:
    """``GET /<kinds>``."""
    return {
        "get": operation(
            kind,
            "List %s, oldest first, a page at a time" % kind.plural,
            {"200": {"description": "OK", **json_content(kind.page_schema)}},
            problems=(422,),
            parameters=[{"in": "query", "schema": kind.page_query}],
        )
    }
