"""create_app(settings): the one place that wires store, index, encoder and routes together."""

from __future__ import annotations

from flask import Flask

from embeddings.encoder import Encoder
from service.catalog import catalog
from service.config import Settings, load_settings
from service.errors import register_error_handlers
from service.openapi.docs import docs
from service.routes import api
from service.services import Services
from service.ui import ui


def create_app(settings: Settings | None = None, *, encoder: Encoder | None = None) -> Flask:
    """A ready Flask app. `encoder` replaces the real model (tests inject a fake through it)."""
    settings = settings or load_settings()
    # No static folder: every route is declared (service.openapi) and JSON, but the docs page.
    app = Flask("related-articles", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    services = Services.open(settings, encoder=encoder)
    app.extensions["related"] = services
    app.register_blueprint(api)
    app.register_blueprint(catalog)
    app.register_blueprint(ui)
    app.register_blueprint(docs)
    register_error_handlers(app)
    if settings.preload_model:
        services.warm_up_in_background()
    return app
