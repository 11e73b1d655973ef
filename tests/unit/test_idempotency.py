from travel_common import idempotency


def test_client_keys_are_scoped_by_principal():
    assert idempotency.client_key("k") == idempotency.client_key("k")
    assert idempotency.client_key("k", "alice") != idempotency.client_key("k", "bob")
    assert idempotency.client_key("k").startswith("client:")


def test_auto_keys_are_unique_and_short_lived():
    first, second = idempotency.auto_key(), idempotency.auto_key()
    assert first != second
    assert idempotency.ttl_for(first) == idempotency.AUTO_KEY_TTL
    assert idempotency.ttl_for(idempotency.client_key("k")) == 24 * 3600


def test_fingerprint_ignores_key_order():
    assert idempotency.fingerprint({"a": 1, "b": 2}) == idempotency.fingerprint(
        {"b": 2, "a": 1})
    assert idempotency.fingerprint({"a": 1}) != idempotency.fingerprint({"a": 2})


def test_client_tokens_are_1_to_255_visible_ascii_characters():
    for token in ("k", "order-7", "!~", "x" * 255):
        assert idempotency.is_token(token), token
    for token in ("", "has space", "x" * 256, "tab\t", "é", "a\n"):
        assert not idempotency.is_token(token), token
