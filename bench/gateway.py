"""The gateway with one lever changed, for side-by-side experiments.

``python -m bench.gateway`` serves ``gateway_falcon.app:create_app`` as
``travel-gateway`` does, except for what these variables ask:

- ``BENCH_LOOP`` / ``BENCH_HTTP``: uvicorn's loop and parser
  (``uvloop``/``asyncio``, ``httptools``/``h11``);
- ``BENCH_WORKERS``: uvicorn worker processes;
- ``BENCH_JSON=orjson``: orjson for Falcon's JSON media handlers;
- ``BENCH_CONFIRMS=0``: RPC requests published without publisher confirms;
- ``BENCH_DELIVERY=2``: RPC requests published persistent;
- ``BENCH_POOL=pipelined``: ``bench.pipelined.PipelinedPool`` with
  ``BENCH_PIPES`` threads (2) instead of one thread per proxy.
"""

import os

import uvicorn

from gateway_falcon import app as gateway_app
from gateway_falcon import proxy
from gateway_falcon.cli import uvicorn_options
from gateway_falcon.config import Config


def _publish_options() -> dict:
    options = {}
    if os.environ.get("BENCH_CONFIRMS") == "0":
        options["use_confirms"] = False
    if os.environ.get("BENCH_DELIVERY"):
        options["delivery_mode"] = int(os.environ["BENCH_DELIVERY"])
    return options


def _patch_proxy(options: dict) -> None:
    original = proxy.GatewayRpcProxy.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self._publish_options.update(options)

    proxy.GatewayRpcProxy.__init__ = __init__


def create_app():
    options = _publish_options()
    if options:
        _patch_proxy(options)
    rpc = None
    if os.environ.get("BENCH_POOL") == "pipelined":
        from bench.pipelined import PipelinedPool

        config = Config.from_env()
        rpc = PipelinedPool(
            config.amqp_uri, config.rpc_timeout,
            size=int(os.environ.get("BENCH_PIPES", "2")),
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
