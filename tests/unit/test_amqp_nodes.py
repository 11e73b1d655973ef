"""The node list of a ``;``-separated AMQP_URI: each process's own order, the
lost node moved last, and connections bounded in time."""
import pytest

from travel_common.amqp_nodes import (
    CONNECT_TIMEOUT,
    NodeList,
    connected_node,
    node_of,
    nodes_for,
)

URLS = ["amqp://u:p@rabbit-%d:5672/v" % n for n in range(1, 4)]
URI = ";".join(URLS)


def test_listed_order_is_kept():
    assert NodeList(URI, "listed").urls == URLS


def test_shuffle_spreads_processes_over_the_nodes():
    firsts = {NodeList(URI, "shuffle").urls[0] for _ in range(200)}
    assert firsts == set(URLS)
    assert sorted(NodeList(URI).urls) == URLS  # the same nodes, in some order


def test_a_lost_node_goes_last():
    nodes = NodeList(URI, "listed")
    nodes.demote("rabbit-1:5672")
    assert nodes.urls == [URLS[1], URLS[2], URLS[0]]
    assert nodes.uri == ";".join(nodes.urls)
    nodes.demote("elsewhere:5672")  # not one of them: nothing changes
    assert nodes.urls == [URLS[1], URLS[2], URLS[0]]


def test_a_single_node_stays():
    nodes = NodeList(URLS[0])
    nodes.demote("rabbit-1:5672")
    assert nodes.urls == [URLS[0]]


def test_node_identity_is_host_and_port():
    assert node_of("amqp://u:p@rabbit-1/v") == "rabbit-1:5672"
    assert node_of(" amqp://u:p@localhost:5701/ ") == "127.0.0.1:5701"


@pytest.mark.parametrize("uri, order", [("", "shuffle"), (" ; ", "shuffle"),
                                        (URI, "random")])
def test_bad_settings_are_refused(uri, order):
    with pytest.raises(ValueError):
        NodeList(uri, order)


def test_one_list_per_uri_in_a_process():
    uri = URI + ";amqp://u:p@rabbit-4:5672/v"
    assert nodes_for(uri, "listed") is nodes_for(uri)
    assert nodes_for(uri).urls[0] == URLS[0]  # made in the order asked first


def test_connections_are_bounded_and_fail_over_in_the_lists_order():
    nodes = NodeList(URI, "listed")
    nodes.demote("rabbit-1:5672")
    connection = nodes.connection(heartbeat=5)
    assert connection.connect_timeout == CONNECT_TIMEOUT
    assert connection.heartbeat == 5
    assert connection.alt == [URLS[1], URLS[2], URLS[0]]
    assert connected_node(connection) == "rabbit-2:5672"
