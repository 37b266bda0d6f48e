"""The OpenAPI 3.1 document, assembled from the operations table and the declarations.

Each operation's error responses are its own codes plus those every operation of its kind can
answer, grouped by status from `service.errors.ERROR_CODES`, each narrowed to the codes it can
carry; the related-list options become query parameters (GET) or an object schema (POST
bodies) from `service.config.options`. The document depends on the settings (the largest `k`, whether
a token is set), so each app builds its own.
"""

from __future__ import annotations

from collections import defaultdict
from importlib.metadata import version
from typing import Any

from service.config.options import DECLARATIONS
from service.config.settings import Settings
from service.errors import ERROR_CODES
from service.web.openapi.operations import ARTICLE_ID, OPERATIONS, PATH_PARAMETERS, Operation
from service.web.openapi.schemas import Schema, components, error_schema, option_schema, ref

STATUS_OF = {code: status for status, code, _ in ERROR_CODES}
WHEN = {code: when for _, code, when in ERROR_CODES}
EVERY_OPERATION = ("internal_error",)
WITH_A_BODY = ("invalid_json", "payload_too_large")
WRITES = ("unauthorized", "forbidden", "store_busy", "storage_full")

DESCRIPTION = """\
Related articles for a publisher's site: precomputed lists over sentence-transformers
embeddings, FAISS and a hybrid lexical ranking.

Every error has one shape, `{"ok": false, "status": N, "code": "snake_case", "error": "..."}`;
each response below lists the codes it can carry. Reads are open; when RELATED_API_TOKEN is
set, writes need `Authorization: Bearer <token>`."""


def error_codes(operation: Operation) -> list[str]:
    codes = [*operation.errors, *EVERY_OPERATION]
    if ARTICLE_ID in operation.path_parameters:
        codes.append("not_found")  # an id no article can have (a line break) matches no route
    if operation.body is not None:
        codes += WITH_A_BODY
    if operation.options or operation.body is not None:
        codes.append("invalid_parameter")
    if operation.write:
        codes += WRITES
    return list(dict.fromkeys(codes))


def responses(operation: Operation) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for status, schema in operation.ok.items():
        media = schema.get("media")
        content = (
            {kind: {} for kind in media} if media else {"application/json": {"schema": schema}}
        )
        found[str(status)] = {"description": "OK", "content": content}
    by_status: dict[int, list[str]] = defaultdict(list)
    for code in error_codes(operation):
        by_status[STATUS_OF[code]].append(code)
    for status in sorted(by_status):
        codes = by_status[status]
        response: dict[str, Any] = {
            "description": "; ".join(f"`{code}`: {WHEN[code]}" for code in codes),
            "content": {"application/json": {"schema": error_schema(codes)}},
        }
        if status == 503 or any(code in ("store_busy", "live_busy") for code in codes):
            response["headers"] = {
                "Retry-After": {
                    "description": "seconds to wait, for `store_busy` and `live_busy`",
                    "schema": {"type": "string"},
                }
            }
        found[str(status)] = response
    return found


def parameters(operation: Operation, settings: Settings) -> list[dict[str, Any]]:
    found = [
        {"name": name, "in": "path", "required": True, **PATH_PARAMETERS[name]}
        for name in operation.path_parameters
    ]
    if operation.options:
        for declaration in DECLARATIONS:
            repeated = declaration.kind == "ids"
            found.append(
                {
                    "name": declaration.name,
                    "in": "query",
                    "required": False,
                    "schema": option_schema(declaration, settings, in_json=False),
                    "description": declaration.help
                    + (" (repeat, or separate with commas)" if repeated else "")
                    + f"; e.g. `{declaration.example}`",
                    **({"style": "form", "explode": True} if repeated else {}),
                }
            )
    found.extend({**parameter, "in": "query"} for parameter in operation.query)
    return found


def operation_object(operation: Operation, settings: Settings) -> dict[str, Any]:
    found: dict[str, Any] = {
        "summary": operation.summary,
        "operationId": f"{operation.method.lower()}{operation.path}",
        "tags": [operation.tag],
        "parameters": parameters(operation, settings),
        "responses": responses(operation),
        "security": [{"bearerAuth": []}] if operation.write and settings.api_token else [],
    }
    if operation.description:
        found["description"] = operation.description
    if operation.body is not None:
        body: Schema = operation.body
        found["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return found


def document(settings: Settings) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the app `settings` configure."""
    paths: dict[str, dict[str, Any]] = defaultdict(dict)
    for operation in OPERATIONS:
        paths[operation.path][operation.method.lower()] = operation_object(operation, settings)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "related-articles",
            "version": version("related-articles"),
            "description": DESCRIPTION,
        },
        "paths": dict(paths),
        "components": {
            "schemas": components(settings),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Needed by writes only when RELATED_API_TOKEN is set.",
                }
            },
        },
        "tags": [
            {"name": "related", "description": "Related lists: by id, with a body, for drafts"},
            {"name": "articles", "description": "The stored articles"},
            {"name": "editorial", "description": "Pins and blocks (blocks win over pins)"},
            {"name": "curated", "description": "The site's own curated links"},
            {"name": "service", "description": "Health, the index and rebuilds, this document"},
            {"name": "embed", "description": "The list on publishers' pages: script, fragment"},
            {"name": "events", "description": "Impressions and clicks"},
            {
                "name": "experiments",
                "description": "A/B tests of the rankings and the editors' boxes",
            },
        ],
    }


__all__ = ["document", "ref"]
