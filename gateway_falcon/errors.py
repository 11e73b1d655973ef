"""Errors as ``application/problem+json`` (RFC 9457, the document built by
``gateway_falcon.problem``), and the one table that maps what a call can
raise to an HTTP status."""

import http
import json
import logging

import falcon
from nameko.exceptions import RemoteError, RpcTimeout, UnknownService

from gateway_falcon.problem import PROBLEM_JSON, problem_document
from gateway_falcon.rpc import (
    BrokerUnavailable,
    OutcomeUnknown,
    Overloaded,
    TooLateToSend,
)
from travel_common.errors import (
    DeadlineExceeded,
    DependencyUnavailable,
    IdempotencyConflict,
    Interrupted,
    InUse,
    Invalid,
    NotAcknowledged,
    NotFound,
    StoreUnavailable,
)

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 1

# exception type -> (status, detail shown to the client); None: the domain
# error's own detail, which services write for clients.
ERROR_STATUS = {
    NotFound: (404, None),
    InUse: (409, None),
    Invalid: (422, None),
    IdempotencyConflict: (422, None),
    RemoteError: (502, "A service failed to handle the request."),
    UnknownService: (503, "The service is not running."),
    DependencyUnavailable: (503, None),
    Interrupted: (503, None),
    StoreUnavailable: (503, None),
    NotAcknowledged: (503, None),
    BrokerUnavailable: (503, "The message broker is unreachable."),
    Overloaded: (503, "Too many requests in flight; retry shortly."),
    TooLateToSend: (
        503, "The request could not be sent in time; it was not carried out."
    ),
    RpcTimeout: (504, "The service did not answer in time."),
    OutcomeUnknown: (
        504,
        "The connection to the message broker broke after the request was sent: "
        "its outcome is unknown.",
    ),
    DeadlineExceeded: (504, None),
}


class Problem(falcon.HTTPError):
    """An HTTP error whose body is a problem document."""

    def __init__(
        self, status: int, detail: str | None = None, errors=None, headers=None
    ):
        super().__init__(
            status,
            title=http.HTTPStatus(status).phrase,
            description=detail,
            headers=headers,
        )
        self.errors = errors


def problem_for(error: Exception) -> Problem:
    """The HTTP problem for an exception raised by an RPC call."""
    for kind in type(error).__mro__:
        if kind in ERROR_STATUS:
            status, detail = ERROR_STATUS[kind]
            break
    else:
        raise error
    if status >= 500 and not isinstance(error, Overloaded):
        # Shed load is no failure: the access log line and the
        # gateway_rpc_errors_total{error="Overloaded"} count show it, without
        # a second log line per request exactly when there are most.
        log.warning("rpc failed: %s", error)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
    return Problem(
        status,
        detail or getattr(error, "detail", None),
        errors=getattr(error, "errors", None),
        headers=headers,
    )


def validation_problem(errors: dict) -> Problem:
    return Problem(422, "The request has invalid fields.", errors=errors)


def serialize_problem(req, resp, error: falcon.HTTPError) -> None:
    """Falcon error serializer: every HTTP error, ours or Falcon's, as a problem."""
    resp.content_type = PROBLEM_JSON
    document = problem_document(
        error.status_code, error.description, getattr(error, "errors", None)
    )
    resp.data = json.dumps(document).encode()


async def handle_unexpected(req, resp, error, params):
    """A bug in the gateway: log it with the request id, answer a bare 500."""
    log.error("unhandled error", exc_info=error)
    raise Problem(500, "The gateway failed to handle the request.")
