"""Reading the store the way a test checks it (the keys:
``travel_common.redis_keys``)."""
from travel_common.redis_keys import AIRPORTS, RECORD, TRIPS, key


def record_keys(client) -> set:
    """Every stored record's key (airports and trips) in a Redis database."""
    return set(client.scan_iter(key(AIRPORTS, RECORD, "*"))) | set(
        client.scan_iter(key(TRIPS, RECORD, "*"))
    )
