"""Reading a request body as a JSON object, within limits.

As in the tutorial's ``curl -d '{"airport": "x"}' .../airport``, a body sent
without a Content-Type, or as ``application/x-www-form-urlencoded`` (curl's
default for ``-d``), is read as JSON; any other type that isn't JSON is a 415.
"""

import json

from gateway_falcon.errors import Problem

READ_AS_JSON = {"", "application/json", "application/x-www-form-urlencoded"}


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _too_large(max_bytes: int) -> Problem:
    # Closing the connection spares reading the rest of a body never used.
    return Problem(
        413,
        "The body is larger than %d bytes." % max_bytes,
        headers={"Connection": "close"},
    )


async def read_json_object(req, max_bytes: int) -> dict:
    media_type = _media_type(req.content_type)
    if media_type not in READ_AS_JSON and not media_type.endswith("+json"):
        raise Problem(415, "Send the body as application/json.")
    if req.content_length is not None and req.content_length > max_bytes:
        raise _too_large(max_bytes)
    # Never more than max_bytes + 1 in memory, also for chunked bodies.
    raw = await req.stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise _too_large(max_bytes)
    if req.content_length is not None and len(raw) < req.content_length:
        # The client left, or was answered 408 by the protocol for taking
        # too long: this answer goes nowhere, but the access log says 408.
        raise Problem(408, "The body was not received in time.")
    try:
        body = json.loads(raw)
    except ValueError:
        raise Problem(400, "The body is not valid JSON.") from None
    except RecursionError:
        raise Problem(400, "The body is nested too deeply.") from None
    if not isinstance(body, dict):
        raise Problem(400, "The body must be a JSON object.")
    return body
