"""HTTP: the server and its workers, the app and routes, caching, CORS, access log, metrics, OpenAPI."""
