"""Security pieces in-process (falcon.testing, a stand-in RPC client): the
error paths a live stack can't be made to take, and the small parsers."""
import json

import pytest
from nameko.exceptions import RemoteError

from gateway_falcon.auth import ApiKeyAuth, principal_of
from gateway_falcon.config import Config
from gateway_falcon.http_protocol import raw_problem_response

from support import assert_problem

ID = "a" * 32
SECRET_TEXT = "/srv/app/travel_common/records.py: WRONGTYPE redis at db-host-7"


@pytest.mark.parametrize("error,status,detail", [
    (ValueError(SECRET_TEXT), 500, "The gateway failed to handle the request."),
    (RemoteError("WrongTypeError", SECRET_TEXT), 502,
     "A service failed to handle the request."),
])
def test_unexpected_errors_answer_a_bare_problem(app_client, fake_rpc, error, status,
                                                 detail):
    fake_rpc.error = error
    response = app_client().simulate_get("/airport/" + ID)
    assert_problem(response, status, detail)
    for secret in ("/srv", ".py", "WRONGTYPE", "redis", "db-host", "ValueError"):
        assert secret not in response.text


def test_cors_wildcard_never_allows_credentials(app_client):
    response = app_client(cors_origins=("*",)).simulate_options("/airport", headers={
        "Origin": "https://any.example", "Access-Control-Request-Method": "POST"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_api_keys_from_the_environment():
    config = Config.from_env({"API_KEYS": " one, two ,,", "CORS_ORIGINS": ""})
    assert config.api_keys == ("one", "two")
    assert config.cors_origins == ()


@pytest.mark.parametrize("header,token", [
    ("Bearer abc", "abc"), ("bearer   abc ", "abc"), ("BEARER abc", "abc"),
    (None, None), ("", None), ("Bearer", None), ("Bearer  ", None),
    ("Basic abc", None), ("abc", None), ("Token abc", None),
])
def test_bearer_token_parsing(header, token):
    assert ApiKeyAuth._bearer_token(header) == token


def test_principal_is_a_short_digest():
    assert principal_of("secret") == principal_of("secret")
    assert len(principal_of("secret")) == len("key-") + 12
    assert "secret" not in principal_of("secret")


def test_protocol_problem_response():
    raw = raw_problem_response(431, "Too big.", [(b"date", b"today")], "r" * 32)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 431 Request Header Fields Too Large"
    assert set(lines[1:]) == {
        b"date: today", b"content-type: application/problem+json",
        b"x-request-id: " + b"r" * 32, b"content-length: %d" % len(body),
        b"connection: close",
    }
    assert json.loads(body) == {"type": "about:blank", "status": 431,
                                "title": "Request Header Fields Too Large",
                                "detail": "Too big."}
