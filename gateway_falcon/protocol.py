"""uvicorn's httptools protocol, with a bound on each request's head.

uvicorn limits the request line and headers only with its h11 protocol
(``h11_max_incomplete_event_size``); with httptools a client could send
megabytes of headers, all kept in memory.  This protocol refuses a head
(request line and headers) over ``max_head_bytes`` with a 431, whether it
arrives whole or trickles in without ever ending, and answers requests that
aren't valid HTTP with a problem document instead of uvicorn's plain text.
"""

import asyncio
import http
import json
import logging
import uuid

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)

TOO_LARGE = 431
# After a refusal, what the client still sends is read and dropped for this
# long before the connection closes, so that it gets to read the answer.
LINGER_SECONDS = 1.0


class HeadTooLarge(Exception):
    """Raised inside a parser callback: httptools then fails the parse."""


def problem_response(
    status: int, detail: str, default_headers, request_id: str
) -> bytes:
    phrase = http.HTTPStatus(status).phrase
    body = json.dumps(
        {"type": "about:blank", "title": phrase, "status": status, "detail": detail}
    ).encode()
    lines = [b"HTTP/1.1 %d %s\r\n" % (status, phrase.encode())]
    lines += [b"%s: %s\r\n" % (name, value) for name, value in default_headers]
    lines += [
        b"content-type: application/problem+json\r\n",
        b"x-request-id: %s\r\n" % request_id.encode(),
        b"content-length: %d\r\n" % len(body),
        b"connection: close\r\n\r\n",
        body,
    ]
    return b"".join(lines)


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    max_head_bytes = 16 * 1024

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._in_head = True  # reading a request line and headers
        self._unparsed = 0  # bytes received while in the head
        self._head_size = 0  # bytes of the head parsed so far
        self._head_too_large = False
        self._refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._in_head:
            self._unparsed += len(data)
        super().data_received(data)
        # Still in the head after this data: a head that hasn't ended yet.
        if self._in_head and self._unparsed > self.max_head_bytes and not self._refused:
            self._refuse_head()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_size = 0

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head, self._unparsed = False, 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_head, self._unparsed = True, 0
        super().on_message_complete()

    def _count(self, size: int) -> None:
        self._head_size += size
        if self._head_size > self.max_head_bytes:
            self._head_too_large = True
            raise HeadTooLarge()

    def _refuse_head(self) -> None:
        detail = "The request line and headers exceed %d bytes." % self.max_head_bytes
        self._refuse(TOO_LARGE, detail)

    def _refuse(self, status: int, detail: str) -> None:
        """Answer, stop reading requests, and close once the client had time
        to read the answer (closing at once, with its data still unread,
        would reset the connection and could lose the answer)."""
        if self._refused or self.transport.is_closing():
            return
        self._refused = True
        request_id = uuid.uuid4().hex
        log.warning("refused a request: %s", detail, extra={"request_id": request_id})
        self.transport.write(
            problem_response(
                status, detail, self.server_state.default_headers, request_id
            )
        )
        if self.transport.can_write_eof():
            self.transport.write_eof()
        asyncio.get_running_loop().call_later(LINGER_SECONDS, self.transport.close)

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request httptools can't parse."""
        if self._head_too_large:
            self._refuse_head()
            return
        self._refuse(400, "The request is not valid HTTP.")


def limited_httptools(max_head_bytes: int) -> type:
    """The protocol class to give uvicorn as ``http=``."""
    return type(
        "LimitedHttpToolsProtocol",
        (LimitedHttpToolsProtocol,),
        {"max_head_bytes": max_head_bytes},
    )
