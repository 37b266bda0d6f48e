"""`related serve`: the app under gunicorn (threaded workers), never Flask's development server."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from service.config import Settings


class RelatedServer(BaseApplication):  # type: ignore[misc]
    """Each worker builds its own app (no preload), so each gets its own SQLite connections and
    memory maps after the fork; the maps share one page-cache copy of the index."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        options: dict[str, Any] = {
            "bind": f"{self.settings.host}:{self.settings.port}",
            "workers": self.settings.workers,
            "threads": self.settings.threads,
            "worker_class": "gthread",
            # A worker's first live answer may load the model: allow for it.
            "timeout": 120,
            "graceful_timeout": 20,
            "loglevel": self.settings.log_level.lower(),
            "accesslog": None,
            "errorlog": "-",
            "proc_name": "related-articles",
            # gunicorn >= 25 opens a control socket at one shared path per user: several servers
            # (tests, or one per site) would fight over it, and we manage workers ourselves.
            "control_socket_disable": True,
        }
        for key, value in options.items():
            if key in self.cfg.settings:  # older gunicorn lacks some of these
                self.cfg.set(key, value)

    def load(self) -> Any:
        from service.app import create_app

        return create_app(self.settings)


def serve(settings: Settings) -> None:
    RelatedServer(settings).run()
