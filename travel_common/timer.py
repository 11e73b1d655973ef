"""``every``: nameko's ``@timer``, its interval a setting of the service's config."""

from nameko.timer import Timer

from travel_common.queue_consumer import PromptQueueConsumer


class SettingTimer(Timer):
    """Fires every ``config[setting]`` seconds (``default`` when not set).

    A round starts only once the service's queues consume: nameko starts a
    container's extensions all at once, and an eager timer's first RPC call
    could otherwise go out before the reply queue exists, its reply lost.
    """

    # The same instance as the service's RPC consumer and reply listener use
    # (a shared extension, one per container).
    queue_consumer = PromptQueueConsumer()

    def __init__(self, setting: str, default: float, **kwargs):
        super().__init__(interval=default, **kwargs)
        self.setting = setting

    def setup(self):
        # nameko 2.14.1: Timer._run reads self.interval once the timer starts
        self.interval = float(self.container.config.get(self.setting, self.interval))

    # nameko 2.14.1: Timer._run calls handle_timer_tick for each round
    def handle_timer_tick(self):
        self.queue_consumer.start()  # returns at once once the queues consume
        super().handle_timer_tick()


every = SettingTimer.decorator
