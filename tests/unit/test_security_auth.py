"""API keys and CORS, in-process (``falcon.testing``, the stand-in RPC client)
on an app configured with ``API_KEYS`` and ``CORS_ORIGINS``."""
import logging
import secrets

import falcon.testing
import pytest

from gateway_falcon.app import create_app
from gateway_falcon.auth import principal_of
from gateway_falcon.config import Config

from support import assert_problem

KEYS = ["k1-" + secrets.token_hex(16), "k2-" + secrets.token_hex(16)]
ORIGIN = "https://app.example.com"
OTHER_ORIGIN = "https://evil.example.com"
ID = "0123456789abcdef0123456789abcdef"
PROTECTED = [
    ("POST", "/airport"),
    ("GET", "/airport/" + ID),
    ("DELETE", "/airport/" + ID),
    ("GET", "/airports"),
    ("POST", "/trip"),
    ("GET", "/trip/" + ID),
    ("DELETE", "/trip/" + ID),
    ("GET", "/trips"),
    ("GET", "/airport/not-an-id"),
    ("PUT", "/airport"),
    ("GET", "/airportsXYZ"),
    ("GET", "/trip"),
]
WRONG = [
    None,
    "Bearer",
    "Bearer ",
    "Bearer wrong",
    "Bearer " + KEYS[0][:-1],
    "Bearer " + KEYS[0] + "x",
    "Basic " + KEYS[0],
    KEYS[0],
    "Bearer " + KEYS[0].upper(),
]
AIRPORT = {"id": ID, "airport": "Oslo"}


@pytest.fixture
def api(fake_rpc):
    """``api(method, path, key=KEYS[0], **kwargs)`` on the app configured from
    the environment as the gateway is, whose services answer an airport to
    every create and get, and an empty list."""
    fake_rpc.answers["airports_service", "create"] = AIRPORT
    fake_rpc.answers["airports_service", "get"] = AIRPORT
    fake_rpc.answers["airports_service", "list"] = {"items": [], "next": None}
    config = Config.from_env({"API_KEYS": " %s , %s " % tuple(KEYS),
                              "CORS_ORIGINS": ORIGIN, "RPC_TIMEOUT": "2"})
    client = falcon.testing.TestClient(create_app(config, rpc=fake_rpc))

    def request(method, path, key=KEYS[0], headers=None, **kwargs):
        headers = dict(headers or {})
        if key is not None:
            headers["Authorization"] = "Bearer " + key
        return client.simulate_request(method, path, headers=headers, **kwargs)

    return request


def refused(response):
    body = assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.headers["X-Request-ID"]
    return body


@pytest.mark.parametrize("method,path", PROTECTED)
def test_protected_paths_need_a_key(api, fake_rpc, method, path):
    response = api(method, path, key=None, json={"airport": "x"})
    assert refused(response)["detail"] == (
        "Send an API key: Authorization: Bearer <key>."
    )
    assert fake_rpc.calls == []


@pytest.mark.parametrize("authorization", WRONG)
def test_wrong_keys_are_refused(api, fake_rpc, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = api("POST", "/airport", key=None, headers=headers,
                   json={"airport": "Nowhere"})
    refused(response)
    assert fake_rpc.calls == []  # nothing created


@pytest.mark.parametrize("key", KEYS)
def test_each_key_works(api, fake_rpc, key):
    created = api("POST", "/airport", key=key, json={"airport": "Oslo"})
    assert created.status_code == 201, created.text
    got = api("GET", "/airport/" + ID, key=key)
    assert got.status_code == 200
    assert got.json == AIRPORT
    assert api("GET", "/airports", key=key).status_code == 200
    assert [call[:2] for call in fake_rpc.calls] == [
        ("airports_service", "create"), ("airports_service", "get"),
        ("airports_service", "list")]


def test_scheme_is_case_insensitive(api):
    response = api("GET", "/airports", key=None,
                   headers={"Authorization": "bearer  " + KEYS[1]})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("path", ["/health", "/ready", "/openapi.json", "/docs",
                                  "/metrics", "/nothing-here"])
def test_other_paths_stay_open(api, path):
    response = api("GET", path, key=None)
    assert response.status_code != 401
    if path == "/nothing-here":
        assert response.status_code == 404
    else:
        assert response.status_code == 200


def test_idempotency_keys_are_scoped_by_api_key(api, fake_rpc):
    """The same Idempotency-Key under two API keys is two keys to the service
    (under one, one key: the service answers the first create again)."""
    token = {"Idempotency-Key": "idem-" + secrets.token_hex(8)}
    for key in (KEYS[0], KEYS[0], KEYS[1]):
        response = api("POST", "/airport", key=key, json={"airport": "Porto"},
                       headers=dict(token))
        assert response.status_code == 201
    first, again, other = (call[3]["idempotency_key"] for call in fake_rpc.calls)
    assert first == again and first.startswith("client:")
    assert other != first and other.startswith("client:")


def test_keys_never_reach_the_log_nor_a_service(api, fake_rpc, caplog):
    with caplog.at_level(logging.DEBUG):
        api("GET", "/airports", key=KEYS[0])
        api("GET", "/airports", key=KEYS[1] + "-wrong")
    assert "refused: unknown API key" in caplog.text
    sent = repr(fake_rpc.calls)
    for key in KEYS:
        assert key not in caplog.text and key[3:] not in caplog.text
        assert key not in sent and key[3:] not in sent


def test_principal_is_not_the_key():
    assert principal_of(KEYS[0]).startswith("key-")
    assert KEYS[0] not in principal_of(KEYS[0])
    assert principal_of(KEYS[0]) != principal_of(KEYS[1])


# -- CORS -------------------------------------------------------------------


def test_cors_allows_the_listed_origin(api):
    response = api("GET", "/airports", headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in response.headers["Vary"]
    assert "X-Request-ID" in response.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_cors_headers_on_a_401_too(api):
    response = api("GET", "/airports", key=None, headers={"Origin": ORIGIN})
    refused(response)
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "WWW-Authenticate" in response.headers["Access-Control-Expose-Headers"]


def test_cors_ignores_other_origins(api):
    response = api("GET", "/airports", headers={"Origin": OTHER_ORIGIN})
    assert response.status_code == 200
    assert not [h for h in response.headers if h.lower().startswith("access-control")]


def preflight(api, origin):
    return api("OPTIONS", "/airport", key=None, headers={
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    })


def test_preflight_for_the_listed_origin(api):
    response = preflight(api, ORIGIN)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Allow-Headers"] == (
        "authorization, content-type"
    )
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_preflight_for_another_origin(api):
    response = preflight(api, OTHER_ORIGIN)
    assert not [h for h in response.headers if h.lower().startswith("access-control")]


def test_cors_is_off_by_default(app_client, fake_rpc):
    fake_rpc.answers["airports_service", "list"] = {"items": [], "next": None}
    client = app_client()
    response = client.simulate_get("/airports", headers={"Origin": ORIGIN})
    assert response.status_code == 200
    options = client.simulate_options("/airport", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    for answer in (response, options):
        assert not [h for h in answer.headers if h.lower().startswith("access-")]
