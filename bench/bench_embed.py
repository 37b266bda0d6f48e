"""The embed in a real browser: how long from the box scrolling into view to the list on screen.

    .venv/bin/python bench/bench_embed.py [--views 30] [--model hashing]

Builds the bundled sample in a temporary directory (the model-free `hashing` encoder unless
`--model` says otherwise), starts `related serve` (one worker, CORS allowing the host page's
origin) and a host site on another loopback port, then opens `--views` pages in Debian's
Chromium (Playwright), each a different article in a fresh browser context (no cache: a
reader's first view). Per view it measures, in the page, the time from scrolling the box into
view to the `related:rendered` event, and the list request's own duration (Resource Timing);
the difference is what the script adds to its one round trip, most of it the wait
for the browser to report the intersection (measured too: scroll to the request's start). Also the script's size raw and
as served gzipped. Prints the figures and the machine. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import describe_machine, machine, percentiles  # noqa: E402
from service.build.builder import build  # noqa: E402
from service.config.settings import load_settings  # noqa: E402
from service.ingest.files import read_records  # noqa: E402
from service.ingest.load import ingest  # noqa: E402
from service.services import make_encoder  # noqa: E402
from service.store import ArticleStore  # noqa: E402
from service.web.embed.script import SCRIPT  # noqa: E402
from service.web.server import free_port, spawn  # noqa: E402

SAMPLE = ROOT / "service" / "sample" / "articles.jsonl"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
MEASURE = """async () => {
  const box = document.querySelector('[data-related-article]');
  const done = new Promise(resolve => box.addEventListener('related:rendered', resolve));
  const start = performance.now();
  box.scrollIntoView();
  await done;
  const total = performance.now() - start;
  const fetched = performance.getEntriesByType('resource').find(e => e.name.includes('/related?'));
  return {total, request: fetched ? fetched.duration : null,
          before: fetched ? fetched.startTime - start : null};
}"""


def page_for(service: str, article_id: str) -> str:
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>x</title></head>
<body><div style="height: 3000px">story</div>
<div data-related-article="{article_id}" data-k="5"></div>
<script src="{service}/embed.js"></script></body></html>"""


def host(pages: dict[str, str]) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = pages.get(self.path, "").encode()
            self.send_response(200 if data else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--views", type=int, default=30)
    parser.add_argument("--model", default="hashing")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        settings = load_settings(
            environ={}, data_dir=data_dir, preload_model=False, model=args.model
        )
        with ArticleStore(settings.db_path) as store:
            ingest(store, read_records(SAMPLE))
            build(settings, store, make_encoder(settings))
            ids = [s.article.id for s in store.iter_articles()]
        pages: dict[str, str] = {}
        site, origin = host(pages)
        env = {"RELATED_MODEL": args.model, "RELATED_CORS_ORIGINS": origin}
        process, service = spawn(data_dir, workers=1, env=env)
        try:
            raw = len(SCRIPT.read_bytes())
            served = requests.get(
                service + "/embed.js", headers={"Accept-Encoding": "gzip"}, stream=True, timeout=60
            )
            gzipped = len(served.raw.read(decode_content=False))
            totals: list[float] = []
            fetches: list[float] = []
            before: list[float] = []
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                for view in range(args.views):
                    article_id = ids[view % len(ids)]
                    pages[f"/{view}"] = page_for(service, article_id)
                    context = browser.new_context()
                    page = context.new_page()
                    page.goto(f"{origin}/{view}", wait_until="load")
                    measured = page.evaluate(MEASURE)
                    context.close()
                    if view == 0:
                        continue  # the worker's first answer warms its caches: not a reader's view
                    totals.append(measured["total"])
                    if measured["request"] is not None:
                        fetches.append(measured["request"])
                        before.append(measured["before"])
                browser.close()
        finally:
            process.terminate()
            process.wait()
            site.shutdown()
    overhead = [t - f for t, f in zip(totals, fetches, strict=False)]
    print(f"embed.js: {raw:,} bytes, {gzipped:,} bytes gzipped as served")
    print(f"views: {len(totals)} (each a different article, a fresh browser context)")
    print(f"scroll into view -> list rendered: {percentiles(totals)}")
    print(f"scroll -> the request starts:     {percentiles(before)}")
    print(f"the list request alone:           {percentiles(fetches)}")
    print(
        f"added by the script (median):     {statistics.median(overhead):.1f} ms"
        if overhead
        else "added by the script: n/a"
    )
    print(describe_machine(machine()))


if __name__ == "__main__":
    main()
