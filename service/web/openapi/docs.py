"""`/openapi.json` and `/docs`: the document, and a page that renders it with Swagger UI.

Swagger UI's script and style are served from the installed `swagger-ui-py` package (a
dependency), so the page works offline and loads nothing from a CDN.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, send_file

from service.errors import RelatedError
from service.web.openapi.document import document
from service.web.openapi.operations import ASSETS

docs = Blueprint("docs", __name__)

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>related-articles API</title>
  <link rel="stylesheet" href="docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="docs/assets/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/assets/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui", deepLinking: true});
  </script>
</body>
</html>
"""


class AssetNotFound(RelatedError):
    status = 404
    code = "not_found"


@cache
def assets_dir() -> Path:
    """Swagger UI's static files inside the installed swagger-ui-py, found without importing
    it (its package imports handlers for a dozen web frameworks)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise AssetNotFound("Swagger UI is not installed: pip install swagger-ui-py")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


@docs.get("/openapi.json")
def openapi_json() -> Response:
    built = current_app.extensions.get("openapi")
    if built is None:  # once per app: it depends only on the settings
        built = current_app.extensions["openapi"] = document(
            current_app.extensions["related"].settings
        )
    return jsonify(built)


@docs.get("/docs")
def docs_page() -> Response:
    return Response(PAGE, mimetype="text/html")


@docs.get("/docs/assets/<name>")
def docs_asset(name: str) -> Response:
    if name not in ASSETS:
        raise AssetNotFound(f"No asset {name!r}: the page uses {', '.join(ASSETS)}")
    path = assets_dir() / name
    if not path.is_file():
        raise AssetNotFound(f"Swagger UI's {name} is missing from the installed package")
    return send_file(path, mimetype=ASSETS[name], max_age=86400)
