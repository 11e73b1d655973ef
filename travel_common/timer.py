"""``every``: nameko's ``@timer``, its interval a setting of the service's config."""

from nameko.timer import Timer


class SettingTimer(Timer):
    """Fires every ``config[setting]`` seconds (``default`` when not set)."""

    def __init__(self, setting: str, default: float, **kwargs):
        super().__init__(interval=default, **kwargs)
        self.setting = setting

    def setup(self):
        self.interval = float(self.container.config.get(self.setting, self.interval))


every = SettingTimer.decorator
