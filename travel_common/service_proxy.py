"""``ServiceRpcProxy``: nameko's ``RpcProxy`` for a service's calls to other
services, through the process's consumer and an exclusive reply queue, new
with each connection (``travel_common.queue_consumer``); what it hands each
worker is in ``travel_common.service_calls``."""

from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.rpc import RpcProxy

from travel_common.amqp_nodes import nodes_for
from travel_common.consumer_watch import ConsumerWatch
from travel_common.queue_consumer import PromptReplyListener
from travel_common.service_calls import CallingServiceProxy


class ServiceRpcProxy(RpcProxy):
    """nameko's ``RpcProxy`` for calls to other services: their replies come
    in through the same promptly reconnecting consumer as the service's
    calls; a call fails at once when no instance of the target runs (a
    consumer watch), and waits for its reply until the caller's deadline."""

    rpc_reply_listener = PromptReplyListener()

    def setup(self):
        config = self.container.config
        self.watch = ConsumerWatch(nodes_for(config[AMQP_URI_CONFIG_KEY],
                                             config.get("AMQP_NODE_ORDER")))
        self.watch.watch(self.target_service)

    def start(self):
        self.watch.start()

    def stop(self):
        self.watch.stop()

    def get_dependency(self, worker_ctx):
        return CallingServiceProxy(worker_ctx, self.target_service,
                                   self.rpc_reply_listener, self.watch, **self.options)
