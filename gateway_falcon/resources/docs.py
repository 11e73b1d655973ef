"""``GET /docs``: Swagger UI for ``/openapi.json``, every asset served from here.

The assets come from the installed ``swagger-ui-bundle`` package (no CDN, so
the page works offline); they are read once, when the app is built, and kept
in memory.
The page has no inline script, so a strict Content-Security-Policy allows it.
"""

import falcon
from swagger_ui_bundle import swagger_ui_path

from gateway_falcon.errors import Problem
from gateway_falcon.openapi import get_operation

JS = "text/javascript"
ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": JS,
    "swagger-ui-standalone-preset.js": JS,
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}

PAGE = b"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Travel booking API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="/docs/favicon-16x16.png" sizes="16x16">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
"""

# No validator badge: it would call an outside server.
INIT = b"""window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout"
  });
};
"""

CACHE = "public, max-age=3600"


class Docs:
    """``GET /docs``: the page."""

    @staticmethod
    def openapi() -> dict:
        return get_operation(
            "Interactive API documentation (Swagger UI)", "HTML page", "text/html"
        )

    async def on_get(self, req, resp):
        resp.content_type = falcon.MEDIA_HTML
        resp.data = PAGE


class DocsAsset:
    """``GET /docs/<asset>``: the page's scripts, style sheet and icons."""

    def __init__(self):
        self.assets = {
            name: (content_type, (swagger_ui_path / name).read_bytes())
            for name, content_type in ASSETS.items()
        }
        self.assets["init.js"] = (JS, INIT)

    async def on_get(self, req, resp, name):
        try:
            resp.content_type, resp.data = self.assets[name]
        except KeyError:
            raise Problem(404, "No such asset.") from None
        resp.cache_control = [CACHE]
