"""The one stand-in for the gateway's RPC client, for in-process tests of the
app (``falcon.testing``): it answers from a script and records every call."""


class FakeRpc:
    """``answers[service, method]``: the value to return, or an exception to
    raise; ``error``: raised by every call without an answer of its own (else
    they return None).  ``calls``: (service, method, args, kwargs, context)."""

    in_flight = 0
    max_in_flight = 256

    def __init__(self, error: Exception | None = None):
        self.calls = []
        self.answers = {}
        self.error = error

    async def start(self):
        pass

    async def stop(self):
        pass

    async def ping_broker(self):
        pass

    async def call(self, service, method, context, *args, **kwargs):
        self.calls.append((service, method, args, kwargs, context))
        answer = self.answers.get((service, method), self.error)
        if isinstance(answer, Exception):
            raise answer
        return answer
