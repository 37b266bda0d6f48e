"""The floor for HTTP benchmarks: a trivial Flask app under the same server as the service.

    .venv/bin/python bench/floor_app.py --port 8001 [--workers 2] [--threads 4]

Every path but /healthz answers a fixed list of 5 related items, shaped like the service's
items; /healthz answers `{"ok": true}`. It runs under `service.web.server` with the same settings
(worker model, workers, threads, timeouts), so the difference between the two is the work a
request of the service does, not the web stack.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.config.settings import load_settings  # noqa: E402
from service.web.server import serve  # noqa: E402

ITEMS: list[dict[str, Any]] = [
    {
        "id": f"2024-01-0{i}-an-article-about-things-{i}",
        "title": f"An article about things, part {i}",
        "url": f"https://blog.example/2024/01/0{i}/an-article-about-things-{i}",
        "published": f"2024-01-0{i}",
        "section": "Technical Guide",
        "tags": ["things", "more things"],
        "lang": "en",
        "score": 10.0 - i,
    }
    for i in range(1, 6)
]


def create_floor_app() -> Flask:
    app = Flask("floor")
    app.json.sort_keys = False  # type: ignore[attr-defined]

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(ok=True)

    @app.get("/<path:anything>")
    def related(anything: str) -> Response:
        return jsonify(ok=True, related=ITEMS)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    # The same settings as `related serve` (its RELATED_* environment included).
    settings = load_settings(port=args.port, workers=args.workers, threads=args.threads)
    serve(settings, create_floor_app)


if __name__ == "__main__":
    main()
