"""Talking to a gateway: a session with its base URL, the records every
test needs first, and a raw socket for what ``requests`` won't send."""
import json
import socket
import time
from typing import NamedTuple

import requests
from requests.structures import CaseInsensitiveDict

from support.problems import assert_problem


class GatewaySession(requests.Session):
    """A ``requests`` session whose relative URLs go to one gateway."""

    def __init__(self, base_url: str, timeout: float = 30):
        super().__init__()
        self.base_url = base_url
        self.timeout = timeout

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, self.base_url + url, *args, **kwargs)


def create_airport(http, name: str = "Lisbon", **kwargs) -> dict:
    """``POST /airport`` through ``http`` (a ``GatewaySession``); the 201's body."""
    response = http.post("/airport", json={"airport": name}, **kwargs)
    assert response.status_code == 201, response.text
    return response.json()


def create_trip(http, airport_from: str, airport_to: str, **kwargs) -> dict:
    """``POST /trip`` through ``http``; the 201's body."""
    response = http.post(
        "/trip", json={"airport_from": airport_from, "airport_to": airport_to},
        **kwargs,
    )
    assert response.status_code == 201, response.text
    return response.json()


class RawAnswer(NamedTuple):
    """An answer read off a raw socket; also read as a response is
    (``status_code``, ``headers``, ``text``, ``json()``), for ``assert_problem``."""

    status: int
    headers: CaseInsensitiveDict
    body: bytes

    @property
    def status_code(self) -> int:
        return self.status

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    def json(self):
        return json.loads(self.body)


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

    def response(self) -> RawAnswer:
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
        headers = CaseInsensitiveDict(
            line.split(": ", 1) for line in lines[1:] if ": " in line
        )
        return RawAnswer(int(lines[0].split()[1]), headers, body)

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
        answer = conn.response()
    finally:
        conn.close()
    problem = assert_problem(answer, answer.status)
    assert len(answer.headers["x-request-id"]) == 32
    return answer.status, problem, sent_all
