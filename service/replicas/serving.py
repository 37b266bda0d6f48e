"""How a read replica answers HTTP: reads from published data, writes refused.

A replica (`related serve --follow LOCATION`) answers related-by-ID with every option, pins and
blocks included, single articles (without their body), the pin and block lists, and the health
and index routes. Anything that writes, and drafts (`POST /related`, which needs the model),
get a 403 `read_only_replica` naming the primary; so do the curated links, which are not
published. The gate runs before any handler, so no write route runs on a replica at all.

The replica needs no model: `service.replicas.encoder.PublishedEncoder` stands in for one.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, request

from service.config.settings import Settings
from service.errors import ReadOnlyReplica
from service.generations.generation import CurrentGeneration
from service.replicas.encoder import primary_hint
from service.replicas.follower import read_state
from service.store.replica import ReplicaStore

READ_ENDPOINTS = {
    "api.healthz",
    "api.readyz",
    "api.related",
    "api.get_article",
    "api.editorial_list",
    "api.get_global_blocks",
}
"""Routes a replica serves (GET and HEAD only); `api.index_state` gets the replica's own view."""
INDEX_ENDPOINT = "api.index_state"


def register_replica_gate(
    app: Flask, settings: Settings, generations: CurrentGeneration, store: ReplicaStore
) -> None:
    """Refuse what a replica can't answer and answer GET /index as a replica, before any other
    request hook (a write is refused whatever its token)."""

    def gate() -> Response | None:
        endpoint = request.endpoint
        if endpoint is None:  # routing failed: its 404 or 405 follows
            return None
        if request.method in ("GET", "HEAD"):
            if endpoint in READ_ENDPOINTS:
                return None
            if endpoint == INDEX_ENDPOINT:
                return jsonify(replica_index(settings, generations, store))
        raise ReadOnlyReplica(
            f"This server is a read replica of {settings.follow}: it answers related lists, "
            f"articles, pins and blocks; send {request.method} {request.path} to the "
            f"primary{primary_hint(settings)}"
        )

    app.before_request_funcs.setdefault(None, []).insert(0, gate)


def replica_index(
    settings: Settings, generations: CurrentGeneration, store: ReplicaStore
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ok": True,
        "role": "replica",
        "following": settings.follow,
        "primary": settings.primary_url or None,
        "sync": read_state(settings.data_dir),
    }
    generation = generations.get()
    if generation is None:
        body.update(generation=None)
        return body
    body.update(generation.summary(), articles_shown=store.count())
    return body
