"""CORS, off unless ``CORS_ORIGINS`` lists origins.

Falcon's ``CORSMiddleware`` allows just the listed origins (or any, for
``*``) and never sends ``Access-Control-Allow-Credentials``: clients
authenticate with a bearer key, not cookies.  Answers that depend on the
``Origin`` say so with ``Vary: Origin``, for caches.
"""

import falcon

EXPOSED = ("Location", "Retry-After", "WWW-Authenticate", "X-Request-ID")


class Cors(falcon.CORSMiddleware):
    def __init__(self, origins):
        origins = tuple(origins)
        super().__init__(
            allow_origins="*" if "*" in origins else origins,
            expose_headers=EXPOSED,
            allow_credentials=None,
        )

    def process_response(self, req, resp, resource, req_succeeded):
        super().process_response(req, resp, resource, req_succeeded)
        if self.allow_origins != "*":
            resp.append_header("Vary", "Origin")
