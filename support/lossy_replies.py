"""The airports service, losing its replies to the creates of airports named
``lost-...`` (``nameko run support.lossy_replies``): each such create is
carried out and its request acked, and its reply never reaches the broker,
as a reply lost on the way."""
import json
import logging

from airports_svc.service import AirportsService
from travel_common import consumer_channel

__all__ = ["AirportsService"]

log = logging.getLogger(__name__)
publish = consumer_channel.publish


def lossy_publish(channel, body, *args, **kwargs):
    result = json.loads(body)["result"]
    if isinstance(result, dict) and result.get("airport", "").startswith("lost-"):
        log.warning("reply dropped: %s", body)
        return
    publish(channel, body, *args, **kwargs)


consumer_channel.publish = lossy_publish
