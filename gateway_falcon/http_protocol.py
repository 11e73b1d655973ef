"""uvicorn's httptools protocol, with bounds on each request's head and on
the time a client takes to send a request: the one module that reaches into
uvicorn's internals.

uvicorn limits the request line and headers only with its h11 protocol
(``h11_max_incomplete_event_size``); with httptools a client could send
megabytes of headers, all kept in memory.  This protocol refuses a head
(request line and headers) over ``max_head_bytes`` with a 431, whether it
arrives whole or trickles in without ever ending, and answers requests that
aren't valid HTTP with a problem document instead of uvicorn's plain text.

uvicorn's only timer is keep-alive's, cancelled by the first byte that
arrives: a client that sends part of a head, or declares a body and doesn't
send it, holds its connection forever.  Here a head must be complete within
``head_timeout`` seconds of its first byte (of the connection, for its first
request), and a body within ``body_timeout`` seconds of its head; else the
answer is a 408 (when no response was started yet) and the connection
closes.  A new connection that sends nothing is closed silently then.  While
a request waits for the server instead (behind a pipelined one), its time
limit starts again.

Every use of a name uvicorn does not document is marked ``# uvicorn 0.54:``
with the upstream function it mirrors or relies on;
``tests/unit/test_uvicorn_internals.py`` fails, naming the reach, when one of
them changes upstream (an attribute gone, a signature or a relied-on method's
source changed).
"""

import asyncio
import json
import logging
import uuid

# uvicorn 0.54: protocols.http.httptools_impl.HttpToolsProtocol, subclassed
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway_falcon.problem import PROBLEM_JSON, problem_document

log = logging.getLogger(__name__)

TOO_LARGE = 431
# After a refusal, what the client still sends is read and dropped for this
# long before the connection closes, so that it gets to read the answer.
LINGER_SECONDS = 1.0


class HeadTooLarge(Exception):
    """Raised inside a parser callback: httptools then fails the parse."""


def raw_problem_response(
    status: int, detail: str, default_headers, request_id: str
) -> bytes:
    """A whole HTTP/1.1 response carrying a problem document, as bytes to
    write on the transport (the application never sees the request)."""
    document = problem_document(status, detail)
    body = json.dumps(document).encode()
    lines = [b"HTTP/1.1 %d %s\r\n" % (status, document["title"].encode())]
    lines += [b"%s: %s\r\n" % (name, value) for name, value in default_headers]
    lines += [
        b"content-type: %s\r\n" % PROBLEM_JSON.encode(),
        b"x-request-id: %s\r\n" % request_id.encode(),
        b"content-length: %d\r\n" % len(body),
        b"connection: close\r\n\r\n",
        body,
    ]
    return b"".join(lines)


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    max_head_bytes = 16 * 1024
    head_timeout = 5.0
    body_timeout = 10.0

    # uvicorn 0.54: HttpToolsProtocol.connection_made, then our state
    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._in_head = True  # reading a request line and headers
        self._unparsed = 0  # bytes received while in the head
        self._head_size = 0  # bytes of the head parsed so far
        self._head_too_large = False
        self._refused = False
        self._head_begun = False  # a head's first byte came, not its end
        self._in_body = False  # a head came, not its body's end
        # The time limit of the head or body being received, if any.
        # uvicorn 0.54: HttpToolsProtocol.__init__ sets self.loop
        self._timer = self.loop.call_later(self.head_timeout, self._timed_out)

    # uvicorn 0.54: HttpToolsProtocol.connection_lost, after our timer
    def connection_lost(self, exc) -> None:
        self._cancel_timer()
        super().connection_lost(exc)

    # uvicorn 0.54: HttpToolsProtocol.data_received feeds the parser, whose
    # callbacks below run inside it, and calls send_400_response on a failure
    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._in_head:
            self._unparsed += len(data)
        super().data_received(data)
        if self._refused:
            return
        # Still in the head after this data: a head that hasn't ended yet.
        if self._in_head and self._unparsed > self.max_head_bytes:
            self._refuse_head()
        # A head or body left unfinished by this data: it has until its time
        # limit (armed only here, so that whole requests cost no timer).
        elif self._timer is None and (self._head_begun or self._in_body):
            seconds = self.body_timeout if self._in_body else self.head_timeout
            self._timer = self.loop.call_later(seconds, self._timed_out)

    # uvicorn 0.54: HttpToolsProtocol's httptools callbacks on_message_begin,
    # on_url, on_header, on_headers_complete and on_message_complete
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_size = 0
        self._head_begun = True

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head, self._unparsed = False, 0
        # (An upgrade's bytes after the head are no body of ours.)
        # uvicorn 0.54: HttpToolsProtocol.__init__ sets self.parser (httptools)
        self._head_begun, self._in_body = False, not self.parser.should_upgrade()
        self._cancel_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_head, self._unparsed = True, 0
        self._in_body = False
        self._cancel_timer()
        super().on_message_complete()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _waiting_for_us(self) -> bool:
        """The request being received waits for the server, not the client:
        reading is paused (pipelined requests queued, or a body the
        application hasn't taken yet), or an earlier request is still being
        answered (an answer now would come before its own)."""
        # uvicorn 0.54: HttpToolsProtocol.on_headers_complete queues a
        # pipelined request in self.pipeline and pauses self.flow's reading;
        # on_body pauses it for a body the application hasn't taken
        if self.flow.read_paused or self.pipeline:
            return True
        # uvicorn 0.54: HttpToolsProtocol.on_headers_complete sets self.cycle
        # (a RequestResponseCycle), kept until the next request's head ends
        earlier = self.cycle  # while a head comes: the request before it
        answering = earlier is not None and not earlier.response_complete
        return self._head_begun and answering

    def _timed_out(self) -> None:
        self._timer = None
        if self._waiting_for_us():  # the client is not late: wait again
            seconds = self.body_timeout if self._in_body else self.head_timeout
            self._timer = self.loop.call_later(seconds, self._timed_out)
            return
        if self._in_body:
            cycle = self.cycle
            # uvicorn 0.54: RequestResponseCycle.send sets response_started,
            # response_complete, and closes after a response if not keep_alive
            if cycle.response_started:  # too late to answer: close after it
                cycle.keep_alive = False
                if cycle.response_complete:
                    self.transport.close()
                return
            # The application's read ends (as if the client left), and
            # whatever it answers then is dropped: the 408 is the answer.
            # uvicorn 0.54: HttpToolsProtocol.connection_lost, as it ends a cycle
            cycle.disconnected = True
            cycle.message_event.set()
            self._refuse(408, "The request body was not received within %g s."
                         % self.body_timeout)
        elif self._head_begun:
            self._refuse(408, "The request head was not received within %g s."
                         % self.head_timeout)
        else:  # a new connection that never sent anything
            self.transport.close()

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
        self._cancel_timer()
        request_id = uuid.uuid4().hex
        log.warning("refused a request: %s", detail, extra={"request_id": request_id})
        # uvicorn 0.54: HttpToolsProtocol.send_400_response writes
        # self.server_state.default_headers (date, server) the same way
        headers = self.server_state.default_headers
        self.transport.write(raw_problem_response(status, detail, headers, request_id))
        if self.transport.can_write_eof():
            self.transport.write_eof()
        asyncio.get_running_loop().call_later(LINGER_SECONDS, self.transport.close)

    # uvicorn 0.54: HttpToolsProtocol.send_400_response, replaced
    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request httptools can't parse."""
        if self._head_too_large:
            self._refuse_head()
            return
        self._refuse(400, "The request is not valid HTTP.")


def limited_httptools(
    max_head_bytes: int, head_timeout: float, body_timeout: float
) -> type:
    """The protocol class to give uvicorn as ``http=``."""
    return type(
        "LimitedHttpToolsProtocol",
        (LimitedHttpToolsProtocol,),
        {
            "max_head_bytes": max_head_bytes,
            "head_timeout": head_timeout,
            "body_timeout": body_timeout,
        },
    )
