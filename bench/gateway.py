"""The gateway with one lever changed, for side-by-side experiments.

``python -m bench.gateway`` serves ``gateway_falcon.app:create_app`` as
``travel-gateway`` does, except for what these variables ask:

- ``BENCH_LOOP`` / ``BENCH_HTTP``: uvicorn's loop and parser
  (``uvloop``/``asyncio``, ``httptools``/``h11``);
- ``BENCH_WORKERS``: uvicorn worker processes;
- ``BENCH_JSON=orjson``: orjson for Falcon's JSON media handlers;
- ``BENCH_DELIVERY=2``: RPC requests published persistent.
"""

import os

import uvicorn

from gateway_falcon import app as gateway_app
from gateway_falcon.cli import uvicorn_options
from gateway_falcon.config import Config


def create_app():
    rpc = None
    if os.environ.get("BENCH_DELIVERY"):
        rpc = gateway_app.rpc_client(
            Config.from_env(),
            proxy_options={"delivery_mode": int(os.environ["BENCH_DELIVERY"])},
        )
    app = gateway_app.create_app(rpc=rpc)
    if os.environ.get("BENCH_JSON") == "orjson":
        import falcon.media
        import orjson

        handler = falcon.media.JSONHandler(dumps=orjson.dumps, loads=orjson.loads)
        for options_ in (app.req_options, app.resp_options):
            options_.media_handlers[falcon.MEDIA_JSON] = handler
    return app


def main() -> None:
    options = uvicorn_options(Config.from_env())
    options.update(
        loop=os.environ.get("BENCH_LOOP", "uvloop"),
        http=os.environ.get("BENCH_HTTP", "httptools"),
        workers=int(os.environ.get("BENCH_WORKERS", "1")),
    )
    uvicorn.run("bench.gateway:create_app", **options)


if __name__ == "__main__":
    main()
