"""``every``: the interval comes from the service's config."""
import weakref

from travel_common.queue_consumer import PromptReplyListener
from travel_common.timer import SettingTimer


class Container:
    """What binding an extension needs of nameko's container."""

    def __init__(self, config: dict):
        self.config = config
        self.shared_extensions = weakref.WeakKeyDictionary()


def bound(container: Container) -> SettingTimer:
    timer = SettingTimer("OWED_STEPS_INTERVAL", 2, eager=True).bind(
        container, "settle_owed_steps"
    )
    timer.setup()
    return timer


def test_interval_from_the_config_or_the_default():
    assert bound(Container({"OWED_STEPS_INTERVAL": 0.5})).interval == 0.5
    assert bound(Container({"OWED_STEPS_INTERVAL": "3"})).interval == 3.0
    assert bound(Container({})).interval == 2.0
    assert bound(Container({})).eager is True


def test_shares_the_queue_consumer_of_the_services_replies():
    """nameko 2.14.1: a shared extension is one per container and class; the
    timer waits for the one through which the replies to its calls come."""
    container = Container({})
    timer = bound(container)
    replies = PromptReplyListener().bind(container)
    assert timer.queue_consumer is replies.queue_consumer
