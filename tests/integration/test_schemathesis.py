"""Property-based testing of the live gateway against its own OpenAPI document.

schemathesis generates requests from ``/openapi.json`` and sends them to the
session's real uvicorn. Each response must be documented (status, content
type, headers, body schema), and none may be a 5xx: with healthy services
there is no excuse for one.
"""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

MAX_EXAMPLES = 25


@pytest.fixture(scope="module")
def api_schema(stack):
    return schemathesis.openapi.from_url(stack.url + "/openapi.json", timeout=10)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck)
)
def test_gateway_conforms_to_its_openapi_document(case, stack):
    response = case.call_and_validate(base_url=stack.url, timeout=10)
    assert response.status_code < 500, response.text
