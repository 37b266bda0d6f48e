"""`GET /articles/<id>/related.html`: the related list as an escaped HTML fragment, for
server-side includes (SSI), ESI and edge caches that assemble a page from parts.

It takes the JSON answer's options and follows its HTTP rules (`service.web.related_view`):
the ETag is known before anything is ranked (a 304 costs one store statement), the same
`Cache-Control`, gzip, and this process's answer cache, the same `recommendation_id` and
`variant` (`service.web.related_view.prepare`). Two parameters are its own: `images` (show each
item's image) and `heading` (the heading's text). With RELATED_CLICK_TRACKING on, its links go
through the service's `/go/...` click-through (`service.web.events`), which records the click
and redirects to the article's stored URL: clicks counted without JavaScript.

The template is `related.html` in this package, or `DATA_DIR/templates/related.html` when that
file exists (read again when it changes; its stamp is part of the ETag). Either way it runs in
Jinja's sandbox with autoescaping on: a title holding `<script>` arrives as text. Links only
ever point at http(s) or relative URLs; an article whose `url` is anything else is listed
without a link.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, request
from flask.blueprints import BlueprintSetupState
from jinja2 import FileSystemLoader, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from service.config.values import parse_bool
from service.errors import ConfigError, InvalidParameter
from service.services import Services
from service.web.caching import Answer, accepts_gzip, etag_for, etag_matches
from service.web.events import click_url
from service.web.prometheus import Metrics
from service.web.related_options import query_options
from service.web.related_view import (
    EXTENSION,
    RelatedHTTP,
    answer_json,
    cache_headers,
    not_modified,
    prepare,
)

FRAGMENT_RULE = "/articles/<path:article_id>/related.html"
TEMPLATE = "related.html"
OVERRIDE_DIR = "templates"
"""The folder of the data directory whose `related.html` replaces the package's template."""
CONTENT_TYPE = "text/html; charset=utf-8"
TEMPLATES_KEY = "related.fragment"
DEFAULT_HEADING = "Related articles"
MAX_HEADING = 200

fragment = Blueprint("fragment", __name__)


@dataclass(frozen=True)
class Display:
    """What the fragment shows beyond the list's options."""

    images: bool = False
    heading: str = DEFAULT_HEADING

    @classmethod
    def take(cls, raw: dict[str, Any]) -> Display:
        """Remove the fragment's own parameters from the raw query options and read them."""
        images, heading = raw.pop("images", None), raw.pop("heading", None)
        display = cls()
        if images is not None:
            try:
                display = cls(images=parse_bool(images))
            except ValueError as exc:
                raise InvalidParameter(f"Parameter 'images' {exc}") from None
        if heading is not None:
            text = str(heading).strip()
            if not text or len(text) > MAX_HEADING:
                raise InvalidParameter(
                    f"Parameter 'heading' must be 1 to {MAX_HEADING} characters of text"
                )
            display = cls(images=display.images, heading=text)
        return display


class Templates:
    """The fragment's template: the data directory's override if there is one, else the
    package's; sandboxed, autoescaped, reloaded when the file changes."""

    def __init__(self, data_dir: Path) -> None:
        self.override = data_dir / OVERRIDE_DIR / TEMPLATE
        self.package = self.environment(Path(__file__).parent)
        self.site = self.environment(self.override.parent)

    @staticmethod
    def environment(folder: Path) -> SandboxedEnvironment:
        return SandboxedEnvironment(
            loader=FileSystemLoader(folder), autoescape=True, auto_reload=True
        )

    def stamp(self) -> tuple[Any, ...]:
        """Changes whenever the template in use does (it is part of the cache key and ETag)."""
        try:
            found = self.override.stat()
        except OSError:
            return ("package",)
        return ("override", found.st_mtime_ns, found.st_size)

    def render(self, context: dict[str, Any]) -> str:
        site = self.override.is_file()
        where = str(self.override) if site else "the package's related.html"
        try:
            return (self.site if site else self.package).get_template(TEMPLATE).render(
                context
            ).strip() + "\n"
        except TemplateSyntaxError as exc:
            raise ConfigError(
                f"The fragment template {exc.filename or where} line {exc.lineno}: {exc.message}"
            ) from None
        except TemplateError as exc:
            raise ConfigError(f"The fragment template {where} failed: {exc}") from None


@fragment.record_once
def open_templates(state: BlueprintSetupState) -> None:
    services: Services = state.app.extensions["related"]
    state.app.extensions[TEMPLATES_KEY] = Templates(services.settings.data_dir)


def safe_href(value: Any) -> str | None:
    """`value` if it is an http(s) or relative URL (never `javascript:`, `data:`...)."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        scheme = urlsplit(value.strip()).scheme.lower()
    except ValueError:
        return None
    return value.strip() if scheme in ("", "http", "https") else None


def context(body: dict[str, Any], display: Display, tracked: str | None) -> dict[str, Any]:
    """The template's variables from the JSON answer. `tracked`: the service's base URL when
    clicks are recorded by click-through links (`/go/...`), else None (links go straight on)."""
    article = body["article"]
    items = []
    for position, item in enumerate(body["related"]):
        href = safe_href(item.get("url"))
        if href and tracked is not None:
            href = tracked + click_url(
                article["id"], item["id"], body["recommendation_id"], body["variant"], position
            )
        items.append(
            {**item, "position": position, "href": href, "image_src": safe_href(item.get("image"))}
        )
    digest = hashlib.blake2b(str(article["id"]).encode(), digest_size=4).hexdigest()
    return {
        "article": article,
        "related": items,
        "recommendation_id": body["recommendation_id"],
        "variant": body["variant"],
        "heading": display.heading,
        "images": display.images,
        "heading_id": f"ra-heading-{digest}",
    }


@fragment.get(FRAGMENT_RULE)
def related_html(article_id: str) -> Response:
    services: Services = current_app.extensions["related"]
    metrics: Metrics = current_app.extensions["related.metrics"]
    state: RelatedHTTP = current_app.extensions[EXTENSION]
    templates: Templates = current_app.extensions[TEMPLATES_KEY]
    raw = query_options()
    display = Display.take(raw)
    prepared = prepare(services, state, article_id, raw)
    # The fragment is included in the site's pages: a click-through link must name this service.
    tracked = request.url_root.rstrip("/") if services.settings.click_tracking else None
    key = ("html", prepared.key, display, templates.stamp(), tracked)
    etag = etag_for(prepared.etag, key)
    if_none_match = request.headers.get("If-None-Match")
    answer = state.answers.get(key, prepared.made_from)
    if answer is None:
        if etag_matches(if_none_match, etag):
            return not_modified(etag, state.max_age)
        body = state.stored_json(prepared) or answer_json(services, prepared)
        html = templates.render(context(body, display, tracked))
        answer = Answer(prepared.made_from, etag, html.encode(), body["source"])
        state.answers.put(key, answer)
    elif etag_matches(if_none_match, answer.etag):
        return not_modified(answer.etag, state.max_age)
    metrics.answered(answer.source)
    payload, gzipped = answer.encoded(accepts_gzip(request.headers.get("Accept-Encoding")))
    headers = [("Content-Type", CONTENT_TYPE), *cache_headers(answer.etag, state.max_age)]
    if gzipped:
        headers.append(("Content-Encoding", "gzip"))
    return Response(payload, headers=headers)
