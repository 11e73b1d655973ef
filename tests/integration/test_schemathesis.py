"""Property-based testing of the live gateway against its own OpenAPI document.

schemathesis generates requests from the OpenAPI document and sends them to
the session's real uvicorn. Each response must be documented (status, content
type, headers, body schema), and none may be a 5xx: with healthy services
there is no excuse for one.

The document is built in-process at collection time (the tests are generated
from it before any server runs); the first test checks that the live gateway
serves exactly that document.
"""
import falcon.testing
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from gateway_falcon.app import create_app
from gateway_falcon.config import Config

MAX_EXAMPLES = 25

# Schema-valid data may still be refused with 422 for what a schema can't say:
# a trip's airports must exist and differ, an Idempotency-Key must not be
# reused with another body.
CONFIG = SchemathesisConfig.from_dict({"checks": {"positive_data_acceptance": {
    "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429"],
}}})

DOCUMENT = falcon.testing.TestClient(create_app(Config())).simulate_get(
    "/openapi.json"
).json
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


def test_live_document_is_the_tested_one(http):
    assert http.get("/openapi.json").json() == DOCUMENT


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck)
)
def test_gateway_conforms_to_its_openapi_document(case, stack):
    response = case.call_and_validate(base_url=stack.url, timeout=10)
    assert response.status_code < 500, response.text
