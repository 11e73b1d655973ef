"""The context data of an RPC call: what each key means, and how a request's
id and deadline travel from an HTTP request to a service's log line.

1. The gateway's ``RequestContext`` middleware keeps the client's
   ``X-Request-ID`` (or makes one up) in ``req.context.request_id`` and in
   the gateway's log context (``travel_common.logs.request_id_var``).
2. The same middleware sets ``req.context.deadline``: the epoch second after
   which the gateway no longer waits for the request's replies (arrival +
   ``RPC_TIMEOUT``).  A resource calls a service with ``rpc_context(req)``
   (``gateway_falcon.middleware``): ``{REQUEST_ID: ..., DEADLINE: ...}``;
   the gateway's RPC client sets a ``DEADLINE`` of its own to a call
   without one.  nameko sends context data in the request message's headers
   (``DEADLINE`` as ``travel_common.deadlines.HEADER``).
3. In the service, the ``rpc`` entrypoint (``travel_common.rpc_entrypoint``)
   reads ``DEADLINE`` before running the call: a call whose caller stopped waiting
   is answered ``DeadlineExceeded`` without being run.  The ``RequestLog``
   dependency puts ``REQUEST_ID`` into the worker's log context, so every log
   line of the call carries it, and logs the call when it ends.
4. A call the service makes to another service (trips -> airports) carries the
   worker's context data on (nameko passes it), so the request id and the
   deadline reach that service too; the trips service also waits for the
   airports service no longer than the deadline (``CallerDeadline``).
"""

REQUEST_ID = "request_id"  # the HTTP request's X-Request-ID
DEADLINE = "deadline"  # epoch seconds: when the caller stops waiting
