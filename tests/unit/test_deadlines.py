"""A request's message TTL is the time left to its deadline."""
import time

from travel_common import deadlines


def test_no_deadline_no_ttl():
    assert deadlines.message_ttl({}) is None
    assert deadlines.message_ttl(None) is None


def test_ttl_is_the_time_left():
    ttl = deadlines.message_ttl({deadlines.HEADER: time.time() + 3})
    assert 2.9 < ttl <= 3


def test_a_passed_deadline_still_gives_a_positive_ttl():
    assert deadlines.message_ttl({deadlines.HEADER: time.time() - 1}) == 0.001
