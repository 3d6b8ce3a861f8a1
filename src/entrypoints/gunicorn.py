"""Production serving: gunicorn with the application factory."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from entrypoints.app import create_app

        return create_app()


def serve_with_gunicorn(*, host: str, port: int, workers: int, unix_socket: str | None = None) -> None:
    _Gunicorn(
        {
            "bind": f"unix:{unix_socket}" if unix_socket else f"{host}:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": 4,
            "timeout": 120,
            "graceful_timeout": 30,
            "accesslog": None,
        }
    ).run()
