"""Labelled Prometheus metrics, cheap on the hot path.

``labels()`` checks its arguments and takes a lock on every call; a request
or an RPC call instead looks its children up once per label combination,
then costs a dict lookup.  Shared by the gateway's and the services' metrics.
"""


class LabelledChildren:
    """``children(*labels)``: what ``make(*labels)`` made for those labels (a
    tuple of metric children), made once."""

    def __init__(self, make):
        self._make = make
        self._made = {}

    def __call__(self, *labels):
        children = self._made.get(labels)
        if children is None:
            children = self._made[labels] = self._make(*labels)
        return children
