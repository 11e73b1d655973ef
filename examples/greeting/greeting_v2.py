"""Version 2 of the greeting service: the same name and queue, a new answer.

Run it next to version 1 and both answer, each taking a share of the calls:
a rolling upgrade starts v2 instances, then stops the v1 ones.
"""
import greeting


class GreetingService(greeting.GreetingService):
    greeting = "Hello, {}! (v2)"
