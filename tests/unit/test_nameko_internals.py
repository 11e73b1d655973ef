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
from nameko.containers import ServiceContainer
from nameko.extensions import Entrypoint, ProviderCollector
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
from travel_common.queue_consumer import PromptQueueConsumer, PromptReplyListener
from travel_common.rpc_entrypoint import RequestConsumer
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
    # LoopReplyListener.handle_message notes replies, then calls it;
    # PromptReplyListener.handle_message mirrors it, without the ack
    (ReplyListener, "handle_message"): ("c10e21f1b3ea8be0",
                                        "gateway_falcon/proxy.py, "
                                        "travel_common/queue_consumer.py"),
    # reply_listener, worker_context, set_call_context: the proxy's parts
    (StandaloneProxyBase, "__init__"): ("cb175fe3e3207fc5", ADAPTER),
    # set_reply_body: result() waits only while resp_body is None; and
    # service_calls.CallingMethodProxy.__call__ mirrors it
    (RpcReply, "result"): ("5b81ff69807ac2fd", ADAPTER),
    # pop_context_headers and set_call_context: the context data goes out as
    # extra_headers, read from the worker context at each call; and
    # service_calls.CallingMethodProxy._send mirrors it
    (MethodProxy, "_call"): ("162cdf3c92de6792", ADAPTER),
    # rpc_entrypoint.RequestConsumer.handle_result mirrors it, and
    # rpc_entrypoint.reply mirrors Responder.send_response
    (RpcConsumer, "handle_result"): ("25b95fd9dfce82c2",
                                     "travel_common/rpc_entrypoint.py"),
    (Responder, "send_response"): ("d5c3234c5e408a01",
                                   "travel_common/rpc_entrypoint.py"),
    # LeanServiceContainer._run_worker mirrors it, without the debug timers
    (ServiceContainer, "_run_worker"): ("7418dcb704693677",
                                        "travel_common/container.py"),
    # DeadlineRpc.check_signature mirrors it, with the signature kept
    (Entrypoint, "check_signature"): ("568d1c1e1852f91b",
                                      "travel_common/rpc_entrypoint.py"),
    # PromptQueueConsumer.handle_message calls it for all but replies
    (QueueConsumer, "handle_message"): ("47cda24e5edc9402",
                                        "travel_common/queue_consumer.py"),
    # ProxyPublisher.publish replaces it, headers merged the same way
    (Publisher, "publish"): ("dd0e87b3027e57df", "gateway_falcon/proxy.py"),
    # providers: where register_provider keeps them
    (ProviderCollector, "register_provider"): ("3b6164fe9dc1064b", ADAPTER),
    # PromptQueueConsumer.get_consumers renews reply queues, then calls it;
    # consumers: where it keeps each provider's consumer
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
    (PromptQueueConsumer, "handle_message", QueueConsumer),
    (PromptReplyListener, "handle_message", ReplyListener),
    (RequestConsumer, "handle_result", RpcConsumer),
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
    (QueueConsumer, "_consumers"),
], ids=["ReplyListener._reply_events", "ClusterRpcProxy._reply_listener",
        "ClusterRpcProxy._worker_ctx", "ProviderCollector._providers",
        "QueueConsumer._consumers"])
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
    mirrors it, the reply sent by ``reply`` (which mirrors the Responder's
    ``send_response``) before the ack."""
    source = inspect.getsource(RpcConsumer.handle_result)
    assert "Responder(" in source and "ack_message(message)" in source, (
        "nameko's RpcConsumer.handle_result changed (%s): read it, and adapt "
        "travel_common/rpc_entrypoint.py's RequestConsumer.handle_result"
        % UPSTREAM)
    parameters = list(inspect.signature(Responder.__init__).parameters)
    assert parameters == ["self", "amqp_uri", "exchange", "serializer", "message",
                          "ssl", "login_method"], (
        "nameko's Responder now takes %s (%s): read Responder.send_response, "
        "which travel_common/rpc_entrypoint.py's reply mirrors"
        % (parameters, UPSTREAM))


def test_queue_consumer_connection_is_a_property():
    """``PromptQueueConsumer.connection`` (``travel_common/queue_consumer.py``)
    overrides it with the node list's connection."""
    assert isinstance(inspect.getattr_static(QueueConsumer, "connection"), property), (
        "nameko's QueueConsumer.connection is no longer a property (%s): "
        "travel_common/queue_consumer.py's PromptQueueConsumer overrides it"
        % UPSTREAM)
