"""The gateway's configuration: defaults, overridden by the environment."""

import os
from dataclasses import dataclass, fields

from travel_common.amqp_nodes import DEFAULT_HEARTBEAT, DEFAULT_ORDER


def _split(value: str) -> tuple:
    return tuple(item.strip() for item in value.split(",") if item.strip())


@dataclass(frozen=True)
class Config:
    amqp_uri: str = "amqp://guest:guest@localhost:5672/"
    # Seconds between AMQP heartbeats; two missed ones end the connection.
    amqp_heartbeat: float = DEFAULT_HEARTBEAT
    # The order in which the gateway tries the nodes of a list AMQP_URI.
    amqp_node_order: str = DEFAULT_ORDER
    host: str = "127.0.0.1"
    port: int = 8000
    rpc_timeout: float = 5.0
    api_keys: tuple = ()
    cors_origins: tuple = ()
    log_format: str = "text"
    # RPC calls out at once (all on one connection and reply queue); beyond
    # that and ``rpc_queue_limit`` waiting for a place: 503 at once.  256 in
    # flight and no queue keep the most calls answered under overload (the
    # broker queues them for the services; see ``bench/experiments.py``).
    rpc_max_in_flight: int = 256
    rpc_queue_limit: int = 0
    max_body_bytes: int = 64 * 1024
    # Request line and headers of one request.
    max_header_bytes: int = 16 * 1024
    # Seconds a client has to send a request's head (from its first byte),
    # then its body (from the head's end): 408 beyond.
    request_head_timeout: float = 5.0
    request_body_timeout: float = 10.0

    ENV = {
        "amqp_uri": "AMQP_URI",
        "amqp_heartbeat": "AMQP_HEARTBEAT",
        "amqp_node_order": "AMQP_NODE_ORDER",
        "host": "HOST",
        "port": "PORT",
        "rpc_timeout": "RPC_TIMEOUT",
        "api_keys": "API_KEYS",
        "cors_origins": "CORS_ORIGINS",
        "log_format": "LOG_FORMAT",
        "rpc_max_in_flight": "RPC_MAX_IN_FLIGHT",
        "rpc_queue_limit": "RPC_QUEUE_LIMIT",
        "request_head_timeout": "REQUEST_HEAD_TIMEOUT",
        "request_body_timeout": "REQUEST_BODY_TIMEOUT",
    }

    @classmethod
    def from_env(cls, environ=None) -> "Config":
        environ = os.environ if environ is None else environ
        types = {field.name: field.type for field in fields(cls)}
        values = {}
        for name, variable in cls.ENV.items():
            raw = environ.get(variable)
            if raw is None or raw == "":
                continue
            kind = types[name]
            values[name] = _split(raw) if kind is tuple else kind(raw)
        return cls(**values)
