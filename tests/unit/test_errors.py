"""The one table from exceptions to HTTP statuses, row by row."""
import json

import falcon.asgi
import pytest
from nameko.exceptions import RemoteError, RpcTimeout, UnknownService

from gateway_falcon.errors import ERROR_STATUS, problem_for, serialize_problem
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

ROWS = [
    (NotFound(), 404, "No record with this id."),
    (InUse(), 409, "The record is still referenced by other records."),
    (Invalid({"airport": ["x"]}), 422, "The request has invalid fields."),
    (IdempotencyConflict(), 422,
     "This Idempotency-Key was already used with another request body."),
    (RemoteError("KeyError", "'secret' at /srv/app.py"), 502,
     "A service failed to handle the request."),
    (UnknownService("airports_service"), 503, "The service is not running."),
    (DependencyUnavailable(), 503,
     "A service needed for this request is unavailable."),
    (Interrupted(), 503,
     "The request was interrupted and nothing was stored; retry it."),
    (StoreUnavailable(), 503, "The data store is unavailable."),
    (NotAcknowledged(), 503,
     "The write was not acknowledged by enough replicas of the data store: it "
     "may or may not have been applied. Retrying is safe (a create with the "
     "same Idempotency-Key is not made twice)."),
    (BrokerUnavailable("[Errno 111] Connection refused"), 503,
     "The message broker is unreachable."),
    (Overloaded(), 503, "Too many requests in flight; retry shortly."),
    (TooLateToSend(), 503,
     "The request could not be sent in time; it was not carried out."),
    (RpcTimeout(5), 504, "The service did not answer in time."),
    (OutcomeUnknown("connection reset"), 504,
     "The connection to the message broker broke after the request was sent: "
     "its outcome is unknown."),
    (DeadlineExceeded(), 504,
     "The request was not carried out: its caller stopped waiting."),
]


def test_every_row_is_covered():
    assert {type(error) for error, _, _ in ROWS} == set(ERROR_STATUS)


@pytest.mark.parametrize("error, status, detail", ROWS,
                         ids=[type(row[0]).__name__ for row in ROWS])
def test_problem_for(error, status, detail):
    problem = problem_for(error)
    assert problem.status_code == status
    resp = falcon.asgi.Response()
    serialize_problem(None, resp, problem)
    assert resp.content_type == "application/problem+json"
    body = json.loads(resp.data)
    expected = {"type": "about:blank", "title": problem.title, "status": status,
                "detail": detail}
    if isinstance(error, Invalid):
        expected["errors"] = {"airport": ["x"]}
    assert body == expected
    assert (problem.headers or {}).get("Retry-After") == (
        "1" if status == 503 else None)


def test_unmapped_errors_are_not_swallowed():
    with pytest.raises(KeyError):
        problem_for(KeyError("x"))
