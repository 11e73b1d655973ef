"""Exceptions that cross the RPC wire as real types.

Each class is registered with nameko's exception registry, so a service that
raises one makes the caller (gateway or another service) raise the same class,
with the same arguments, instead of a generic ``RemoteError``.  Arguments must
therefore be JSON-serializable and passed positionally.
"""

from nameko.exceptions import deserialize_to_instance


class TravelError(Exception):
    """Base of the domain errors; ``detail`` is safe to show to a client."""

    detail = "The request failed."

    def __init__(self, detail: str | None = None):
        super().__init__(detail or self.detail)
        self.detail = detail or self.detail


@deserialize_to_instance
class NotFound(TravelError):
    detail = "No record with this id."


@deserialize_to_instance
class InUse(TravelError):
    detail = "The record is still referenced by other records."


@deserialize_to_instance
class Invalid(TravelError):
    """Field errors, as marshmallow gives them: ``{field: [messages]}``."""

    detail = "The request has invalid fields."

    def __init__(self, errors: dict, detail: str | None = None):
        super().__init__(detail)
        self.args = (errors, self.detail)
        self.errors = errors


@deserialize_to_instance
class IdempotencyConflict(TravelError):
    detail = "This Idempotency-Key was already used with another request body."


@deserialize_to_instance
class StoreUnavailable(TravelError):
    detail = "The data store is unavailable."


@deserialize_to_instance
class DependencyUnavailable(TravelError):
    """A service this service calls is not running or not reachable."""

    detail = "A service needed for this request is unavailable."


@deserialize_to_instance
class DeadlineExceeded(TravelError):
    """The caller's deadline passed before the call could start; it was not run."""

    detail = "The request was not carried out: its caller stopped waiting."


@deserialize_to_instance
class Interrupted(TravelError):
    """A create gave way to a concurrent change (its undoing); nothing was stored."""

    detail = "The request was interrupted and nothing was stored; retry it."


@deserialize_to_instance
class Released(TravelError):
    """The trip id was released: it can never be reserved again."""

    detail = "This trip was released; it cannot be reserved again."


@deserialize_to_instance
class NotAcknowledged(TravelError):
    """A write that fewer replicas than ``REDIS_MIN_REPLICAS`` confirmed in time,
    or that the primary refused for want of replicas: it may or may not stand."""

    detail = (
        "The write was not acknowledged by enough replicas of the data store: it "
        "may or may not have been applied. Retrying is safe (a create with the "
        "same Idempotency-Key is not made twice)."
    )
