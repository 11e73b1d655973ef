"""Property-based fuzzing of the live gateway (with API keys): random
methods, paths, headers and bodies.  Never a 5xx but the contract's
502/503/504, every error a problem document, and no record from a refusal."""
import json
import secrets

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support import assert_problem, record_keys

KEY = secrets.token_hex(16)
ID = "0123456789abcdef0123456789abcdef"

token = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40)
header_value = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF),
                       max_size=60).map(str.strip)
segment = st.one_of(
    st.sampled_from(["airport", "airports", "trip", "trips", "health", "ready",
                     "openapi.json", "docs", "metrics", ID, ID.upper(), "..", "%00",
                     "", "x" * 200]),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E,
                          exclude_characters="/?#"), max_size=20),
)
paths = st.lists(segment, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(
    parts))
queries = st.one_of(st.just(""), st.dictionaries(
    st.sampled_from(["limit", "cursor", "airport", "x"]),
    st.one_of(st.integers(-5, 500).map(str), token), max_size=3,
).map(lambda query: "?" + "&".join("%s=%s" % pair for pair in query.items())))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=120),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
record_bodies = st.fixed_dictionaries(
    {},
    optional={"airport": json_values | st.text(max_size=120),
              "airport_from": st.just(ID) | json_values,
              "airport_to": st.sampled_from([ID, ID.replace("0", "1")]) | json_values,
              "id": json_values},
)
bodies = st.one_of(
    st.none(),
    st.binary(max_size=300),
    json_values.map(lambda value: json.dumps(value).encode()),
    record_bodies.map(lambda value: json.dumps(value).encode()),
)
headers = st.fixed_dictionaries({}, optional={
    "Authorization": st.sampled_from(["Bearer " + KEY, "Bearer " + KEY[:-1],
                                      "Basic " + KEY, "Bearer"]) | header_value,
    "Content-Type": st.sampled_from(["application/json", "text/plain", "",
                                     "application/x-www-form-urlencoded",
                                     "application/problem+json; charset=utf-8",
                                     "multipart/form-data"]) | header_value,
    "Idempotency-Key": token | header_value,
    "X-Request-ID": token | header_value,
    "Accept": header_value,
    "Origin": st.just("https://app.example.com") | header_value,
})
methods = st.sampled_from(["GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS",
                           "HEAD", "TRACE"])


@pytest.fixture(scope="module")
def fuzzed(stack_factory):
    return stack_factory(API_KEYS=KEY, CORS_ORIGINS="https://app.example.com",
                         RPC_TIMEOUT="2")


def test_fuzz_the_gateway(fuzzed):
    stack, database = fuzzed, fuzzed.database
    before = record_keys(database.client)
    created = set()
    session = requests.Session()

    @settings(max_examples=200, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(method=methods, path=paths, query=queries, headers=headers, body=bodies)
    def check(method, path, query, headers, body):
        response = session.request(method, stack.url + path + query, data=body,
                                   headers=headers, timeout=15)
        status = response.status_code
        assert status < 500 or status in (502, 503, 504), response.text
        assert response.headers.get("X-Request-ID")
        if status == 201:
            created.add("%s:rec:%s" % (path.strip("/") + "s", response.json()["id"]))
        # /ready answers its own per-dependency document, also on 503.
        if status >= 400 and method != "HEAD" and path != "/ready":
            # Field errors are keyed by the client's own field names.
            assert_problem(response, status, fields_from_client=True)
        if status == 401:
            assert response.headers["WWW-Authenticate"] == "Bearer"

    check()
    session.close()
    # Only the creates answered 201 left a record behind.
    assert record_keys(database.client) == before | created
