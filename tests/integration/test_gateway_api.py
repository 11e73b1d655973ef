"""The HTTP API end to end: real uvicorn, real services, real RabbitMQ and
Redis.  (The gateway's own rules, which need no service: in-process, in
``tests/unit/test_http_api.py``.)"""
import uuid
from concurrent.futures import ThreadPoolExecutor

from travel_common.ids import is_id

from support import assert_problem, create_airport, create_trip, wait_until

INVALID = "The request has invalid fields."
NOT_FOUND = "No record with this id."

# -- airports ---------------------------------------------------------------


def test_post_airport(http):
    response = http.post("/airport", json={"airport": "  Lisbon  "})
    assert response.status_code == 201
    body = response.json()
    assert body == {"id": body["id"], "airport": "Lisbon"}
    assert is_id(body["id"])
    assert response.headers["Location"] == "/airport/" + body["id"]
    assert response.headers["Content-Type"] == "application/json"


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
    assert_problem(http.get("/airport/" + created["id"]), 404, NOT_FOUND)
    assert_problem(http.delete("/airport/" + created["id"]), 404, NOT_FOUND)


def test_unknown_id_is_404(http):
    for kind in ("airport", "trip"):
        response = http.get("/%s/%s" % (kind, uuid.uuid4().hex))
        assert_problem(response, 404, NOT_FOUND)


def test_name_of_100_characters_is_accepted(http):
    assert create_airport(http, "x" * 100)["airport"] == "x" * 100


def test_chunked_body_over_64_kib_is_413(http):
    def chunks():
        yield b'{"airport": "'
        for _ in range(70):
            yield b"x" * 1024
        yield b'"}'

    response = http.post("/airport", data=chunks(),
                         headers={"Content-Type": "application/json"})
    assert_problem(response, 413, "The body is larger than 65536 bytes.")


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
    assert_problem(response, 422, INVALID,
                   errors={"airport_from": ["Airport not found."]})


def test_delete_trip_then_airport(http):
    a, b = create_airport(http, "A"), create_airport(http, "B")
    trip = create_trip(http, a["id"], b["id"])
    assert_problem(http.delete("/airport/" + a["id"]), 409,
                   "The record is still referenced by other records.")
    assert http.delete("/trip/" + trip["id"]).status_code == 204
    assert_problem(http.get("/trip/" + trip["id"]), 404, NOT_FOUND)
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
    assert_problem(response, 422, INVALID, errors={"airport": ["Not a valid id."]})


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


def test_trips_list_pages(http):
    a = create_airport(http, "hub")
    others = [create_airport(http, "spoke-%d" % i) for i in range(5)]
    trips = [create_trip(http, a["id"], o["id"]) for o in others]
    assert walk(http, "/trips", airport=a["id"], limit=2) == trips


# -- request ids, readiness ---------------------------------------------------


def test_request_id_reaches_the_services_logs(http, stack):
    request_id = "trace-" + uuid.uuid4().hex
    traced = {"X-Request-ID": request_id}
    a = create_airport(http, "X", headers=traced)
    b = create_airport(http, "Y")
    create_trip(http, a["id"], b["id"], headers=traced)
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


def test_ready(http):
    response = http.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {
        "rabbitmq": {"status": "up"},
        "airports_service": {"status": "up"},
        "trips_service": {"status": "up"},
        "redis": {"status": "up"},
    }}
