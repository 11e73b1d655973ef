"""The problem document (RFC 9457): the one builder of every error body the
gateway sends, whether Falcon serializes it (``errors.serialize_problem``) or
the HTTP protocol writes it itself (``http_protocol``)."""

import http

PROBLEM_JSON = "application/problem+json"


def problem_document(
    status: int, detail: str | None = None, errors: dict | None = None
) -> dict:
    """``{"type", "title", "status", "detail"}``, plus ``errors`` (``{field:
    [messages]}``) when there are any.  Without a ``detail``, the status's
    standard description stands in."""
    standard = http.HTTPStatus(status)
    document = {
        "type": "about:blank",
        "title": standard.phrase,
        "status": status,
        "detail": detail or standard.description,
    }
    if errors:
        document["errors"] = errors
    return document
