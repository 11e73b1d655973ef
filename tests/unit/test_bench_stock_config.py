"""The baseline's processes run on nameko's own container: their config is
the services' config without the product's ``SERVICE_CONTAINER_CLS``."""
from nameko.containers import ServiceContainer, get_container_cls

from bench.run import NAMEKO_CONFIG, stock_config


def test_stock_config_drops_only_the_product_container(tmp_path):
    services = open(NAMEKO_CONFIG).read()
    assert "\nSERVICE_CONTAINER_CLS: " in services
    stock = open(stock_config(tmp_path, "stock.yml", "WEB_SERVER_ADDRESS: x\n")).read()
    assert "SERVICE_CONTAINER_CLS" not in stock
    assert stock.endswith("WEB_SERVER_ADDRESS: x\n")
    kept = [line for line in services.splitlines()
            if not line.startswith("SERVICE_CONTAINER_CLS:")]
    assert stock.splitlines()[:-1] == kept
    assert get_container_cls({}) is ServiceContainer  # what nameko runs without it
