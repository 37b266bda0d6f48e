"""The API's contract: an OpenAPI 3.1 document served at /openapi.json and rendered at /docs.

`operations` declares every route once (the one place to describe a route), `schemas` the
shapes of bodies and answers, `document` assembles them with the option declarations and the
error codes, and `docs` serves both. `tests/test_openapi.py` checks that the document and the
app's routes are the same set, and fuzzes a real server from it.
"""

from service.web.openapi.document import document

__all__ = ["document"]
