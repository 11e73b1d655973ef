"""Each of nameko's internals that the project mirrors or reaches into
(``travel_common/nameko_adapter.py``, and the extensions that subclass
nameko's), checked against the installed nameko: a failure names the reach
and what changed upstream.

Written against nameko 2.14.1.  When one of these fails after an upgrade:
read the named upstream code, adapt our code (and its ``# nameko`` comment)
to it, and only then record the new shape here.
"""
import inspect

import pytest
from nameko.amqp.publish import Publisher
from nameko.extensions import ProviderCollector
from nameko.messaging import QueueConsumer
from nameko.rpc import MethodProxy, ReplyListener, Responder, RpcConsumer, RpcReply
from nameko.standalone.rpc import (
    ClusterRpcProxy,
    PollingQueueConsumer,
    SingleThreadedReplyListener,
    StandaloneProxyBase,
)
from nameko.timer import Timer

from gateway_falcon.proxy import LoopReplyListener, ProxyPublisher
from travel_common.nameko_adapter import ExclusiveReplyListener, LoopQueueConsumer
from travel_common.queue_consumer import PromptQueueConsumer
from travel_common.timer import SettingTimer

from support.upstream import assert_source_unchanged

UPSTREAM = "nameko 2.14.1"
ADAPTER = "travel_common/nameko_adapter.py"

# Upstream code whose behaviour ours mirrors or relies on, by the digest of
# its source, and the code of ours that must follow a change.
RELIED_ON = {
    # LoopQueueConsumer._setup_consumer is a copy, on a node list, no acks
    (PollingQueueConsumer, "_setup_consumer"): ("81e2fbfa683d4cf3", ADAPTER),
    # ... called once, from here (the connection is built, then replaced)
    (PollingQueueConsumer, "register_provider"): ("57082aee3d3ead13", ADAPTER),
    # ExclusiveReplyListener.setup is a copy, with our reply queue
    (ReplyListener, "setup"): ("13e0e4ffef66593a", ADAPTER),
    # reply_events: where get_reply_event keeps a call's event
    (ReplyListener, "get_reply_event"): ("8425b219b2c284e0", ADAPTER),
    # LoopReplyListener.handle_message notes replies, then calls it
    (ReplyListener, "handle_message"): ("c10e21f1b3ea8be0",
                                        "gateway_falcon/proxy.py"),
    # reply_listener, worker_context, set_call_context: the proxy's parts
    (StandaloneProxyBase, "__init__"): ("cb175fe3e3207fc5", ADAPTER),
    # set_reply_body: result() waits only while resp_body is None
    (RpcReply, "result"): ("5b81ff69807ac2fd", ADAPTER),
    # pop_context_headers and set_call_context: the context data goes out as
    # extra_headers, read from the worker context at each call
    (MethodProxy, "_call"): ("162cdf3c92de6792", ADAPTER),
    # ProxyPublisher.publish replaces it, headers merged the same way
    (Publisher, "publish"): ("dd0e87b3027e57df", "gateway_falcon/proxy.py"),
    # providers: where register_provider keeps them
    (ProviderCollector, "register_provider"): ("3b6164fe9dc1064b", ADAPTER),
    # PromptQueueConsumer.get_consumers renews reply queues, then calls it
    (QueueConsumer, "get_consumers"): ("9566ed8719e2f073",
                                       "travel_common/queue_consumer.py"),
    # SettingTimer: reads self.interval once started (set from the config in
    # setup), and calls handle_timer_tick each round
    (Timer, "_run"): ("4ac8ee3a988d80a3", "travel_common/timer.py"),
    # SettingTimer.handle_timer_tick waits for the queues, then calls it
    (Timer, "handle_timer_tick"): ("ac486b8fd7845716", "travel_common/timer.py"),
}

# Our overrides of nameko's methods: (our class, method, nameko's class).
OVERRIDDEN = [
    (LoopQueueConsumer, "_setup_consumer", PollingQueueConsumer),
    (LoopQueueConsumer, "on_message", PollingQueueConsumer),
    (LoopQueueConsumer, "ack_message", PollingQueueConsumer),
    (ExclusiveReplyListener, "setup", SingleThreadedReplyListener),
    (LoopReplyListener, "__init__", SingleThreadedReplyListener),
    (LoopReplyListener, "handle_message", SingleThreadedReplyListener),
    (LoopReplyListener, "get_reply_event", SingleThreadedReplyListener),
    (ProxyPublisher, "publish", Publisher),
    (PromptQueueConsumer, "ack_message", QueueConsumer),
    (PromptQueueConsumer, "get_consumers", QueueConsumer),
    (SettingTimer, "setup", Timer),
    (SettingTimer, "handle_timer_tick", Timer),
]


@pytest.mark.parametrize("owner, name", RELIED_ON, ids=[
    "%s.%s" % (owner.__name__, name) for owner, name in RELIED_ON])
def test_relied_on_upstream_code_is_unchanged(owner, name):
    digest, ours = RELIED_ON[owner, name]
    assert_source_unchanged(owner, name, digest, UPSTREAM, ours)


@pytest.mark.parametrize("ours, name, upstream", OVERRIDDEN, ids=[
    "%s.%s" % (ours.__name__, name) for ours, name, _ in OVERRIDDEN])
def test_overridden_method_keeps_its_signature(ours, name, upstream):
    theirs = inspect.signature(getattr(upstream, name))
    mine = inspect.signature(getattr(ours, name))
    assert list(theirs.parameters) == list(mine.parameters), (
        "nameko's %s.%s now takes %s (%s: %s): %s.%s must follow"
        % (upstream.__name__, name, list(theirs.parameters), UPSTREAM,
           list(mine.parameters), ours.__name__, name)
    )


@pytest.mark.parametrize("make, attribute", [
    (SingleThreadedReplyListener, "_reply_events"),
    (lambda: ClusterRpcProxy({"AMQP_URI": "amqp://"}), "_reply_listener"),
    (lambda: ClusterRpcProxy({"AMQP_URI": "amqp://"}), "_worker_ctx"),
    (ProviderCollector, "_providers"),
], ids=["ReplyListener._reply_events", "ClusterRpcProxy._reply_listener",
        "ClusterRpcProxy._worker_ctx", "ProviderCollector._providers"])
def test_private_attribute_we_use_is_there(make, attribute):
    assert hasattr(make(), attribute), (
        "nameko has no %s any more (%s had it): %s reaches for it"
        % (attribute, UPSTREAM, ADAPTER)
    )


def test_a_reply_without_a_body_waits_for_it():
    """``set_reply_body`` works because ``RpcReply.resp_body`` starts None."""
    assert RpcReply.resp_body is None, (
        "nameko's RpcReply.resp_body no longer starts None (%s): "
        "set_reply_body in %s must follow" % (UPSTREAM, ADAPTER))


def test_timer_takes_its_interval_and_eagerness():
    """``SettingTimer(setting, default, eager=...)`` passes them on."""
    parameters = list(inspect.signature(Timer.__init__).parameters)
    assert parameters == ["self", "interval", "eager", "kwargs"], (
        "nameko's Timer.__init__ now takes %s (%s: self, interval, eager, "
        "**kwargs): travel_common.timer.SettingTimer must follow"
        % (parameters, UPSTREAM)
    )


def test_rpc_consumer_replies_through_a_responder():
    """``RequestConsumer.handle_result`` (``travel_common/rpc_entrypoint.py``)
    mirrors it, with ``ClusterResponder``."""
    source = inspect.getsource(RpcConsumer.handle_result)
    assert "Responder(" in source and "ack_message(message)" in source, (
        "nameko's RpcConsumer.handle_result changed (%s): read it, and adapt "
        "travel_common/rpc_entrypoint.py's RequestConsumer.handle_result"
        % UPSTREAM)
    parameters = list(inspect.signature(Responder.__init__).parameters)
    assert parameters == ["self", "amqp_uri", "exchange", "serializer", "message",
                          "ssl", "login_method"], (
        "nameko's Responder now takes %s (%s): travel_common/service_calls.py's "
        "ClusterResponder is built with the old arguments" % (parameters, UPSTREAM))


def test_queue_consumer_connection_is_a_property():
    """``PromptQueueConsumer.connection`` overrides it with the node list's."""
    assert isinstance(inspect.getattr_static(QueueConsumer, "connection"), property), (
        "nameko's QueueConsumer.connection is no longer a property (%s): "
        "travel_common/queue_consumer.py overrides it" % UPSTREAM)


def test_method_proxy_reads_the_reply_routing_key_per_call():
    """Reply queues are renewed with each connection: calls must pick it up."""
    assert "self.reply_listener.routing_key" in inspect.getsource(MethodProxy._call), (
        "nameko's MethodProxy._call no longer reads the reply listener's "
        "routing key at each call (%s): a renewed reply queue would get no "
        "replies (travel_common/queue_consumer.py)" % UPSTREAM)
