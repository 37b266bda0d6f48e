"""Every HTTP route, declared once for the OpenAPI document: the one place to describe a route.

A route added to the app without a row here (or a row without a route) fails
`tests/test_openapi.py`. A row says what the operation answers on success, which error codes
it can answer beyond those every operation of its kind can (added by `document`: 500 for all,
`invalid_json`/413 for a body, 401/403/`store_busy`/`storage_full` for writes), whether its
query string takes the related-list options (derived from `service.config.options`), and whether it
writes (and so needs the token when RELATED_API_TOKEN is set).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.ingest.chrome import VIEWS
from service.web.openapi.schemas import STRINGS, Schema, nullable, ref

ARTICLE_ID = "article_id"
ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "favicon-32x32.png": "image/png",
}
"""The files of Swagger UI the /docs page loads, from the installed swagger-ui-py package."""
PATH_PARAMETERS: dict[str, Schema] = {
    ARTICLE_ID: {
        "schema": {"type": "string", "minLength": 1},
        "description": (
            "An article id. A path-like id (`2024/05/title`) may be written as a path or "
            "percent-encoded (`2024%2F05%2Ftitle`)."
        ),
    },
    "name": {"schema": {"type": "string", "enum": list(ASSETS)}, "description": "a file name"},
    "filename": {"schema": {"type": "string"}, "description": "a file of the page"},
    "experiment": {"schema": {"type": "string", "minLength": 1}, "description": "its name"},
    "ids": {
        "schema": {"type": "string", "minLength": 3},
        "description": "`<source id>/<target id>`: the article the list was under, then the one "
        "clicked (ids may hold `/`)",
    },
}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    """OpenAPI form: /articles/{article_id}/related."""
    summary: str
    ok: dict[int, Schema]
    """Success statuses and their JSON bodies (or {"media": [types]} for other media)."""
    errors: tuple[str, ...] = ()
    options: bool = False
    """The related-list options as query parameters."""
    body: Schema | None = None
    write: bool = False
    description: str = ""
    tag: str = "articles"
    query: tuple[dict[str, Any], ...] = ()
    """Further query parameters (OpenAPI parameter objects without `in`)."""

    @property
    def path_parameters(self) -> list[str]:
        return [part[1:-1] for part in self.path.split("/") if part.startswith("{")]


def ok_object(**properties: Any) -> Schema:
    return {
        "type": "object",
        "required": ["ok", *properties],
        "properties": {"ok": {"const": True}, **properties},
    }


READ_LIST = ("invalid_parameter", "article_not_found", "index_not_ready", "index_mismatch")
ID_LIST_BODY: Schema = {
    "type": "object",
    "required": ["ids"],
    "properties": {"ids": STRINGS},
    "description": "The whole list, replacing the stored one; [] empties it.",
}
DRAFT_BODY: Schema = {
    "type": "object",
    "description": (
        '{"article": {draft fields}, ...options}; or, in short, the draft\'s fields and the '
        "options side by side (then `section` and `lang` are the filters of those names)."
    ),
    "properties": {"article": {"type": "object"}},
    "additionalProperties": True,
}


def editorial(kind: str, summary: str) -> list[Operation]:
    path = f"/articles/{{{ARTICLE_ID}}}/{kind}"
    return [
        Operation("GET", path, f"The {summary} of an article", {200: ref("IdList")},
                  ("article_not_found",), tag="editorial"),
        Operation("PUT", path, f"Replace the {summary} of an article", {200: ref("IdList")},
                  ("invalid_parameter", "unknown_articles", "article_not_found"),
                  body=ID_LIST_BODY, write=True, tag="editorial",
                  description="Every id must name a stored article; blocks win over pins."),
        Operation("DELETE", path, f"Remove every one of the {summary} of an article",
                  {200: ref("IdList")}, ("article_not_found",), write=True, tag="editorial"),
    ]  # fmt: skip


HTML: Schema = {"media": ["text/html"]}


def ui_and_catalog() -> list[Operation]:
    """The editors' page (HTML and its assets) and the JSON it reads (service.web.editors)."""
    page = ("The editors' page", HTML)
    return [
        Operation("GET", "/ui/", page[0], {200: HTML}, tag="ui"),
        Operation("GET", "/ui/draft", f"{page[0]}: a draft's list", {200: HTML}, tag="ui"),
        Operation("GET", "/ui/collection", f"{page[0]}: the collection", {200: HTML}, tag="ui"),
        Operation("GET", f"/ui/articles/{{{ARTICLE_ID}}}", f"{page[0]}: one article",
                  {200: HTML}, tag="ui"),
        Operation("GET", "/ui/static/{filename}", "A file of the editors' page (CSS, JS)",
                  {200: {"media": ["text/css", "text/javascript"]}}, ("not_found",), tag="ui"),
        Operation(
            "GET", "/catalog/articles", "Find articles by title words or id, newest first",
            {200: ok_object(articles={"type": "array"}, total={"type": "integer"})},
            ("invalid_parameter",), tag="catalog",
            description="`q` (words of the title or id), `section` (`''`: none), `page`, "
            "`per_page` (at most 100).",
        ),
        Operation("GET", "/catalog/sections", "Every section and its article count",
                  {200: ok_object(sections={"type": "array"})}, tag="catalog"),
        Operation(
            "GET", f"/catalog/articles/{{{ARTICLE_ID}}}/review",
            "An article's curated links placed in its list, its pins and blocks",
            {200: ok_object(curated={"type": "array"}, found={"type": "integer"})},
            ("invalid_parameter", "article_not_found"), tag="catalog",
        ),
        Operation(
            "GET", "/catalog/evaluation", "The latest evaluation and its worst-served articles",
            {200: ok_object(evaluation={"type": ["object", "null"]})},
            ("invalid_parameter",), tag="catalog",
        ),
    ]  # fmt: skip


EXPERIMENT_BODY = ok_object(experiment=ref("Experiment"))


def measurement() -> list[Operation]:
    """Lists on pages (20a's service.web.embed), impressions and clicks (service.web.events),
    A/B experiments (service.web.experiments)."""
    path = "/experiments/{experiment}"
    return [
        Operation("GET", "/embed.js", "The embed script for publishers' pages",
                  {200: {"media": ["text/javascript"]}}, tag="embed"),
        Operation("GET", f"/articles/{{{ARTICLE_ID}}}/related.html",
                  "The related list as an HTML fragment (for SSI, ESI, edge caches)",
                  {200: HTML}, (*READ_LIST, "live_busy"), options=True, tag="embed"),
        Operation(
            "POST", "/events", "Impressions and clicks, in batches (sendBeacon's text/plain too)",
            {202: ok_object(accepted={"type": "integer"}, dropped={"type": "integer"})},
            ("invalid_parameter",), body=ref("EventBatch"), tag="events",
            description="Anonymous: no token. Dropped: bots, rate limits, a full table.",
        ),
        Operation(
            "GET", "/go/{ids}", "Record a click and redirect to the target's stored URL",
            {302: {"media": ["text/plain"]}}, ("article_not_found", "no_url", "not_found"),
            tag="events",
            description="`?rid=<recommendation_id>&v=<variant>&pos=<0-based position>`; "
            "only ever to the target article's own http(s) URL.",
        ),
        Operation("GET", "/experiments", "Every experiment, running or stopped",
                  {200: ok_object(experiments={"type": "array", "items": ref("Experiment")})},
                  tag="experiments"),
        Operation("POST", "/experiments", "Start an experiment (its plan is fixed now)",
                  {201: EXPERIMENT_BODY}, ("invalid_parameter", "experiment_conflict"),
                  body=ref("ExperimentStart"), write=True, tag="experiments"),
        Operation("GET", path, "One experiment", {200: EXPERIMENT_BODY},
                  ("experiment_not_found", "not_found"), tag="experiments"),
        Operation("POST", f"{path}/stop", "Stop an experiment (its events stay)",
                  {200: EXPERIMENT_BODY}, ("experiment_not_found", "not_found"), write=True,
                  tag="experiments"),
        Operation(
            "GET", f"{path}/report",
            "CTR per variant and section, 95% intervals, the test, what is still needed, the verdict",
            {200: ok_object(report={"type": "object"})},
            ("experiment_not_found", "invalid_parameter", "not_found"), tag="experiments",
        ),
    ]  # fmt: skip


OPERATIONS: tuple[Operation, ...] = (
    Operation("GET", "/healthz", "The process is up", {200: ok_object()}, tag="service"),
    Operation(
        "GET", "/readyz", "Ready once an index is loaded",
        {200: ok_object(generation={"type": "string"}, articles={"type": "integer"})},
        ("index_not_ready", "index_mismatch"), tag="service",
    ),
    Operation(
        "GET", "/index", "The index: generation, counts, model, rebuild state",
        {
            200: {
                "type": "object",
                "required": ["ok", "articles_in_store", "rebuild_running"],
                "properties": {
                    "sites": {"type": "array", "items": ref("SiteSource")},
                    "text_rules": {
                        "type": "object",
                        "properties": {
                            "repeated_lines": {"type": "integer"},
                            "chrome_share": {"type": "number"},
                            "page_rules": {"type": "boolean"},
                            "page_share": {"type": ["number", "null"]},
                            "scraped_share": {"type": "number"},
                        },
                    },
                },
            }
        },
        tag="service",
        description="`sites`: each site source `related sync` (or the server's sync) keeps, "
        "with its last pass. `text_rules`: how the generation's texts were read: the repeated "
        "lines left out, and whether the collection was taken for scraped pages (`page_rules`: "
        "at least `scraped_share` of the sampled articles carry a page's own chrome lines), "
        "so that title lines were chrome too.",
    ),
    Operation(
        "POST", "/index/rebuild", "Start a background rebuild, or queue one behind a running one",
        {202: ok_object(state={"enum": ["started", "queued"]})},
        ("no_articles",), write=True, tag="service",
        description="The state reads `starting` in GET /index as soon as this answers.",
    ),
    Operation(
        "GET", f"/articles/{{{ARTICLE_ID}}}", "One stored article",
        {200: ok_object(article=ref("Article"), view={"const": "ranked"})},
        ("article_not_found", "invalid_parameter"),
        query=(
            {
                "name": "view",
                "required": False,
                "schema": {"type": "string", "enum": list(VIEWS), "default": "stored"},
                "description": "ranked: `body` is the text that was encoded and compared (the "
                "chrome left out); `view` is in the answer only then",
            },
        ),
    ),
    Operation(
        "PUT", f"/articles/{{{ARTICLE_ID}}}", "Upsert one article",
        {
            200: ok_object(outcome={"enum": ["updated", "unchanged"]}, article=ref("Article")),
            201: ok_object(outcome={"const": "inserted"}, article=ref("Article")),
        },
        ("invalid_parameter", "invalid_articles"), body=ref("ArticleUpdate"), write=True,
    ),
    Operation("DELETE", f"/articles/{{{ARTICLE_ID}}}", "Delete one article",
              {200: ok_object(deleted={"type": "string"})}, ("article_not_found",), write=True),
    Operation(
        "POST", "/articles", "Upsert an article or an array of them, all or nothing",
        {200: ref("IngestReport"), 201: ref("IngestReport")},
        ("invalid_articles",),
        body={"anyOf": [ref("ArticleInput"), {"type": "array", "items": ref("ArticleInput")}]},
        write=True,
    ),
    Operation(
        "GET", f"/articles/{{{ARTICLE_ID}}}/related", "Related articles, best first",
        {200: ref("RelatedList")}, (*READ_LIST, "live_busy"), options=True, tag="related",
        description="A URL carries about 75 ids of `exclude`: send longer lists with POST.",
    ),
    Operation(
        "POST", f"/articles/{{{ARTICLE_ID}}}/related",
        "Related articles, with the options in a JSON body (long `exclude` lists)",
        {200: ref("RelatedList")}, (*READ_LIST, "live_busy"), body=ref("Options"),
        tag="related", description="A read: it needs no token.",
    ),
    Operation(
        "POST", "/related", "Related articles for a draft (text that is not stored)",
        {200: ref("RelatedList")},
        ("invalid_parameter", "index_not_ready", "index_mismatch", "live_busy"),
        body=DRAFT_BODY, tag="related", description="A read: it needs no token.",
    ),
    *editorial("pins", "pins"),
    *editorial("blocks", "blocks"),
    Operation("GET", "/blocks", "The global block list", {200: ref("IdList")}, tag="editorial"),
    Operation("PUT", "/blocks", "Replace the global block list", {200: ref("IdList")},
              ("invalid_parameter", "unknown_articles"), body=ID_LIST_BODY, write=True,
              tag="editorial"),
    Operation("DELETE", "/blocks", "Empty the global block list", {200: ref("IdList")},
              write=True, tag="editorial"),
    Operation("GET", f"/articles/{{{ARTICLE_ID}}}/curated", "Links curated under an article",
              {200: ref("CuratedLinks")}, ("article_not_found",), tag="curated"),
    Operation(
        "PUT", f"/articles/{{{ARTICLE_ID}}}/curated", "Replace the links curated under an article",
        {200: ref("CuratedLinks")}, ("invalid_parameter", "article_not_found"),
        body={
            "type": "object",
            "required": ["ids"],
            "properties": {"ids": STRINGS, "grades": {**nullable("array"), "items": {"type": "number"}}},
        },
        write=True, tag="curated",
    ),
    Operation("DELETE", f"/articles/{{{ARTICLE_ID}}}/curated",
              "Remove the links curated under an article", {200: ref("CuratedLinks")},
              ("article_not_found",), write=True, tag="curated"),
    *ui_and_catalog(),
    *measurement(),
    Operation(
        "GET", "/metrics", "Prometheus metrics of every worker (text format, not JSON)",
        {200: {"media": ["text/plain"]}}, tag="service",
    ),
    Operation("GET", "/openapi.json", "This document", {200: {"type": "object"}}, tag="service"),
    Operation("GET", "/docs", "This document as a page", {200: {"media": ["text/html"]}},
              tag="service"),
    Operation(
        "GET", "/docs/assets/{name}", "The page's script, style and icon",
        {200: {"media": sorted(set(ASSETS.values()))}}, ("not_found",), tag="service",
    ),
)  # fmt: skip
