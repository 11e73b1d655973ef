"""The consumer watch's verdict: idle only after answers of 0 for
``CONFIRMED_AFTER`` seconds, and never right after a reply of the service."""
from travel_common import consumer_watch
from travel_common.amqp_nodes import NodeList
from travel_common.consumer_watch import ConsumerWatch


def make_watch(monkeypatch, clock: list) -> ConsumerWatch:
    monkeypatch.setattr(consumer_watch.time, "monotonic", lambda: clock[0])
    return ConsumerWatch(NodeList("amqp://guest:guest@127.0.0.1:5672/"))


def test_idle_after_answers_of_zero_for_long_enough(monkeypatch):
    clock = [100.0]
    watch = make_watch(monkeypatch, clock)
    watch._record("airports_service", 0)
    clock[0] += consumer_watch.CONFIRMED_AFTER - 0.1
    watch._record("airports_service", 0)
    assert not watch.idle("airports_service")
    clock[0] += 0.1
    watch._record("airports_service", 0)
    assert watch.idle("airports_service")


def test_a_reply_proves_an_instance_before_the_next_answer(monkeypatch):
    clock = [100.0]
    watch = make_watch(monkeypatch, clock)
    watch._record("airports_service", 0)
    clock[0] += consumer_watch.CONFIRMED_AFTER
    watch._record("airports_service", 0)
    assert watch.idle("airports_service")
    watch.answered("airports_service")  # an instance started, and replied
    assert not watch.idle("airports_service")
    watch._record("airports_service", 0)  # an answer asked before it started
    clock[0] += consumer_watch.CONFIRMED_AFTER - 0.1
    assert not watch.idle("airports_service")
