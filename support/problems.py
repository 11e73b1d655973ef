"""The one check of an error answer: a problem document (RFC 9457) that
leaks nothing of the system behind it."""
import http
import json
import socket

PROBLEM = "application/problem+json"
PROBLEM_KEYS = {"type", "title", "status", "detail"}
# What an answer must never carry: traces, paths, host, internals.
FORBIDDEN = ("Traceback", ".py", socket.gethostname(), "travel_common", "redis",
             "WRONGTYPE", "nameko", "Error(", "File \"")
# The one slash an answer may carry: the media type named by the 415's detail.
MEDIA_TYPE = "application/json"


def leaks(text: str) -> list:
    """The forbidden strings in an answer's body (case-insensitive)."""
    found = [word for word in FORBIDDEN if word.lower() in text.lower()]
    if "/" in text.replace(MEDIA_TYPE, ""):
        found.append("/")
    return found


def assert_problem(response, status: int, detail: str | None = None,
                   errors: dict | None = None, fields_from_client: bool = False
                   ) -> dict:
    """``response`` (from ``requests`` or ``falcon.testing``) is a problem
    document of ``status``: our media type; exactly the members we promise
    (``errors`` only on a 422); ``type`` ``about:blank``, the status's standard
    title, a detail (exactly ``detail`` when given) and field errors (exactly
    ``errors`` when given); nothing leaked (``fields_from_client``: but for
    the errors' keys, field names a fuzzer made up).  Returns the document."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == PROBLEM, response.headers
    body = response.json() if callable(response.json) else response.json
    allowed = PROBLEM_KEYS | ({"errors"} if status == 422 else set())
    assert PROBLEM_KEYS <= set(body) <= allowed, body
    assert (body["type"], body["status"]) == ("about:blank", status), body
    assert body["title"] == http.HTTPStatus(status).phrase, body
    assert isinstance(body["detail"], str) and body["detail"], body
    if detail is not None:
        assert body["detail"] == detail, body
    if errors is not None:
        assert body.get("errors") == errors, body
    checked = response.text
    if fields_from_client:
        errors = body.get("errors", {})
        rest = {key: value for key, value in body.items() if key != "errors"}
        checked = json.dumps([rest, list(errors.values())])
    assert leaks(checked) == [], response.text
    return body
