"""A call's deadline: when its caller stops waiting, in epoch seconds.

The gateway sets it when the HTTP request arrives (arrival + ``RPC_TIMEOUT``)
and sends it with every call as nameko context data (``DEADLINE``); a
service passes it on with the calls it makes in turn, since nameko copies a
worker's context data into its own calls.  Nothing is published after it,
a request's message TTL is the time left to it, and no instance starts a
call after it.  (The machines' clocks must agree to within a small part of
``RPC_TIMEOUT``, as NTP gives.)
"""

import time

from travel_common.call_context import DEADLINE

# The context data key, as nameko's headers carry it (nameko 2.14.1:
# nameko.messaging.HeaderEncoder, its header_prefix "nameko").
HEADER = "nameko." + DEADLINE


def time_left(deadline: float) -> float:
    """Seconds until ``deadline`` (negative once it has passed)."""
    return float(deadline) - time.time()


def message_ttl(headers: dict | None) -> float | None:
    """The TTL, in seconds, for a request with these headers: the time left
    to its deadline, or ``None`` when it has none.  At least a millisecond:
    a TTL of 0 means something else to RabbitMQ."""
    deadline = (headers or {}).get(HEADER)
    if deadline is None:
        return None
    return max(time_left(deadline), 0.001)
