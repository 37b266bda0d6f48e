"""create_app(settings): the one place that wires store, index, encoder and routes together."""

from __future__ import annotations

from flask import Flask, request

from embeddings.encoder import Encoder
from service.config.settings import Settings, load_settings
from service.errors import register_error_handlers
from service.replicas.serving import register_replica_gate
from service.services import Services
from service.ui import ui
from service.web.access_log import ROUTE_KEY, Observed
from service.web.beacons import Beacons
from service.web.cors import register_cors
from service.web.editors import catalog
from service.web.embed.fragment import fragment
from service.web.embed.script import script
from service.web.events import events_api
from service.web.experiments import experiments_api
from service.web.openapi.docs import docs
from service.web.paths import register_path_check
from service.web.prometheus import Metrics, metrics_routes
from service.web.related_view import EXTENSION, CachedAnswers, RelatedHTTP
from service.web.routes import api


def create_app(settings: Settings | None = None, *, encoder: Encoder | None = None) -> Flask:
    """A ready Flask app. `encoder` replaces the real model (tests inject a fake through it)."""
    settings = settings or load_settings()
    # No static folder: every route is declared (service.web.openapi) and JSON, but the docs page.
    app = Flask("related-articles", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    # `//` in a path is a 404 like any unknown path, not an HTML redirect to the merged path.
    app.url_map.merge_slashes = False
    services = Services.open(settings, encoder=encoder)
    metrics = Metrics()
    app.extensions["related"] = services
    app.extensions["related.metrics"] = metrics
    app.extensions[EXTENSION] = RelatedHTTP.for_services(services)
    app.extensions[EXTENSION].answers.observe(metrics.cache_observer("answers"))
    services.recommender.article_cache.observe(metrics.cache_observer("articles"))

    @app.before_request
    def name_route() -> None:
        # Metrics count by route (the rule), not by path: ids would make every path a series.
        rule = request.url_rule
        request.environ[ROUTE_KEY] = rule.rule if rule is not None else None

    register_path_check(app)
    register_cors(app, settings.cors_origins)
    app.register_blueprint(api)
    app.register_blueprint(fragment)
    app.register_blueprint(script)
    app.register_blueprint(events_api)
    app.register_blueprint(experiments_api)
    app.register_blueprint(catalog)
    app.register_blueprint(ui)
    app.register_blueprint(docs)
    app.register_blueprint(metrics_routes)
    register_error_handlers(app)
    # Beacons (POST /events) and cached related lists are answered before Flask when they can be.
    app.wsgi_app = Observed(  # type: ignore[method-assign]
        CachedAnswers(Beacons(app.wsgi_app, app), app), settings.access_log, metrics
    )
    replica = services.replica_store
    if replica is not None:
        register_replica_gate(app, settings, services.generations, replica)
    elif settings.preload_model:
        services.warm_up_in_background()
    return app
