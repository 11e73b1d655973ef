"""Fixtures of the in-process tests of the app: ``falcon.testing`` clients of
``create_app``, with the one stand-in RPC client (``support.FakeRpc``)."""
import falcon.testing
import pytest

from gateway_falcon.app import create_app
from gateway_falcon.config import Config

from support import FakeRpc


@pytest.fixture
def fake_rpc() -> FakeRpc:
    """The RPC client the app calls; script its answers, read its calls."""
    return FakeRpc()


@pytest.fixture
def app_client(fake_rpc):
    """``app_client(**config)``: a ``falcon.testing`` client of the app built
    with ``Config(**config)`` on ``fake_rpc``."""

    def make(**config) -> falcon.testing.TestClient:
        return falcon.testing.TestClient(create_app(Config(**config), rpc=fake_rpc))

    return make
