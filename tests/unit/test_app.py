"""The app with a stand-in RPC client (falcon.testing): what reaches a service,
and what never does."""
import time

import pytest
from nameko.exceptions import RpcTimeout

from gateway_falcon.config import Config
from travel_common.errors import NotFound

from support import assert_problem

ID = "c" * 32


@pytest.fixture
def client(app_client):
    return app_client()


def test_create_passes_loaded_fields_and_a_fresh_key(client, fake_rpc):
    fake_rpc.answers["airports_service", "create"] = {"id": ID, "airport": "Lisbon"}
    before = time.time()
    result = client.simulate_post("/airport", body=b'{"airport": " Lisbon "}',
                                  headers={"X-Request-ID": "r-1"})
    after = time.time()
    assert result.status_code == 201
    assert result.headers["Location"] == "/airport/" + ID
    (service, method, args, kwargs, context), = fake_rpc.calls
    assert (service, method, args) == ("airports_service", "create", ())
    assert kwargs["airport"] == "Lisbon"
    assert kwargs["idempotency_key"].startswith("auto:")
    # The call's deadline counts from the request's arrival: RPC_TIMEOUT after it.
    assert context.keys() == {"request_id", "deadline"}
    assert context["request_id"] == "r-1"
    timeout = Config().rpc_timeout
    assert before + timeout <= context["deadline"] <= after + timeout
    client.simulate_post("/airport", body=b'{"airport": "Lisbon"}')
    assert fake_rpc.calls[1][3]["idempotency_key"] != kwargs["idempotency_key"]


def test_client_idempotency_key_is_scoped_and_stable(client, fake_rpc):
    fake_rpc.answers["airports_service", "create"] = {"id": ID, "airport": "x"}
    for _ in range(2):
        client.simulate_post("/airport", json={"airport": "x"},
                             headers={"Idempotency-Key": "order-7"})
    keys = {call[3]["idempotency_key"] for call in fake_rpc.calls}
    assert len(keys) == 1 and keys.pop().startswith("client:")
    result = client.simulate_post("/airport", json={"airport": "x"},
                                  headers={"Idempotency-Key": "has space"})
    assert result.status_code == 400


@pytest.mark.parametrize("path", ["/airport/x", "/airport/" + ID.upper(),
                                  "/trip/" + ID + "0", "/trip/%20"])
def test_malformed_ids_never_reach_a_service(client, fake_rpc, path):
    assert client.simulate_get(path).status_code == 404
    assert client.simulate_delete(path).status_code == 404
    assert fake_rpc.calls == []


def test_refused_bodies_never_reach_a_service(client, fake_rpc):
    for body, status in [(b"{", 400), (b"[]", 400), (b'{"airport": ""}', 422),
                         (b"x" * 70000, 413)]:
        assert client.simulate_post("/airport", body=body).status_code == status
    assert client.simulate_post("/trip", json={"airport_from": ID,
                                               "airport_to": ID}).status_code == 422
    assert fake_rpc.calls == []


def test_service_errors_become_problems(client, fake_rpc):
    fake_rpc.answers["trips_service", "get"] = NotFound()
    fake_rpc.answers["trips_service", "list"] = RpcTimeout(5)
    assert_problem(client.simulate_get("/trip/" + ID), 404, NotFound.detail)
    assert_problem(client.simulate_get("/trips"), 504,
                   "The service did not answer in time.")


def test_list_query_is_loaded(client, fake_rpc):
    fake_rpc.answers["trips_service", "list"] = {"items": [], "next": None}
    client.simulate_get("/trips", query_string="airport=%s&limit=5" % ID)
    assert fake_rpc.calls[0][3] == {"airport": ID, "limit": 5, "cursor": None}


def test_gateway_bug_is_a_bare_500(client, fake_rpc):
    fake_rpc.answers["airports_service", "get"] = ZeroDivisionError("secret detail")
    assert_problem(client.simulate_get("/airport/" + ID), 500,
                   "The gateway failed to handle the request.")
