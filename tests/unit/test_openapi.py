"""The OpenAPI document, built in-process: valid, complete, grouped by tag,
with an example for every body that fits its schema; the API keys' security
scheme only when keys are configured."""
import openapi_schema_validator
import pytest
from openapi_spec_validator import validate

KEYS = ("k1-secret", "k2-secret")
PATHS = {
    "/health", "/ready", "/openapi.json", "/airport", "/airport/{record_id}",
    "/airports", "/trip", "/trip/{record_id}", "/trips", "/docs", "/metrics",
}
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture
def document(app_client) -> dict:
    response = app_client().simulate_get("/openapi.json")
    assert response.status_code == 200
    return response.json


def operations(document: dict) -> list:
    """(path, method, operation) of every operation in the document."""
    return [(path, method, operation)
            for path, item in document["paths"].items()
            for method, operation in item.items() if method in METHODS]


def test_openapi_document(document):
    validate(document)
    assert set(document["paths"]) == PATHS
    schemas = document["components"]["schemas"]
    # 1-100 characters once stripped: a pattern, not a limit on the raw string.
    name = schemas["Airport"]["properties"]["airport"]
    assert "maxLength" not in name and "{0,98}" in name["pattern"]
    assert schemas["Airport"]["properties"]["id"]["readOnly"] is True
    assert "Trip" in schemas and "Problem" in schemas
    create = document["paths"]["/airport"]["post"]["responses"]
    assert {"201", "400", "408", "413", "415", "422", "502", "503", "504"} <= set(
        create
    )
    assert "409" in document["paths"]["/airport/{record_id}"]["delete"]["responses"]
    assert "409" not in document["paths"]["/trip/{record_id}"]["delete"]["responses"]


def test_operations_are_grouped_by_tag(document):
    assert [tag["name"] for tag in document["tags"]] == [
        "airports", "trips", "operations"]
    tagged = {}
    for path, method, operation in operations(document):
        (tag,) = operation["tags"]
        tagged.setdefault(tag, set()).add((method.upper(), path))
    assert tagged == {
        "airports": {("POST", "/airport"), ("GET", "/airport/{record_id}"),
                     ("DELETE", "/airport/{record_id}"), ("GET", "/airports")},
        "trips": {("POST", "/trip"), ("GET", "/trip/{record_id}"),
                  ("DELETE", "/trip/{record_id}"), ("GET", "/trips")},
        "operations": {("GET", "/health"), ("GET", "/ready"), ("GET", "/metrics"),
                       ("GET", "/docs"), ("GET", "/openapi.json")},
    }


def test_every_json_body_has_an_example_that_fits_its_schema(document):
    """Request bodies as a client writes them (no read-only id), responses as
    the gateway sends them; the path ids' examples have the id's shape."""
    checked = 0
    for path, method, operation in operations(document):
        bodies = [(operation.get("requestBody"), openapi_schema_validator.
                   OAS30WriteValidator)]
        bodies += [(response, openapi_schema_validator.OAS30ReadValidator)
                   for response in operation["responses"].values()]
        for body, validator in bodies:
            for media_type in (body or {}).get("content", {}).values():
                if "$ref" not in media_type["schema"]:
                    continue  # text: the docs page, the metrics
                assert "example" in media_type, (method, path)
                schema = dict(media_type["schema"], components=document["components"])
                openapi_schema_validator.validate(
                    media_type["example"], schema, cls=validator)
                checked += 1
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                openapi_schema_validator.validate(
                    parameter["example"], parameter["schema"])
    assert checked > 50


def test_openapi_declares_the_bearer_scheme(app_client):
    document = app_client(api_keys=KEYS).simulate_get("/openapi.json").json
    validate(document)
    assert document["components"]["securitySchemes"] == {
        "bearerAuth": {"type": "http", "scheme": "bearer",
                       "description": "An API key."}
    }
    protected = 0
    for path, method, operation in operations(document):
        if path.startswith(("/airport", "/trip")):
            protected += 1
            assert operation["security"] == [{"bearerAuth": []}], (path, method)
            assert "401" in operation["responses"], (path, method)
        else:
            assert "security" not in operation, (path, method)
            assert "401" not in operation["responses"], (path, method)
    assert protected == 8


def test_openapi_without_keys_declares_no_scheme(document):
    assert "securitySchemes" not in document.get("components", {})
    assert "security" not in document
    for _, _, operation in operations(document):
        assert "security" not in operation
        assert "401" not in operation["responses"]
