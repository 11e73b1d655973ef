"""Helpers for the security tests: problem checks, leak checks, raw HTTP."""
import json
import socket
import time

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


def assert_problem(response, status: int, detail: str | None = None) -> dict:
    """A problem document of ``status``, with exactly the RFC 9457 members we
    promise (``errors`` only with field errors), leaking nothing."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == PROBLEM, response.headers
    body = response.json()
    assert PROBLEM_KEYS <= set(body) <= PROBLEM_KEYS | {"errors"}, body
    assert body["status"] == status and body["type"] == "about:blank"
    assert all(isinstance(body[key], str) for key in ("type", "title", "detail"))
    if detail is not None:
        assert body["detail"] == detail
    assert leaks(response.text) == [], response.text
    return body


def record_keys(client) -> set:
    """Every stored record's key (airports and trips) in a Redis database."""
    return set(client.scan_iter("airports:rec:*")) | set(
        client.scan_iter("trips:rec:*")
    )


class RawHttp:
    """A plain socket to the gateway, for what ``requests`` won't send."""

    def __init__(self, port: int, timeout: float = 10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)

    def send(self, data: bytes) -> bool:
        """Whether all of ``data`` could be sent (False: the server closed)."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def response(self) -> tuple:
        """(status, headers, body) of the answer read until the server closes."""
        chunks = []
        try:
            while chunk := self.sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
        raw = b"".join(chunks)
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        headers = {name.lower(): value for name, value in headers.items()}
        return int(lines[0].split()[1]), headers, body

    def close(self):
        self.sock.close()


def raw_problem(port: int, chunks, pause: float = 0.0) -> tuple:
    """Send ``chunks`` on a new connection (stopping if the server closes it);
    return (status, problem body, whether every chunk went out)."""
    conn = RawHttp(port)
    try:
        sent_all = True
        for chunk in chunks:
            if not conn.send(chunk):
                sent_all = False
                break
            if pause:
                time.sleep(pause)
        status, headers, body = conn.response()
    finally:
        conn.close()
    assert headers["content-type"] == PROBLEM
    assert len(headers["x-request-id"]) == 32
    problem = json.loads(body)
    assert set(problem) == PROBLEM_KEYS and problem["status"] == status
    assert leaks(body.decode()) == []
    return status, problem, sent_all
