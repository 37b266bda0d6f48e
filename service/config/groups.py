"""The settings of the server and of builds beyond one machine, as groups `Settings` inherits.

Declared like every setting (a default and a `doc` per field; see `service.config.settings`), kept apart
only so that no module grows past what one reader holds in mind.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def _doc(text: str) -> dict[str, str]:
    return {"doc": text}


@dataclass(frozen=True)
class ServerSettings:
    """`related serve`: where it listens, its workers, its timeouts, caches and log."""

    host: str = field(default="127.0.0.1", metadata=_doc("Address `related serve` binds to."))
    port: int = field(default=8000, metadata=_doc("Port `related serve` listens on."))
    workers: int = field(default=2, metadata=_doc("Server worker processes."))
    threads: int = field(default=4, metadata=_doc("Threads per server worker."))
    api_token: str = field(
        default="", metadata=_doc("When set, write endpoints need `Authorization: Bearer <token>`.")
    )
    max_body_bytes: int = field(
        default=16 * 1024 * 1024,
        metadata=_doc("Largest request body accepted (bytes); larger gets 413."),
    )
    preload_model: bool = field(
        default=True,
        metadata=_doc(
            "Load the model in the background when a server worker starts, so live answers are fast."
        ),
    )
    live_encodings: int = field(
        default=2,
        metadata=_doc(
            "Encodings of articles newer than the index (and drafts) that may run at once per server worker; more get 503 `live_busy` with `Retry-After`."
        ),
    )
    log_level: str = field(default="INFO", metadata=_doc("Logging level of the server and CLI."))
    access_log: str = field(
        default="text",
        metadata=_doc(
            "One line per request on the server's log: text, json (one JSON object a line) or off."
        ),
    )
    header_timeout: float = field(
        default=10.0,
        metadata=_doc(
            "Seconds a client has to send a request's line and headers (from connecting, or from its first byte on a kept-alive connection); then 408."
        ),
    )
    body_timeout: float = field(
        default=30.0,
        metadata=_doc(
            "Seconds a client has to send a request's body once its headers arrived, and to read an answer; then 408 or the connection is dropped."
        ),
    )
    keepalive: float = field(
        default=5.0,
        metadata=_doc(
            "Seconds an idle kept-alive connection stays open (0: close after each answer)."
        ),
    )
    max_connections: int = field(
        default=1000,
        metadata=_doc("Open connections per server worker; more are answered 503 at once."),
    )
    cache_seconds: int = field(
        default=60,
        metadata=_doc(
            "max-age of `Cache-Control` on related lists: how long browsers and CDNs may reuse an answer before revalidating it with its ETag (0: always revalidate)."
        ),
    )
    cors_origins: str = field(
        default="",
        metadata=_doc(
            "Comma-separated origins allowed to call the API from a browser (CORS), or `*` for any; empty: CORS off."
        ),
    )
    article_cache: int = field(
        default=50_000,
        metadata=_doc(
            "Articles (without their body) each server worker keeps in memory for related lists; changes in the store reach it at once."
        ),
    )
    article_cache_bytes: int = field(
        default=64 << 20,
        metadata=_doc(
            "Bytes those cached articles may hold in each server worker, estimated (least recently used out first; 0: no article cache), and a quarter as much again their display fields as the JSON text ranked answers join."
        ),
    )
    response_cache: int = field(
        default=10_000,
        metadata=_doc(
            "Related-list answers each server worker keeps, per URL, until the index or the store changes (0: off)."
        ),
    )
    response_cache_bytes: int = field(
        default=64 << 20,
        metadata=_doc(
            "Bytes those cached answers may hold in each server worker (body and gzipped copy, estimated; least recently used out first; an answer over an eighth of it is not kept; 0: off)."
        ),
    )
    auto_rebuild: float = field(
        default=60.0,
        metadata=_doc(
            "Seconds without article writes after which the server rebuilds the index by itself when articles changed since the last build (0: never; then `related build` or POST /index/rebuild)."
        ),
    )


@dataclass(frozen=True)
class ClusterSettings:
    """Builds on a Ray cluster, the encoding device, and publishing to read replicas."""

    device: str = field(
        default="cpu",
        metadata=_doc(
            "Device the model encodes on: `cpu`, `cuda` (the first GPU), `cuda:1`, `mps`; with RELATED_ENGINE=ray, on every encoding worker."
        ),
    )
    engine: str = field(
        default="local",
        metadata=_doc(
            "Where `related build` encodes and ranks: `local` (this process) or `ray` (a Ray cluster; needs the `ray` extra)."
        ),
    )
    ray_address: str = field(
        default="",
        metadata=_doc(
            "The Ray cluster a `ray` build runs on (`host:6379`, `ray://host:10001`); unset: RAY_ADDRESS, else a Ray started on this machine for the build."
        ),
    )
    ray_workers: int = field(
        default=0,
        metadata=_doc(
            "Encoding workers of a `ray` build, each with its own copy of the model; 0: one per CPU of the cluster (per GPU with RELATED_DEVICE=cuda)."
        ),
    )
    publish: str = field(
        default="",
        metadata=_doc(
            "Where builds publish each generation for read replicas: a shared directory or an fsspec URL (`s3://bucket/related`); `related serve` also publishes pins and blocks there."
        ),
    )
    follow: str = field(
        default="",
        metadata=_doc(
            "Run `related serve` as a read replica of this published location: it serves the generations published there and refuses writes."
        ),
    )
    primary_url: str = field(
        default="",
        metadata=_doc(
            "On a read replica, the primary's URL, named in the error that refuses writes."
        ),
    )
    sync_interval: float = field(
        default=5.0,
        metadata=_doc(
            "Seconds between a replica's checks for a new generation or editorial change, and between the primary's checks for editorial changes to publish."
        ),
    )


@dataclass(frozen=True)
class MeasurementSettings:
    """Impressions and clicks (`POST /events`, `/go/...`) and A/B experiments."""

    events: bool = field(
        default=True,
        metadata=_doc(
            "Record impressions and clicks (`POST /events`, `GET /go/...`); off: they still answer (and `/go` redirects) but nothing is stored."
        ),
    )
    events_db: str = field(
        default="",
        metadata=_doc(
            "The events SQLite file; unset: `events.sqlite3` in the data directory (beside the store, never in it)."
        ),
    )
    events_retention_days: float = field(
        default=180.0,
        metadata=_doc("Days an event is kept; older ones are deleted by the events writer."),
    )
    events_max_rows: int = field(
        default=5_000_000,
        metadata=_doc(
            "Most events kept (about 150 bytes each): when full, new events are dropped (and counted) until retention frees room."
        ),
    )
    events_rate: float = field(
        default=20.0,
        metadata=_doc(
            "Events per second one client address may send to a server worker (a token bucket holding 10 seconds' worth); more are dropped."
        ),
    )
    events_global_rate: float = field(
        default=2000.0,
        metadata=_doc(
            "Events per second a server worker accepts from all clients together (bucket of 10 seconds' worth); more are dropped."
        ),
    )
    click_tracking: bool = field(
        default=False,
        metadata=_doc(
            "Links in the HTML fragment go through `/go/<source>/<target>`, which records the click and redirects to the target's stored URL."
        ),
    )
    bot_patterns: str = field(
        default="bot,crawl,spider,slurp,preview,facebookexternalhit,lighthouse,pingdom,monitor,curl,wget,python-requests,go-http-client,java/",
        metadata=_doc(
            "Comma-separated User-Agent substrings (case ignored) whose events are dropped as bots; an empty User-Agent is a bot too."
        ),
    )
