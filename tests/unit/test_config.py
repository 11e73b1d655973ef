from gateway_falcon.config import Config


def test_defaults_are_the_contracts():
    config = Config.from_env({})
    assert config.amqp_uri == "amqp://guest:guest@localhost:5672/"
    assert (config.host, config.port) == ("127.0.0.1", 8000)
    assert config.rpc_timeout == 5
    assert config.api_keys == () and config.cors_origins == ()
    assert config.log_format == "text"
    assert config.max_body_bytes == 64 * 1024
    assert (config.request_head_timeout, config.request_body_timeout) == (5, 10)
    assert (config.amqp_heartbeat, config.amqp_node_order) == (5, "shuffle")


def test_environment_overrides():
    config = Config.from_env({
        "AMQP_URI": "amqp://u:p@rabbit:5672/v", "HOST": "0.0.0.0", "PORT": "9000",
        "RPC_TIMEOUT": "2.5", "API_KEYS": " k1, k2 ,", "CORS_ORIGINS": "https://a.example",
        "LOG_FORMAT": "json", "RPC_MAX_IN_FLIGHT": "4",
        "REQUEST_HEAD_TIMEOUT": "2.5", "REQUEST_BODY_TIMEOUT": "30",
        "AMQP_HEARTBEAT": "3", "AMQP_NODE_ORDER": "listed",
    })
    assert config.amqp_uri == "amqp://u:p@rabbit:5672/v"
    assert (config.host, config.port, config.rpc_timeout) == ("0.0.0.0", 9000, 2.5)
    assert config.api_keys == ("k1", "k2")
    assert config.cors_origins == ("https://a.example",)
    assert config.log_format == "json"
    assert config.rpc_max_in_flight == 4
    assert (config.request_head_timeout, config.request_body_timeout) == (2.5, 30)
    assert (config.amqp_heartbeat, config.amqp_node_order) == (3.0, "listed")


def test_empty_values_keep_defaults():
    assert Config.from_env({"PORT": "", "API_KEYS": ""}) == Config()
