"""`POST /events` (impressions and clicks, as the embed's `sendBeacon` sends them) and
`GET /go/<source>/<target>` (a click without JavaScript): validated at the edge, rate-limited,
bots dropped, then queued for the events writer (`service.store.events`).

A batch is at most `MAX_EVENTS` events in at most `MAX_BODY_BYTES`; any content type is read
as JSON (a beacon sends text/plain). One bad event refuses the batch with 400 naming its index
and field, storing nothing. The answer is 202 with how many were accepted and dropped (bots,
rate limits, a full table); duplicates are accepted and ignored by the store. `/go` redirects
only to the target article's own stored http(s) URL, so it can never be an open redirect.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from service.article import Article
from service.config.settings import Settings
from service.errors import ArticleNotFound, InvalidJSON, InvalidParameter, NoURL, PayloadTooLarge
from service.ingest import json_input
from service.quality.experiments import VARIANTS, Experiments
from service.services import Services
from service.store.events import Event, EventStore
from service.web.prometheus import Metrics
from service.web.related_view import EXTENSION
from service.web.throttle import BotFilter, Throttle

events_api = Blueprint("events", __name__)

KEY = "related.measurement"
MAX_EVENTS = 100
MAX_BODY_BYTES = 64 * 1024
MAX_ID = 512
MAX_KEY = 64
TYPES = ("impression", "click")
FIELDS = ("type", "recommendation_id", "article", "target", "position", "variant", "visitor")
_creating = threading.Lock()


@dataclass
class Measurement:
    """What this process keeps to take events: the store, the rate limits, the bot patterns,
    the experiments (to tag events with the running one) and the metrics."""

    events: EventStore | None
    throttle: Throttle
    bots: BotFilter
    experiments: Experiments
    metrics: Metrics

    @classmethod
    def for_app(cls, app: Flask) -> Measurement:
        settings: Settings = app.extensions["related"].settings
        store = None
        if settings.events:
            store = EventStore(
                settings.events_path,
                max_rows=settings.events_max_rows,
                retention_days=settings.events_retention_days,
            )
        return cls(
            store,
            Throttle(settings.events_rate, settings.events_global_rate),
            BotFilter(settings.bot_patterns),
            app.extensions[EXTENSION].experiments,
            app.extensions["related.metrics"],
        )


def measurement_of(app: Flask) -> Measurement:
    """The app's `Measurement`, made on first use (the events file is opened only then)."""
    extensions = app.extensions
    if KEY not in extensions:
        with _creating:
            if KEY not in extensions:
                extensions[KEY] = Measurement.for_app(app)
    found: Measurement = extensions[KEY]
    return found


def measurement() -> Measurement:
    return measurement_of(current_app._get_current_object())  # type: ignore[attr-defined]


def click_url(
    source_id: str, target_id: str, recommendation_id: str, variant: str, position: int
) -> str:
    """The no-JavaScript click-through link for one item of a list (relative to the service)."""
    query = urlencode({"rid": recommendation_id, "v": variant, "pos": position})
    return f"/go/{quote(source_id, safe='')}/{quote(target_id, safe='')}?{query}"


def text_field(event: dict[str, Any], name: str, where: str, limit: int) -> str:
    value = event.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidParameter(
            f"{where}: field {name!r} must be a non-empty string of at most {limit} characters"
        )
    return value.strip()


def parse_event(event: Any, index: int) -> dict[str, Any]:
    """One event as given, checked: InvalidParameter naming the index and field."""
    where = f"Event {index}"
    if not isinstance(event, dict):
        raise InvalidParameter(f"{where} must be an object")
    unknown = sorted(set(event) - set(FIELDS))
    if unknown:
        raise InvalidParameter(f"{where}: unknown field {unknown[0]!r}; known: {', '.join(FIELDS)}")
    kind = event.get("type")
    if kind not in TYPES:
        raise InvalidParameter(f"{where}: field 'type' must be 'impression' or 'click'")
    parsed: dict[str, Any] = {
        "type": kind,
        "recommendation_id": text_field(event, "recommendation_id", where, MAX_KEY),
        "article": text_field(event, "article", where, MAX_ID),
        "target": "",
        "position": None,
    }
    variant = event.get("variant")
    if variant not in VARIANTS:
        raise InvalidParameter(f"{where}: field 'variant' must be one of {', '.join(VARIANTS)}")
    parsed["variant"] = variant
    parsed["visitor"] = text_field(event, "visitor", where, MAX_KEY) if "visitor" in event else ""
    if kind == "click":
        parsed["target"] = text_field(event, "target", where, MAX_ID)
        position = event.get("position")
        if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position < 1000:
            raise InvalidParameter(
                f"{where}: field 'position' of a click must be a whole number from 0 to 999"
            )
        parsed["position"] = position
    return parsed


def read_batch() -> list[dict[str, Any]]:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"An events batch is at most {MAX_BODY_BYTES} bytes")
    return parse_batch(request.stream.read(MAX_BODY_BYTES + 1))


def parse_batch(raw: bytes) -> list[dict[str, Any]]:
    """A batch's events from its body, checked (the errors name the event and field)."""
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"An events batch is at most {MAX_BODY_BYTES} bytes")
    if not raw.strip():
        raise InvalidJSON('The request body is empty; send {"events": [...]}')
    try:
        body = json_input.loads(raw)
    except json_input.JSONRefused as exc:
        raise InvalidJSON(f"The request body is not valid JSON: {exc}") from None
    events = body.get("events") if isinstance(body, dict) else None
    if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS:
        raise InvalidParameter(
            f"Send {{\"events\": [...]}}: field 'events' must be a list of 1 to {MAX_EVENTS} events"
        )
    return [parse_event(event, i) for i, event in enumerate(events)]


def record(
    state: Measurement, parsed: list[dict[str, Any]], address: str, agent: str | None
) -> tuple[int, int]:
    """Store what the limits let through of events from `address` with User-Agent `agent`;
    (accepted, dropped)."""
    store = state.events
    if store is None or state.bots.is_bot(agent):
        return 0, len(parsed)
    allowed = state.throttle.allow(address, len(parsed))
    experiment = state.experiments.running()
    now = datetime.now(UTC)
    # Events without a visitor key: the address and agent of the day (only stored hashed).
    fallback = f"{address}|{agent}|{now.date().isoformat()}"
    events = [
        Event(
            now.timestamp(),
            item["type"],
            item["recommendation_id"],
            item["article"],
            item["target"],
            item["position"],
            item["variant"],
            experiment.name if experiment and item["variant"] in experiment.variants else "",
            store.visitor_hash(item["visitor"] or fallback),
        )
        for item in parsed[:allowed]
    ]
    lost = store.submit(events)
    for event in events[: len(events) - lost]:
        state.metrics.event(event.type, event.variant)
    accepted = len(events) - lost
    return accepted, len(parsed) - accepted


@events_api.post("/events")
def post_events() -> tuple[Response, int]:
    accepted, dropped = record(measurement(), read_batch(), *client())
    return jsonify(ok=True, accepted=accepted, dropped=dropped), 202


@events_api.get("/go/<path:ids>")
def go(ids: str) -> Response:
    services: Services = current_app.extensions["related"]
    source, target = split_ids(services, ids)
    url = (target.url or "").strip()
    if not url.lower().startswith(("https://", "http://")):
        raise NoURL(f"Article {target.id!r} has no stored http(s) URL to go to")
    click: dict[str, Any] = {
        "type": "click",
        "recommendation_id": request.args.get("rid", ""),
        "article": source,
        "target": target.id,
        "variant": request.args.get("v", "defaults"),
    }
    try:
        click["position"] = int(request.args.get("pos", ""))
        record(measurement(), [parse_event(click, 0)], *client())
    except (ValueError, InvalidParameter):
        pass  # a hand-made or truncated link still takes the reader where it points
    return Response(status=302, headers={"Location": url, "Cache-Control": "no-store"})


def client() -> tuple[str, str | None]:
    """The request's address (held in memory only, by the rate limits) and User-Agent."""
    return request.remote_addr or "", request.headers.get("User-Agent")


def split_ids(services: Services, ids: str) -> tuple[str, Article]:
    """(source id, target article) of `/go/<source>/<target>`: ids may hold slashes, so the
    first split that names two stored articles wins."""
    store = services.store
    parts = ids.split("/")
    for cut in range(1, len(parts)):
        source, target_id = "/".join(parts[:cut]), "/".join(parts[cut:])
        target = store.get(target_id, with_body=False)
        if target is not None and store.get(source, with_body=False) is not None:
            return source, target.article
    raise ArticleNotFound(ids)
