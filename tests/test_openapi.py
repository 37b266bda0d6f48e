"""The contract (`service.web.openapi`): a valid OpenAPI 3.1 document that describes every route of
the app and nothing else, every error code, the token rule, and a /docs page that loads nothing
from outside the package."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from embeddings.hashing import HashingEncoder
from service.errors import ERROR_CODES, RelatedError
from service.web.app import create_app
from service.web.openapi.operations import ASSETS, OPERATIONS
from tests.conftest import HEATWAVE, make_settings

HTTP_API = Path(__file__).resolve().parent.parent / "docs" / "http-api.md"
METHODS = {"GET", "POST", "PUT", "DELETE", "PATCH"}
CONVERTER = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")


def openapi_paths(rule: str) -> list[str]:
    """A Flask rule as the OpenAPI paths it serves: `<path:x>` is `{x}`, and an `any(a, b)`
    converter one path per choice."""
    match = CONVERTER.search(rule)
    if match is None:
        return [rule]
    converter, arguments, name = match.groups()
    head, tail = rule[: match.start()], rule[match.end() :]
    if converter == "any":
        choices = [c.strip().strip("'\"") for c in (arguments or "").split(",")]
        return [path for c in choices for path in openapi_paths(head + c + tail)]
    return [head + "{" + name + "}" + rest for rest in openapi_paths(tail)]


def app_routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (method, path)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) & METHODS
        for path in openapi_paths(rule.rule)
    }


@pytest.fixture
def app(sample_dir: Path, hashing: HashingEncoder) -> Flask:
    return create_app(make_settings(sample_dir), encoder=hashing)


def test_the_document_is_valid_openapi_3_1(app: Flask) -> None:
    document = app.test_client().get("/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_route_of_the_app_is_in_the_document_and_nothing_else(app: Flask) -> None:
    document = app.test_client().get("/openapi.json").get_json()
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    routes = app_routes(app)
    assert routes - documented == set(), "routes missing from service/web/openapi/operations.py"
    assert documented - routes == set(), "documented operations the app does not have"


def test_the_route_check_sees_a_missing_route(app: Flask) -> None:
    app.add_url_rule("/undocumented/<path:thing>", "extra", lambda thing: "", methods=["GET"])
    assert ("GET", "/undocumented/{thing}") in app_routes(app)
    assert "/undocumented/{thing}" not in app.test_client().get("/openapi.json").get_json()["paths"]


def test_every_error_code_is_declared_and_in_the_errors_table() -> None:
    def subclasses(cls: type[RelatedError]) -> list[type[RelatedError]]:
        return [cls, *(s for sub in cls.__subclasses__() for s in subclasses(sub))]

    # Every module that defines errors is imported by the app or the CLI.
    import service.cli
    import service.editorial.link_files

    declared = {(status, code) for status, code, _ in ERROR_CODES}
    raised = {(cls.status, cls.code) for cls in subclasses(RelatedError)}
    assert raised - declared == set(), "add these to service.errors.ERROR_CODES"
    errors_section = (
        HTTP_API.read_text(encoding="utf-8").split("\n## Errors\n")[1].split("\n## ")[0]
    )
    missing = [code for _, code, _ in ERROR_CODES if f"`{code}`" not in errors_section]
    assert missing == [], "the errors table of docs/http-api.md lacks these"
    assert service  # the package itself, for the walk above


def test_writes_need_the_token_and_reads_do_not_as_documented(
    sample_dir: Path, hashing: HashingEncoder
) -> None:
    client = create_app(make_settings(sample_dir, api_token="s3cret"), encoder=hashing)
    test: FlaskClient = client.test_client()
    for operation in OPERATIONS:
        path = operation.path.replace("{article_id}", HEATWAVE).replace("{name}", "x")
        body: Any = {} if operation.body is not None else None
        response = test.open(path, method=operation.method, json=body)
        assert (response.status_code == 401) == operation.write, (operation.method, path)


def test_the_docs_page_loads_only_files_shipped_with_the_package(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html  # no CDN
    referenced = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {r.split("/")[-1] for r in referenced if r.startswith("docs/")} == set(ASSETS)
    for name, mimetype in ASSETS.items():
        with client.get(f"/docs/assets/{name}") as asset:
            assert asset.status_code == 200 and asset.mimetype == mimetype and asset.data
    assert client.get("/docs/assets/../../setup.py").status_code == 404


def test_option_parameters_come_from_the_declarations(app: Flask) -> None:
    from service.config.options import DECLARATIONS

    document = app.test_client().get("/openapi.json").get_json()
    get = document["paths"]["/articles/{article_id}/related"]["get"]
    names = [p["name"] for p in get["parameters"] if p["in"] == "query"]
    assert names == [d.name for d in DECLARATIONS]
    body = document["components"]["schemas"]["Options"]["properties"]
    assert list(body) == names and body["k"]["type"] == "integer"
