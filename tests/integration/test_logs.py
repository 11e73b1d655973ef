"""Logs for real: one access line per request (method, route, status, duration,
request id), ``LOG_FORMAT=json`` for every process, and the request id in
the service lines of that request."""
import json
import uuid

from support import create_airport


def test_text_access_line_names_the_route_and_request_id(stack, http):
    request_id = "text-" + uuid.uuid4().hex
    missing = uuid.uuid4().hex
    response = http.get("/airport/" + missing, headers={"X-Request-ID": request_id})
    assert response.status_code == 404
    lines = [line for line in stack.gateway.log().splitlines() if request_id in line]
    access = [line for line in lines if "gateway_falcon.access" in line]
    assert len(access) == 1
    assert access[0].endswith("ms")
    assert "[%s] GET /airport/{record_id} 404 " % request_id in access[0]
    assert missing not in access[0]


def test_json_logs_of_gateway_and_services(stack_factory):
    stack = stack_factory(env={"LOG_FORMAT": "json"})
    ids = {name: "json-%s-%s" % (name, uuid.uuid4().hex) for name in ("a", "b", "t")}
    with stack.session() as http:
        made = [
            create_airport(http, name, headers={"X-Request-ID": ids[name]})["id"]
            for name in ("a", "b")
        ]
        trip = http.post(
            "/trip",
            json={"airport_from": made[0], "airport_to": made[1]},
            headers={"X-Request-ID": ids["t"]},
        )
        assert trip.status_code == 201
        assert trip.headers["X-Request-ID"] == ids["t"]
    stack.stop()  # every line written

    entries = {}
    for process in (stack.gateway, *stack.services):
        lines = process.log().splitlines()
        assert lines, process.name
        entries[process.name] = [json.loads(line) for line in lines]  # every line
        for entry in entries[process.name]:
            assert {"time", "level", "logger", "message", "request_id"} <= set(entry)

    access = [e for e in entries["gateway"] if e["logger"] == "gateway_falcon.access"
              and e["request_id"] == ids["t"]]
    assert len(access) == 1
    assert access[0]["method"] == "POST"
    assert access[0]["route"] == "/trip"
    assert access[0]["path"] == "/trip"
    assert access[0]["status"] == 201
    assert isinstance(access[0]["duration_ms"], float)

    # The trip's request id reaches both services: trips_service.create, and
    # the airports_service.reserve it calls.
    def calls(name):
        return sorted(
            e["message"].split()[1] for e in entries[name]
            if e["request_id"] == ids["t"] and e["message"].startswith("rpc ")
        )

    assert calls("trips_svc-2") == ["trips_service.create"]
    assert calls("airports_svc-1") == ["airports_service.reserve"]
    assert [e["message"].split()[1] for e in entries["airports_svc-1"]
            if e["request_id"] == ids["a"]] == ["airports_service.create"]
