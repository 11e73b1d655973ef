"""The services as the baseline's classic design has them: the same methods,
storage and dependencies as ``airports_svc`` and ``trips_svc``, on nameko's
stock plumbing (its ``rpc`` entrypoint with a durable queue, its
``RpcProxy``, its ``QueueConsumer`` and ``Responder``, and its service
container: ``bench.run.stock_config``).

So the baseline keeps measuring what a nameko user gets out of the box
whatever the product's services change in nameko's plumbing.  Run on a vhost
of their own: ``nameko run bench.baseline_services:StockAirportsService`` (and
``:StockTripsService``).
"""

import types

from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from nameko.rpc import RpcProxy, rpc

from airports_svc.service import AirportsService
from travel_common.errors import TravelError
from travel_common.service_proxy import ServiceRpcProxy
from trips_svc.service import TripsService


def stock(service_cls: type) -> type:
    """A subclass of ``service_cls`` whose entrypoints are nameko's ``rpc``
    and whose service proxies are nameko's ``RpcProxy``."""
    attrs = {}
    members = {}  # the class's own and inherited ones, as Python resolves them
    for cls in reversed(service_cls.__mro__):
        members.update(vars(cls))
    for name, value in members.items():
        if hasattr(value, ENTRYPOINT_EXTENSIONS_ATTR):
            # A copy of the function: decorating the product's own would add
            # the entrypoint to the product's class too.
            copy = types.FunctionType(value.__code__, value.__globals__, name,
                                      value.__defaults__, value.__closure__)
            copy.__kwdefaults__ = value.__kwdefaults__
            copy.__qualname__ = value.__qualname__
            attrs[name] = rpc(expected_exceptions=TravelError)(copy)
        elif isinstance(value, ServiceRpcProxy):
            attrs[name] = RpcProxy(value.target_service)
    return type("Stock" + service_cls.__name__, (service_cls,), attrs)


StockAirportsService = stock(AirportsService)
StockTripsService = stock(TripsService)
