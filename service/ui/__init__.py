"""The editors' workspace at `/ui/`: one HTML shell, plain CSS and JavaScript modules.

Every asset ships inside this package (`static/`, `templates/`): no build step, no CDN, so the
page works offline. The shell is the same for every view; `static/js/app.js` picks the view from
the path and talks to the JSON API (`service.web.routes`, `service.web.editors`) with `fetch`. A strict
Content-Security-Policy allows nothing but this server, and no inline script or style.
"""

from __future__ import annotations

from flask import Blueprint, Response, make_response, render_template

ui = Blueprint(
    "ui",
    __name__,
    url_prefix="/ui",
    static_folder="static",
    static_url_path="/static",
    template_folder="templates",
)

VIEWS = {
    "find": "Find an article",
    "article": "Article",
    "draft": "Draft",
    "collection": "Collection",
}

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def page(view: str) -> Response:
    response = make_response(render_template("related_ui.html", view=view, title=VIEWS[view]))
    response.headers.update(SECURITY_HEADERS)
    response.headers["Cache-Control"] = "no-cache"
    return response


@ui.get("/")
def find() -> Response:
    return page("find")


@ui.get("/articles/<path:article_id>")
def article(article_id: str) -> Response:
    # The script reads the id from the address (percent-encoded, so ids may hold a '/').
    del article_id
    return page("article")


@ui.get("/draft")
def draft() -> Response:
    return page("draft")


@ui.get("/collection")
def collection() -> Response:
    return page("collection")
