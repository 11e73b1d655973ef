"""The HTTP API end to end: real uvicorn, real services, real RabbitMQ and Redis."""
import uuid

import pytest

from travel_common.ids import is_id

from support import wait_until

PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra) -> dict:
    return {"type": "about:blank", "title": title, "status": status,
            "detail": detail, **extra}


def assert_problem(response, status, title, detail, **extra):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == PROBLEM
    assert response.json() == problem(status, title, detail, **extra)


def create_airport(http, name="Lisbon") -> dict:
    response = http.post("/airport", json={"airport": name})
    assert response.status_code == 201, response.text
    return response.json()


def create_trip(http, airport_from, airport_to) -> dict:
    response = http.post(
        "/trip", json={"airport_from": airport_from, "airport_to": airport_to}
    )
    assert response.status_code == 201, response.text
    return response.json()


# -- airports ---------------------------------------------------------------


def test_post_airport(http):
    response = http.post("/airport", json={"airport": "  Lisbon  "})
    assert response.status_code == 201
    body = response.json()
    assert body == {"id": body["id"], "airport": "Lisbon"}
    assert is_id(body["id"])
    assert response.headers["Location"] == "/airport/" + body["id"]
    assert response.headers["Content-Type"] == "application/json"


def test_tutorial_curl_form(http):
    """``curl -d '{"airport": "x"}' .../airport``: form-encoded, read as JSON."""
    for content_type in ("application/x-www-form-urlencoded", None):
        headers = {"Content-Type": content_type} if content_type else {}
        response = http.post("/airport", data=b'{"airport": "x"}', headers=headers)
        assert response.status_code == 201, content_type
        assert response.json()["airport"] == "x"


def test_get_airport(http):
    created = create_airport(http, "Porto")
    response = http.get("/airport/" + created["id"])
    assert response.status_code == 200
    assert response.json() == created


def test_delete_airport(http):
    created = create_airport(http, "Faro")
    response = http.delete("/airport/" + created["id"])
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(http.get("/airport/" + created["id"]), 404, "Not Found",
                   "No record with this id.")
    assert_problem(http.delete("/airport/" + created["id"]), 404, "Not Found",
                   "No record with this id.")


@pytest.mark.parametrize("record_id", [
    "123", "0" * 31, "0" * 33, "A" * 32, "g" * 32, uuid.uuid4().hex.upper(),
])
@pytest.mark.parametrize("kind", ["airport", "trip"])
def test_malformed_ids_are_404(http, kind, record_id):
    for method in ("get", "delete"):
        response = getattr(http, method)("/%s/%s" % (kind, record_id))
        assert_problem(response, 404, "Not Found", "No record with this id.")


def test_unknown_id_is_404(http):
    for kind in ("airport", "trip"):
        response = http.get("/%s/%s" % (kind, uuid.uuid4().hex))
        assert_problem(response, 404, "Not Found", "No record with this id.")


# -- trips ------------------------------------------------------------------


def test_post_and_get_trip(http):
    a, b = create_airport(http, "A"), create_airport(http, "B")
    response = http.post("/trip", json={"airport_from": a["id"], "airport_to": b["id"]})
    assert response.status_code == 201
    trip = response.json()
    assert trip == {"id": trip["id"], "airport_from": a["id"], "airport_to": b["id"]}
    assert response.headers["Location"] == "/trip/" + trip["id"]
    assert http.get("/trip/" + trip["id"]).json() == trip


def test_trip_airports_must_exist(http):
    a = create_airport(http, "A")
    missing = uuid.uuid4().hex
    response = http.post("/trip", json={"airport_from": missing, "airport_to": a["id"]})
    assert_problem(response, 422, "Unprocessable Entity",
                   "The request has invalid fields.",
                   errors={"airport_from": ["Airport not found."]})


def test_trip_airports_must_differ(http):
    a = create_airport(http, "A")
    response = http.post("/trip", json={"airport_from": a["id"], "airport_to": a["id"]})
    assert_problem(response, 422, "Unprocessable Entity",
                   "The request has invalid fields.",
                   errors={"airport_to": ["Must differ from airport_from."]})


def test_trip_ids_must_have_id_shape(http):
    response = http.post("/trip", json={"airport_from": "x", "airport_to": 5})
    assert_problem(response, 422, "Unprocessable Entity",
                   "The request has invalid fields.",
                   errors={"airport_from": ["Not a valid id."],
                           "airport_to": ["Not a valid string."]})


def test_delete_trip_then_airport(http):
    a, b = create_airport(http, "A"), create_airport(http, "B")
    trip = create_trip(http, a["id"], b["id"])
    assert_problem(http.delete("/airport/" + a["id"]), 409, "Conflict",
                   "The record is still referenced by other records.")
    assert http.delete("/trip/" + trip["id"]).status_code == 204
    assert_problem(http.get("/trip/" + trip["id"]), 404, "Not Found",
                   "No record with this id.")
    assert http.delete("/airport/" + a["id"]).status_code == 204


def test_trips_filtered_by_airport(http):
    a, b, c = (create_airport(http, n) for n in "ABC")
    ab = create_trip(http, a["id"], b["id"])
    bc = create_trip(http, b["id"], c["id"])
    assert http.get("/trips", params={"airport": a["id"]}).json() == {
        "items": [ab], "next": None}
    assert http.get("/trips", params={"airport": b["id"]}).json() == {
        "items": [ab, bc], "next": None}
    assert http.get("/trips", params={"airport": uuid.uuid4().hex}).json() == {
        "items": [], "next": None}
    response = http.get("/trips", params={"airport": "nope"})
    assert_problem(response, 422, "Unprocessable Entity",
                   "The request has invalid fields.",
                   errors={"airport": ["Not a valid id."]})


# -- lists ------------------------------------------------------------------


def walk(http, path, **params) -> list:
    items, cursor = [], None
    while True:
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        response = http.get(path, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"items", "next"}
        assert len(page["items"]) <= params.get("limit", 20)
        items += page["items"]
        cursor = page["next"]
        if cursor is None:
            return items


def test_paging_250_airports_each_exactly_once(http):
    from concurrent.futures import ThreadPoolExecutor

    names = ["paging-%03d" % i for i in range(250)]
    with ThreadPoolExecutor(16) as pool:
        created = list(pool.map(lambda n: create_airport(http, n), names))
    for limit in (100, 7):
        listed = walk(http, "/airports", limit=limit)
        ids = [record["id"] for record in listed]
        assert len(ids) == len(set(ids)), "a record was listed twice"
        mine = [record for record in listed if record["airport"].startswith("paging-")]
        assert sorted(r["id"] for r in mine) == sorted(r["id"] for r in created)


def test_list_default_limit_is_20(http):
    for i in range(21):
        create_airport(http, "default-limit-%d" % i)
    page = http.get("/airports").json()
    assert len(page["items"]) == 20
    assert page["next"] is not None


@pytest.mark.parametrize("query, errors", [
    ({"limit": "0"}, {"limit": ["Must be greater than or equal to 1 and less than "
                                "or equal to 100."]}),
    ({"limit": "101"}, {"limit": ["Must be greater than or equal to 1 and less "
                                  "than or equal to 100."]}),
    ({"limit": "ten"}, {"limit": ["Not a valid integer."]}),
    ({"cursor": "abc"}, {"cursor": ["Not a valid cursor."]}),
    ({"sort": "name"}, {"sort": ["Unknown field."]}),
])
def test_bad_list_queries_are_422(http, query, errors):
    for path in ("/airports", "/trips"):
        assert_problem(http.get(path, params=query), 422, "Unprocessable Entity",
                       "The request has invalid fields.", errors=errors)


def test_trips_list_pages(http):
    a = create_airport(http, "hub")
    others = [create_airport(http, "spoke-%d" % i) for i in range(5)]
    trips = [create_trip(http, a["id"], o["id"]) for o in others]
    assert walk(http, "/trips", airport=a["id"], limit=2) == trips


# -- validation and content types -------------------------------------------


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
def test_airport_validation_is_422(http, body, errors):
    assert_problem(http.post("/airport", json=body), 422, "Unprocessable Entity",
                   "The request has invalid fields.", errors=errors)


def test_name_of_100_characters_is_accepted(http):
    assert create_airport(http, "x" * 100)["airport"] == "x" * 100


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
def test_bad_json_is_400(http, raw, detail):
    response = http.post("/airport", data=raw,
                         headers={"Content-Type": "application/json"})
    assert_problem(response, 400, "Bad Request", detail)


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/xml", "multipart/form-data; boundary=x",
])
def test_other_content_types_are_415(http, content_type):
    response = http.post("/airport", data=b'{"airport": "x"}',
                         headers={"Content-Type": content_type})
    assert_problem(response, 415, "Unsupported Media Type",
                   "Send the body as application/json.")


def test_body_over_64_kib_is_413(http):
    body = b'{"airport": "%s"}' % (b"x" * 65536)
    response = http.post("/airport", data=body)
    assert_problem(response, 413, "Request Entity Too Large",
                   "The body is larger than 65536 bytes.")


def test_chunked_body_over_64_kib_is_413(http):
    def chunks():
        yield b'{"airport": "'
        for _ in range(70):
            yield b"x" * 1024
        yield b'"}'

    response = http.post("/airport", data=chunks(),
                         headers={"Content-Type": "application/json"})
    assert_problem(response, 413, "Request Entity Too Large",
                   "The body is larger than 65536 bytes.")


@pytest.mark.parametrize("method, path, allow", [
    ("put", "/airport", "POST"),
    ("get", "/airport", "POST"),
    ("patch", "/airport/" + "a" * 32, "DELETE, GET"),
    ("post", "/airports", "GET"),
    ("delete", "/trips", "GET"),
])
def test_wrong_method_is_405(http, method, path, allow):
    response = getattr(http, method)(path)
    assert_problem(response, 405, "Method Not Allowed",
                   "Specified method is invalid for this resource")
    assert response.headers["Allow"] == allow + ", OPTIONS"


def test_unknown_path_is_404(http):
    assert_problem(http.get("/nowhere"), 404, "Not Found",
                   "Nothing matches the given URI")


# -- request ids ------------------------------------------------------------


def test_request_id_is_echoed_or_made(http):
    response = http.get("/health", headers={"X-Request-ID": "trace-42"})
    assert response.headers["X-Request-ID"] == "trace-42"
    made = http.get("/health").headers["X-Request-ID"]
    assert len(made) == 32
    bogus = http.get("/health", headers={"X-Request-ID": "no spaces allowed"})
    assert bogus.headers["X-Request-ID"] != "no spaces allowed"
    errored = http.get("/airport/123", headers={"X-Request-ID": "trace-43"})
    assert errored.headers["X-Request-ID"] == "trace-43"


def test_request_id_reaches_the_services_logs(http, stack):
    request_id = "trace-" + uuid.uuid4().hex
    traced = {"X-Request-ID": request_id}
    a = http.post("/airport", json={"airport": "X"}, headers=traced)
    b = create_airport(http, "Y")
    trip = {"airport_from": a.json()["id"], "airport_to": b["id"]}
    http.post("/trip", json=trip, headers=traced)
    expected = {
        "airports": [
            "rpc airports_service.create ok",
            "rpc airports_service.reserve ok",
        ],
        "trips": ["rpc trips_service.create ok"],  # trips -> airports: passed on
    }

    def logged():
        logs = {p.name.split("_")[0]: p.log() for p in stack.services}
        return all(
            "[%s] %s" % (request_id, line) in logs[name]
            for name, lines in expected.items()
            for line in lines
        )

    # A service writes its line once it has replied: give it a moment.
    wait_until(logged, 5, what="the request id in the services' logs")


# -- health, readiness, OpenAPI ---------------------------------------------


def test_health(http):
    response = http.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready(http):
    response = http.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {
        "rabbitmq": {"status": "up"},
        "airports_service": {"status": "up"},
        "trips_service": {"status": "up"},
        "redis": {"status": "up"},
    }}
