"""``RecordsProvider``: nameko-redis's ``Redis`` provider, handing each worker a
``Records`` repository under the service's key prefix instead of a raw
client; ``REDIS_URI`` may name a Sentinel-watched primary (``redis_client``),
and ``REDIS_MIN_REPLICAS`` makes each write wait for that many replicas."""

from nameko_redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from travel_common import redis_client
from travel_common.records import Records


class RecordsProvider(Redis):
    """Records of one kind in Redis, through nameko-redis.

    Redis being down must fail a call quickly, not hang it: short socket
    timeouts, and one immediate retry so that a connection left stale by a
    Redis restart is replaced without failing the call.
    """

    repository_class = Records

    def __init__(self, prefix: str, redis_key: str = "travel"):
        super().__init__(
            redis_key,
            socket_timeout=2,
            socket_connect_timeout=1,
            health_check_interval=10,
            retry=Retry(NoBackoff(), 1),
        )
        self.prefix = prefix

    def setup(self):
        super().setup()
        redis_client.check_uri(self.redis_uri)  # a bad URI stops the start-up
        self.min_replicas = redis_client.min_replicas(
            self.container.config.get("REDIS_MIN_REPLICAS", 0)
        )

    def start(self):
        # nameko-redis 1.1.0: Redis.start, the client from our URI forms
        self.client = redis_client.connect(self.redis_uri, **self.options)
        self.repository = self.repository_class(
            self.client, self.prefix, min_replicas=self.min_replicas
        )

    def get_dependency(self, worker_ctx):
        return self.repository
