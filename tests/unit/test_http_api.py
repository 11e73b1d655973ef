"""The HTTP API's own rules, in-process (``falcon.testing``, the stand-in RPC
client): malformed ids, bodies and queries, content types, sizes, methods,
request ids.  What a service decides is tested against the real services
(``tests/integration/test_gateway_api.py``)."""
import json as jsonlib
import logging
import time
import uuid

import pytest

from travel_common.errors import NotFound
from travel_common.logs import RequestIdFilter

from support import assert_problem

ID = "0123456789abcdef0123456789abcdef"
BAD_ID = "0123456789ABCDEF0123456789ABCDEF"
INVALID = "The request has invalid fields."
NOT_FOUND = "No record with this id."
RANGE = "Must be greater than or equal to 1 and less than or equal to 100."


@pytest.fixture
def client(app_client):
    return app_client()


def send(client, method: str, target: str, data=None, json=None, headers=None):
    """``method target`` (a path with its query string) through ``client``;
    ``json`` sent as ``requests`` sends it (ASCII, escapes and all)."""
    path, _, query = target.partition("?")
    headers = dict(headers or {})
    if json is not None:
        data = jsonlib.dumps(json).encode()
        headers.setdefault("Content-Type", "application/json")
    return client.simulate_request(method, path, query_string=query or None,
                                   body=data, headers=headers)


# -- ids ----------------------------------------------------------------------


@pytest.mark.parametrize("record_id", [
    "123", "0" * 31, "0" * 33, "A" * 32, "g" * 32, uuid.uuid4().hex.upper(),
])
@pytest.mark.parametrize("kind", ["airport", "trip"])
def test_malformed_ids_are_404(client, fake_rpc, kind, record_id):
    for method in ("GET", "DELETE"):
        response = send(client, method, "/%s/%s" % (kind, record_id))
        assert_problem(response, 404, NOT_FOUND)
    assert fake_rpc.calls == []


@pytest.mark.parametrize("method,path", [
    ("GET", "/airport/" + BAD_ID), ("DELETE", "/trip/xyz"),
    ("GET", "/trip/" + ID + "0"), ("POST", "/airport"),
])
def test_refused_shapes_never_reach_a_service(client, fake_rpc, caplog, method, path):
    request_id = "shape-" + uuid.uuid4().hex
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO, logger="gateway_falcon.access"):
        response = send(client, method, path, data=b"[1]",
                        headers={"X-Request-ID": request_id})
    assert response.status_code in (400, 404)
    access = [r for r in caplog.records if r.name == "gateway_falcon.access"]
    assert [r.request_id for r in access] == [request_id]  # the gateway's line
    assert fake_rpc.calls == []


# -- bodies -------------------------------------------------------------------


def test_tutorial_curl_form(client, fake_rpc):
    """``curl -d '{"airport": "x"}' .../airport``: form-encoded, read as JSON."""
    fake_rpc.answers["airports_service", "create"] = {"id": ID, "airport": "x"}
    for content_type in ("application/x-www-form-urlencoded", None):
        headers = {"Content-Type": content_type} if content_type else {}
        response = send(client, "POST", "/airport", data=b'{"airport": "x"}',
                        headers=headers)
        assert response.status_code == 201, content_type
        assert fake_rpc.calls[-1][3]["airport"] == "x"


def test_names_are_stripped(client, fake_rpc):
    fake_rpc.answers["airports_service", "create"] = {"id": ID, "airport": "Faro"}
    response = send(client, "POST", "/airport", json={"airport": " \t Faro \n"})
    assert response.status_code == 201
    assert fake_rpc.calls[0][3]["airport"] == "Faro"


@pytest.mark.parametrize("body, errors", [
    ({}, {"airport": ["Missing data for required field."]}),
    ({"airport": ""}, {"airport": ["Length must be between 1 and 100."]}),
    ({"airport": "   "}, {"airport": ["Length must be between 1 and 100."]}),
    ({"airport": "x" * 101}, {"airport": ["Length must be between 1 and 100."]}),
    ({"airport": 42}, {"airport": ["Not a valid string."]}),
    ({"airport": None}, {"airport": ["Field may not be null."]}),
    ({"airport": "a\nb"}, {"airport": ["Must not contain control characters."]}),
    ({"airport": "x", "id": "y"}, {"id": ["Unknown field."]}),
    ({"airport": "x", "city": "y"}, {"city": ["Unknown field."]}),
])
def test_airport_validation_is_422(client, fake_rpc, body, errors):
    assert_problem(send(client, "POST", "/airport", json=body), 422, INVALID,
                   errors=errors)
    assert fake_rpc.calls == []


def test_trip_airports_must_differ(client):
    response = send(client, "POST", "/trip",
                    json={"airport_from": ID, "airport_to": ID})
    assert_problem(response, 422, INVALID,
                   errors={"airport_to": ["Must differ from airport_from."]})


def test_trip_ids_must_have_id_shape(client):
    body = {"airport_from": "x", "airport_to": 5}
    response = send(client, "POST", "/trip", json=body)
    assert_problem(response, 422, INVALID,
                   errors={"airport_from": ["Not a valid id."],
                           "airport_to": ["Not a valid string."]})


@pytest.mark.parametrize("raw, detail", [
    (b"{", "The body is not valid JSON."),
    (b"", "The body is not valid JSON."),
    (b"\xff\xfe", "The body is not valid JSON."),
    (b"[1, 2]", "The body must be a JSON object."),
    (b'"airport"', "The body must be a JSON object."),
    (b"[" * 50 + b"]" * 50, "The body must be a JSON object."),
    (b"[" * 5000 + b"]" * 5000, "The body is nested too deeply."),
    (b'{"a":' * 10000 + b"1" + b"}" * 10000, "The body is nested too deeply."),
])
def test_bad_json_is_400(client, raw, detail):
    response = send(client, "POST", "/airport", data=raw,
                    headers={"Content-Type": "application/json"})
    assert_problem(response, 400, detail)


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/xml", "multipart/form-data; boundary=x",
])
def test_other_content_types_are_415(client, content_type):
    response = send(client, "POST", "/airport", data=b'{"airport": "x"}',
                    headers={"Content-Type": content_type})
    assert_problem(response, 415, "Send the body as application/json.")


def padded(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes (with an unknown field)."""
    head = b'{"airport": "x", "pad": "'
    return head + b"p" * (size - len(head) - 2) + b'"}'


def test_body_at_the_limit_is_read(client):
    response = send(client, "POST", "/airport", data=padded(64 * 1024),
                    headers={"Content-Type": "application/json"})
    assert_problem(response, 422, INVALID, errors={"pad": ["Unknown field."]})


def test_body_over_64_kib_is_413(client):
    body = b'{"airport": "%s"}' % (b"x" * 65536)
    response = send(client, "POST", "/airport", data=body)
    assert_problem(response, 413, "The body is larger than 65536 bytes.")


def test_body_over_the_limit_is_413_and_closes(client):
    response = send(client, "POST", "/airport", data=padded(64 * 1024 + 1))
    assert_problem(response, 413, "The body is larger than 65536 bytes.")
    assert response.headers["Connection"] == "close"


# -- queries, methods, paths -----------------------------------------------------


@pytest.mark.parametrize("query, errors", [
    ("limit=0", {"limit": [RANGE]}),
    ("limit=101", {"limit": [RANGE]}),
    ("limit=ten", {"limit": ["Not a valid integer."]}),
    ("cursor=abc", {"cursor": ["Not a valid cursor."]}),
    ("sort=name", {"sort": ["Unknown field."]}),
])
def test_bad_list_queries_are_422(client, fake_rpc, query, errors):
    for path in ("/airports", "/trips"):
        assert_problem(send(client, "GET", path + "?" + query), 422, INVALID,
                       errors=errors)
    assert fake_rpc.calls == []


@pytest.mark.parametrize("method, path, allow", [
    ("PUT", "/airport", "POST"),
    ("GET", "/airport", "POST"),
    ("PATCH", "/airport/" + "a" * 32, "DELETE, GET"),
    ("POST", "/airports", "GET"),
    ("DELETE", "/trips", "GET"),
])
def test_wrong_method_is_405(client, method, path, allow):
    response = send(client, method, path)
    assert_problem(response, 405, "Specified method is invalid for this resource")
    assert response.headers["Allow"] == allow + ", OPTIONS"


def test_unknown_path_is_404(client):
    assert_problem(send(client, "GET", "/nowhere"), 404,
                   "Nothing matches the given URI")


# -- every refusal leaks nothing, and is answered at once ----------------------

CLIENT_ERRORS = [
    # (method, target, kwargs, status, detail)
    ("POST", "/airport", {"data": b"{not json"}, 400, "The body is not valid JSON."),
    ("POST", "/airport", {"data": b"\xff\xfe\x00"}, 400, "The body is not valid JSON."),
    ("POST", "/airport", {"data": b"[1, 2]"}, 400, "The body must be a JSON object."),
    ("POST", "/airport", {"data": b'"text"'}, 400, "The body must be a JSON object."),
    ("POST", "/airport", {"data": b"[" * 60_000}, 400, None),
    ("POST", "/airport", {"data": b'{"a":' * 5_000 + b"1" + b"}" * 5_000}, 400,
     "The body is nested too deeply."),
    ("POST", "/airport", {"data": b'{"airport": ' + b"9" * 5000 + b"}"}, 400,
     "The body is not valid JSON."),
    ("POST", "/airport", {"data": b'{"airport": "x"}',
                          "headers": {"Content-Type": "text/plain"}}, 415, None),
    ("POST", "/airport", {"json": {"airport": "a\u0000b"}}, 422, None),
    ("POST", "/airport", {"json": {"airport": "a\u009bb"}}, 422, None),
    ("POST", "/airport", {"json": {"airport": "a\ud800b"}}, 422, None),
    ("POST", "/airport", {"json": {"airport": " \t\n "}}, 422, None),
    ("POST", "/airport", {"json": {"airport": "x" * 101}}, 422, None),
    ("POST", "/airport", {"json": {"airport": 5}}, 422, None),
    ("POST", "/airport", {"json": {"airport": ["x"] * 5000}}, 422, None),
    ("POST", "/airport", {"json": {"airport": "x", "id": ID}}, 422, None),
    ("POST", "/airport", {"json": {"airport": "x", "extra": 1}}, 422, None),
    ("POST", "/trip", {"json": {"airport_from": "x", "airport_to": "y"}}, 422, None),
    ("POST", "/trip", {"json": {"airport_from": ID, "airport_to": BAD_ID}}, 422, None),
    ("POST", "/airport", {"json": {"airport": "x"},
                          "headers": {"Idempotency-Key": "has space"}}, 400, None),
    ("GET", "/airport/" + BAD_ID, {}, 404, NOT_FOUND),
    ("GET", "/trip/" + ID[:-1], {}, 404, NOT_FOUND),
    ("DELETE", "/airport/%2e%2e%2f%2e%2e%2fetc%2fpasswd", {}, 404, None),
    ("GET", "/airport/" + ID, {}, 404, NOT_FOUND),  # the service: NotFound
    ("GET", "/nowhere/at/all.py", {}, 404, None),
    ("PATCH", "/airport", {}, 405, None),
    ("PUT", "/trip/" + ID, {}, 405, None),
    ("GET", "/airports?limit=0", {}, 422, None),
    ("GET", "/airports?limit=" + "9" * 5000, {}, 422, None),
    ("GET", "/airports?limit=1&limit=2", {}, 422, None),
    ("GET", "/airports?cursor=..%2F..%2Fx", {}, 422, None),
    ("GET", "/trips?airport=nothex", {}, 422, None),
    ("GET", "/airports?debug=1", {}, 422, None),
]


@pytest.mark.parametrize("method,target,kwargs,status,detail", CLIENT_ERRORS)
def test_client_errors_leak_nothing(client, fake_rpc, method, target, kwargs, status,
                                    detail):
    fake_rpc.answers["airports_service", "get"] = NotFound()
    kwargs = dict(kwargs)
    headers = dict(kwargs.pop("headers", {}), **{"X-Request-ID": "sec-1"})
    started = time.monotonic()
    response = send(client, method, target, headers=headers, **kwargs)
    assert time.monotonic() - started < 1
    assert_problem(response, status, detail)


# -- request ids, health -----------------------------------------------------------


def test_request_id_is_echoed_or_made(client):
    response = send(client, "GET", "/health", headers={"X-Request-ID": "trace-42"})
    assert response.headers["X-Request-ID"] == "trace-42"
    made = send(client, "GET", "/health").headers["X-Request-ID"]
    assert len(made) == 32
    bogus = "no spaces allowed"
    response = send(client, "GET", "/health", headers={"X-Request-ID": bogus})
    assert response.headers["X-Request-ID"] != bogus
    errored = send(client, "GET", "/airport/123",
                   headers={"X-Request-ID": "trace-43"})
    assert errored.headers["X-Request-ID"] == "trace-43"


def test_health(client, fake_rpc):
    response = send(client, "GET", "/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert fake_rpc.calls == []
