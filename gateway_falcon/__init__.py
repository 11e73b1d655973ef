"""The HTTP gateway: a Falcon ASGI app in front of the Nameko services."""
