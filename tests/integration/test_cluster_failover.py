"""A RabbitMQ node lost under load, for real: ``rabbitmqctl stop_app``,
``kill -9``, and SIGSTOP (silent: no TCP close) for 40 and 90 s.

Each case runs its own stack on a three-node cluster: the gateway, one
instance of each service and the quorum request queues' leaders each on a
chosen node, and a load of creates at about 50 requests a second
(``support.cluster.CreateLoad``).  ``stop_app`` and ``kill -9`` use the
session's cluster; each SIGSTOP case starts a cluster of its own (about
20 s), since RabbitMQ 3.10's autoheal, having healed a suspended node, can
stay stuck "healing" and then ignore the next partition: the cases stay
independent of each other.  The lost node is:

- for ``stop_app``, ``kill -9`` and the 90 s SIGSTOP: the node of all of
  them at once (the gateway's connection, the services' connections and the
  queue leaders), so that every kind of failover happens in the same
  second; the 90 s freeze covers the 40 s one of the gateway's node;
- for the 40 s SIGSTOP: the leaders' node alone (the gateway and the
  services connected to live nodes): the queues' failover by itself.

Afterwards: normal answers again within 15 s of the fault (a majority of
the nodes remains), the cluster whole again by itself after the node's
return (a frozen node's side is restarted by autoheal), every create
answered 201 stored exactly once, nothing stored that was answered 503, and
no call started after its deadline.  The statuses of each second are
printed (``pytest -s``).
"""

import time
from dataclasses import dataclass

import pytest

from support import wait_until
from support.cluster import (
    NORMAL,
    CreateLoad,
    Placement,
    Timeline,
    broker_ports,
    check_deadlines,
    check_store,
    cluster_stack,
    service_calls,
)
from support.rabbit_cluster import RabbitCluster

pytestmark = pytest.mark.cluster

RPC_TIMEOUT = 5.0  # the default
RECOVERY_LIMIT = 15  # seconds from the fault to normal answers
HEAL_LIMIT = 90  # seconds from the node's return to a whole cluster
AFTER_RETURN = 8  # seconds of load after the cluster is whole again


@dataclass(frozen=True)
class Case:
    fault: str
    down: float  # seconds
    placement: Placement
    target: int  # the node lost

    def __str__(self):
        lost = []
        if self.placement.gateway == self.target:
            lost.append("gateway's")
        if self.placement.services == self.target:
            lost.append("services'")
        if self.placement.leaders == self.target:
            lost.append("leaders'")
        return "%s %ds of the %s node" % (self.fault, self.down, "+".join(lost))


CASES = [
    Case("stop_app", 16, Placement(gateway=0, services=0, leaders=0), target=0),
    Case("kill -9", 16, Placement(gateway=1, services=1, leaders=1), target=1),
    Case("SIGSTOP", 40, Placement(gateway=2, services=1, leaders=0), target=0),
    Case("SIGSTOP", 90, Placement(gateway=2, services=2, leaders=2), target=2),
]


def lose(node, fault: str):
    if fault == "stop_app":
        node.ctl("stop_app")
    elif fault == "kill -9":
        node.kill()
    else:
        node.freeze()


def bring_back(node, fault: str):
    if fault == "stop_app":
        node.ctl("start_app")
    elif fault == "kill -9":
        node.start()
        node.wait_booted()
    else:
        node.thaw()


def assert_placed(cluster, stack, placement: Placement):
    leaders = cluster.queue_leaders(stack.vhost)
    assert set(leaders.values()) == {cluster.node_names[placement.leaders]}, leaders
    ports = {node.port for node in cluster.nodes}
    gateway_node = cluster.nodes[placement.gateway].port
    assert broker_ports(stack.gateway.popen.pid) & ports == {gateway_node}
    services_node = cluster.nodes[placement.services].port
    for process in stack.services:
        assert broker_ports(process.popen.pid) & ports == {services_node}, process.name


@pytest.mark.timeout(300)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_node_lost_under_load(rabbit_cluster, tmp_path, case):
    own = case.fault == "SIGSTOP"
    cluster = RabbitCluster().start() if own else rabbit_cluster
    try:
        run_case(cluster, cluster.nodes[case.target], tmp_path, case)
    finally:
        cluster.copy_logs(tmp_path / "rabbitmq")
        if own:
            cluster.remove()


def run_case(cluster, node, tmp_path, case: Case):
    with cluster_stack(cluster, tmp_path, case.placement) as stack:
        assert_placed(cluster, stack, case.placement)
        with CreateLoad(stack.url) as load:
            wait_until(lambda: load.normal_since(time.time() - 1), 10,
                       what="normal answers first")
            time.sleep(2)
            marks = [len(each.log()) for each in cluster.nodes]
            fault = time.time()
            lose(node, case.fault)
            time.sleep(case.down)
            back = time.time()  # the node's return starts
            bring_back(node, case.fault)
            cluster.wait_healthy(HEAL_LIMIT)
            healed = time.time() - back
            time.sleep(AFTER_RETURN)
        logs = "".join(process.log() for process in stack.services)
        timeline = Timeline(load.records, fault, back)
        print("\n%s: whole again %.1f s after the return\n%s"
              % (case, healed, timeline.summary()))

        assert set(timeline.statuses(0)) <= {NORMAL, 503, 504}
        assert timeline.to_normal_after_fault is not None
        assert timeline.to_normal_after_fault <= RECOVERY_LIMIT
        assert timeline.to_normal_after_return is not None
        assert set(timeline.statuses(back + healed + 2)) == {NORMAL}
        if case.fault == "SIGSTOP":  # autoheal restarted one side: the frozen one's
            restarted = [each.name for each, mark in zip(cluster.nodes, marks,
                                                         strict=True)
                         if "we were selected to restart" in each.log()[mark:]]
            print("autoheal restarted %s" % restarted)
            assert restarted
        seen = check_store(stack.database.client, load.records)
        checked = check_deadlines(service_calls(logs), load.records, RPC_TIMEOUT)
        print("store checked: %s; %d calls started before their deadline"
              % (seen, checked))
