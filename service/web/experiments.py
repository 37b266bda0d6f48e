"""`/experiments`: start, list, show, stop and report A/B experiments over HTTP, as
`related experiment` does on the command line. Starting and stopping are writes: with
RELATED_API_TOKEN set they need the bearer token, like every other write."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from service.errors import InvalidJSON, InvalidParameter
from service.ingest import json_input
from service.quality.experiment_report import experiment_report
from service.quality.experiments import START_FIELDS, Experiments, start_from_values
from service.services import Services
from service.web.events import measurement
from service.web.related_view import EXTENSION, RelatedHTTP

experiments_api = Blueprint("experiments", __name__)


def experiments() -> Experiments:
    state: RelatedHTTP = current_app.extensions[EXTENSION]
    return state.experiments


@experiments_api.get("/experiments")
def list_experiments() -> Response:
    return jsonify(ok=True, experiments=[e.to_json() for e in experiments().all()])


@experiments_api.post("/experiments")
def post_experiment() -> tuple[Response, int]:
    raw = request.get_data(cache=False)
    try:
        body = json_input.loads(raw) if raw.strip() else None
    except json_input.JSONRefused as exc:
        raise InvalidJSON(f"The request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidParameter(
            'Send {"name": ..., "variants": ["defaults", "tuned"], "split": [50, 50]}'
        )
    unknown = sorted(set(body) - set(START_FIELDS))
    if unknown:
        raise InvalidParameter(f"Unknown field {unknown[0]!r}; known: {', '.join(START_FIELDS)}")
    services: Services = current_app.extensions["related"]
    experiment = start_from_values(experiments(), services.settings.data_dir, body)
    return jsonify(ok=True, experiment=experiment.to_json()), 201


@experiments_api.get("/experiments/<experiment>")
def get_experiment(experiment: str) -> Response:
    return jsonify(ok=True, experiment=experiments().get(experiment).to_json())


@experiments_api.post("/experiments/<experiment>/stop")
def stop_experiment(experiment: str) -> Response:
    return jsonify(ok=True, experiment=experiments().stop(experiment).to_json())


@experiments_api.get("/experiments/<experiment>/report")
def report(experiment: str) -> Response:
    found = experiments().get(experiment)
    services: Services = current_app.extensions["related"]
    events = measurement().events
    if events is None:
        raise InvalidParameter("Events are off (RELATED_EVENTS=false): there is nothing to report")
    events.flush(timeout=5.0)  # what this process has queued counts
    return jsonify(ok=True, report=experiment_report(found, events, services.store))
