"""``travel-gateway``: uvicorn serving the gateway, configured from the environment."""

import logging

import uvicorn

from gateway_falcon.config import Config
from gateway_falcon.http_protocol import limited_httptools
from travel_common.logs import logging_config


def uvicorn_options(config: Config) -> dict:
    """How the gateway's uvicorn runs: ``uvicorn.run(app factory, **these)``."""
    return {
        "factory": True,
        "host": config.host,
        "port": config.port,
        "loop": "uvloop",
        "http": limited_httptools(
            config.max_header_bytes,
            config.request_head_timeout,
            config.request_body_timeout,
        ),
        "lifespan": "on",
        "log_config": logging_config(config.log_format),
        "access_log": False,
        "server_header": False,
        "timeout_graceful_shutdown": 5,
    }


def main() -> None:
    # Warnings (e.g. at import) become log records: JSON lines with LOG_FORMAT=json.
    logging.captureWarnings(True)
    uvicorn.run("gateway_falcon.app:create_app", **uvicorn_options(Config.from_env()))


if __name__ == "__main__":
    main()
