"""nameko's internals that the project's own extensions rely on, checked
against the installed nameko: a failure names the reach and what changed.

Written against nameko 2.14.1.  When one of these fails after an upgrade:
read the named upstream code, adapt the extension, and only then record the
new shape here.
"""
import inspect

import pytest
from nameko.timer import Timer

from support.upstream import assert_source_unchanged

UPSTREAM = "nameko 2.14.1"

# Upstream code whose behaviour ours relies on, by the digest of its source.
RELIED_ON = {
    # travel_common.timer.SettingTimer: reads self.interval once started
    # (set from the config in setup), and calls handle_timer_tick each round
    (Timer, "_run"): "4ac8ee3a988d80a3",
    # SettingTimer.handle_timer_tick waits for the queues, then calls it
    (Timer, "handle_timer_tick"): "ac486b8fd7845716",
}


@pytest.mark.parametrize("owner, name", RELIED_ON, ids=[
    "%s.%s" % (owner.__name__, name) for owner, name in RELIED_ON])
def test_relied_on_upstream_code_is_unchanged(owner, name):
    assert_source_unchanged(owner, name, RELIED_ON[owner, name], UPSTREAM,
                            "travel_common/timer.py")


def test_timer_takes_its_interval_and_eagerness():
    """``SettingTimer(setting, default, eager=...)`` passes them on."""
    parameters = list(inspect.signature(Timer.__init__).parameters)
    assert parameters == ["self", "interval", "eager", "kwargs"], (
        "nameko's Timer.__init__ now takes %s (%s: self, interval, eager, "
        "**kwargs): travel_common.timer.SettingTimer must follow"
        % (parameters, UPSTREAM)
    )
