"""create_app(settings): the one place that wires store, index, encoder and routes together."""

from __future__ import annotations

from flask import Flask

from embeddings.encoder import Encoder
from service.config import Settings, load_settings
from service.errors import register_error_handlers
from service.replica_serving import register_replica_gate
from service.routes import api
from service.services import Services


def create_app(settings: Settings | None = None, *, encoder: Encoder | None = None) -> Flask:
    """A ready Flask app. `encoder` replaces the real model (tests inject a fake through it)."""
    settings = settings or load_settings()
    app = Flask("related-articles")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    services = Services.open(settings, encoder=encoder)
    app.extensions["related"] = services
    app.register_blueprint(api)
    register_error_handlers(app)
    replica = services.replica_store
    if replica is not None:
        register_replica_gate(app, settings, services.generations, replica)
    elif settings.preload_model:
        services.warm_up_in_background()
    return app
