"""ASGI entry point: ``uvicorn gateway_falcon.asgi:app``."""

from gateway_falcon.app import create_app

app = create_app()
