"""The JSON Schemas (2020-12, as OpenAPI 3.1 uses) of what the API takes and answers.

Option schemas are derived from the declarations in `service.config.options` and the error schema
from `service.errors.ERROR_CODES`, so neither can drift from the code; the shapes of articles,
lists and reports are written here once and referenced by name from `operations`.
"""

from __future__ import annotations

from typing import Any

from service.article import KNOWN_FIELDS, OMITTED_WHEN_EMPTY
from service.config.options import DECLARATIONS, Declaration
from service.config.settings import Settings
from service.errors import ERROR_CODES
from service.ingest.records import MAX_ID_LENGTH
from service.quality.experiments import PLAN_FIELDS, VARIANTS

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(kind: str) -> Schema:
    return {"type": [kind, "null"]}


STRINGS: Schema = {"type": "array", "items": {"type": "string"}}

ARTICLE_FIELDS: dict[str, Schema] = {
    "id": {"type": "string", "minLength": 1, "maxLength": MAX_ID_LENGTH},
    "title": {"type": "string", "minLength": 1},
    "body": {"type": "string"},
    "url": nullable("string"),
    "published": {**nullable("string"), "description": "ISO 8601 date or datetime"},
    "section": nullable("string"),
    "tags": STRINGS,
    "lang": {**nullable("string"), "description": "a language code: en, pt-BR"},
    "links": {
        **STRINGS,
        "description": "ids or URLs of other articles the body links to, in text order; "
        "left out when empty",
    },
}
assert tuple(ARTICLE_FIELDS) == KNOWN_FIELDS


def input_schema(schema: Schema) -> Schema:
    """A field's schema in input, where null means absent (`service.ingest.records`)."""
    kind = schema.get("type")
    if isinstance(kind, list) and "null" in kind:
        return {**schema}
    described = {"description": schema["description"]} if "description" in schema else {}
    body = {k: v for k, v in schema.items() if k != "description"}
    return {"anyOf": [body, {"type": "null"}], **described}


def option_schema(declaration: Declaration, settings: Settings, *, in_json: bool) -> Schema:
    """An option's schema: its JSON type in a body, its parsed type in a query string."""
    kind = declaration.kind
    high = declaration.high
    if declaration.high_setting is not None:
        high = getattr(settings, declaration.high_setting)
    schema: Schema
    if kind in ("int", "float"):
        schema = {"type": "integer" if kind == "int" else "number"}
        if declaration.low is not None:
            schema["minimum"] = declaration.low
        if high is not None:
            schema["maximum"] = high
    elif kind == "bool":
        schema = {"type": "boolean"}
    elif kind == "ids" and in_json:
        schema = {"anyOf": [STRINGS, {"type": "string"}]}
    elif kind == "ids":
        schema = STRINGS
    elif kind == "choice":
        schema = {"type": "string", "enum": list(declaration.choices)}
    else:
        schema = {"type": "string"}
    if declaration.optional and in_json:
        schema = {"anyOf": [schema, {"type": "null"}]}
    return {**schema, "description": declaration.help}


def options_object(settings: Settings) -> Schema:
    """The options as a JSON object (POST bodies); every one optional."""
    return {
        "type": "object",
        "properties": {d.name: option_schema(d, settings, in_json=True) for d in DECLARATIONS},
        "additionalProperties": False,
    }


def error_schema(codes: list[str] | None = None) -> Schema:
    """The one error shape; `codes` narrows `code` to those a response can carry."""
    known = [code for _, code, _ in ERROR_CODES]
    return {
        "type": "object",
        "required": ["ok", "status", "code", "error"],
        "properties": {
            "ok": {"const": False},
            "status": {"type": "integer"},
            "code": {"type": "string", "enum": codes or known},
            "error": {"type": "string", "minLength": 1},
            "details": {"type": "array", "description": "every problem, where one error has many"},
        },
    }


SITE_SOURCE: Schema = {
    "type": "object",
    "required": ["source", "pages"],
    "description": "A site source kept by `related sync` and its last pass (service.ingest.sync).",
    "properties": {
        "source": {"type": "string", "description": "the URL or path, as given"},
        "kind": {**nullable("string"), "description": "forced kind, or null (detected)"},
        "pages": {"type": "integer", "description": "pages the source listed at its last pass"},
        "started_at": {"type": "string"},
        "finished_at": {"type": "string"},
        "ok": {"type": "boolean", "description": "no page and no part of the source failed"},
        "error": {**nullable("string"), "description": "why the whole source failed"},
        "stored": {"type": "integer"},
        "inserted": {"type": "integer"},
        "updated": {"type": "integer"},
        "unchanged": {"type": "integer"},
        "failed": {"type": "integer"},
        "failures": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"source": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
        "pruned": {"type": "integer"},
        "requests": {"type": "integer"},
        "curated_links": {"type": "integer"},
        "unresolved": {"type": "integer"},
    },
    "additionalProperties": True,
}


def components(settings: Settings) -> dict[str, Schema]:
    article = {
        "type": "object",
        "required": [name for name in KNOWN_FIELDS if name not in OMITTED_WHEN_EMPTY],
        "properties": ARTICLE_FIELDS,
        "additionalProperties": True,
        "description": "Known fields first, then any metadata it was given (author, image...).",
    }
    article_input = {
        "type": "object",
        "required": ["id", "title"],
        "properties": {
            name: {**schema} if name in ("id", "title") else input_schema(schema)
            for name, schema in ARTICLE_FIELDS.items()
        },
        "additionalProperties": True,
        "description": "An article to upsert; fields beyond the known ones are kept as metadata "
        "(null stands for an absent field).",
    }
    article_update = {
        **article_input,
        "required": ["title"],
        "description": "The article at this URL; an `id`, if given, must be the URL's.",
    }
    item_fields = {k: v for k, v in ARTICLE_FIELDS.items() if k != "body"}
    related_item = {
        "type": "object",
        "required": ["id", "score"],
        "description": "A related article's display fields (those `fields` names, if given).",
        "properties": {
            **item_fields,
            "score": {**nullable("number"), "description": "the fused score; null when pinned"},
            "pinned": {"const": True},
            "explanation": {"type": "object"},
        },
        "additionalProperties": True,
    }
    related_list = {
        "type": "object",
        "required": ["ok", "article", "related", "k", "source", "cut", "index"],
        "properties": {
            "ok": {"const": True},
            "article": ref("ListedArticle"),
            "related": {"type": "array", "items": ref("RelatedItem")},
            "k": {"type": "integer"},
            "source": {"enum": ["index", "search", "live", "draft", "pins", "curated"]},
            "recommendation_id": {
                "type": "string",
                "description": "names this answer in impressions and clicks (POST /events)",
            },
            "variant": {
                "enum": list(VARIANTS),
                "description": "the experiment variant that made it; `defaults` when none runs",
            },
            "cut": {"type": "object", "additionalProperties": {"type": "integer"}},
            "suppressed_duplicates": {"type": "integer"},
            "index": {
                "type": "object",
                "required": ["generation", "built_at"],
                "properties": {"generation": {"type": "string"}, "built_at": {"type": "string"}},
            },
        },
    }
    problem = {
        "type": "object",
        "properties": {"where": {"type": "string"}, "field": nullable("string"), "reason": {}},
    }
    ingest_report = {
        "type": "object",
        "required": ["ok", "read", "inserted", "updated", "unchanged", "invalid", "committed"],
        "properties": {
            "ok": {"const": True},
            **{
                name: {"type": "integer"}
                for name in ("read", "inserted", "updated", "unchanged", "invalid", "curated_links")
            },
            "committed": {"type": "boolean"},
            "revision": nullable("integer"),
            "problem_count": {"type": "integer"},
            "problems": {"type": "array", "items": problem},
        },
    }
    id_list = {
        "type": "object",
        "required": ["ok", "ids"],
        "properties": {"ok": {"const": True}, "article": {"type": "string"}, "ids": STRINGS},
    }
    curated = {
        "type": "object",
        "required": ["ok", "article", "links"],
        "properties": {
            "ok": {"const": True},
            "article": {"type": "string"},
            "links": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "grade"],
                    "properties": {"id": {"type": "string"}, "grade": {"type": "number"}},
                },
            },
        },
    }
    return {
        "Article": article,
        "ArticleInput": article_input,
        "ArticleUpdate": article_update,
        "RelatedItem": related_item,
        "ListedArticle": {
            "type": "object",
            "required": ["id"],
            "properties": ARTICLE_FIELDS,
            "additionalProperties": True,
            "description": "The source article: no body unless `include_body`; with `fields`, "
            "only the fields named (and its id).",
        },
        "RelatedList": related_list,
        "IngestReport": ingest_report,
        "IdList": id_list,
        "CuratedLinks": curated,
        "Options": options_object(settings),
        "SiteSource": SITE_SOURCE,
        **measurement_schemas(),
        "Error": error_schema(),
    }


def measurement_schemas() -> dict[str, Schema]:
    """An events batch, an experiment and how one is started."""
    text = {"type": "string", "minLength": 1, "maxLength": 64}
    event = {
        "type": "object",
        "required": ["type", "recommendation_id", "article", "variant"],
        "properties": {
            "type": {"enum": ["impression", "click"]},
            "recommendation_id": text,
            "article": {"type": "string", "description": "the id the list was under"},
            "target": {"type": "string", "description": "clicks: the id clicked"},
            "position": {"type": "integer", "minimum": 0, "description": "clicks: 0-based"},
            "variant": {"enum": list(VARIANTS)},
            "visitor": {**text, "description": "the reader's key (stored only hashed)"},
        },
        "additionalProperties": False,
    }
    batch = {
        "type": "object",
        "required": ["events"],
        "properties": {"events": {"type": "array", "items": event, "minItems": 1, "maxItems": 100}},
    }
    plan = {name: {"type": "number"} for name in PLAN_FIELDS}
    experiment = {
        "type": "object",
        "required": ["name", "variants", "split", "plan", "started_at", "state"],
        "properties": {
            "name": {"type": "string"},
            "variants": {"type": "array", "items": {"enum": list(VARIANTS)}},
            "split": {"type": "array", "items": {"type": "integer"}},
            "plan": {
                "type": "object",
                "properties": {**plan, "impressions_per_variant": {"type": "integer"}},
            },
            "started_at": {"type": "number"},
            "stopped_at": nullable("number"),
            "profile": nullable("string"),
            "state": {"enum": ["running", "stopped"]},
        },
    }
    start = {
        "type": "object",
        "required": ["name", "variants"],
        "properties": {
            "name": {"type": "string"},
            "variants": {"anyOf": [{"type": "string"}, STRINGS]},
            "split": {
                "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "integer"}}]
            },
            **plan,
        },
        "additionalProperties": False,
    }
    return {"EventBatch": batch, "Experiment": experiment, "ExperimentStart": start}
