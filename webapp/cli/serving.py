"""``regulars serve``: gunicorn with the app built inside each worker.

The ``regulars`` command line runs every command under an application context of its
own app. A gunicorn master started from there would hand that context to each forked
worker, where it outlives every request: Flask reuses an app context that is already
pushed, so ``g`` (Flask-Login's signed-in user, Flask-WTF's CSRF token) would carry
over from one person's request to the next. So the master runs in an empty
``contextvars.Context`` and each worker builds its own app in gunicorn's ``load()``,
after the fork: no request ever sees anything a previous one left behind.

The logs go through :class:`webapp.safe_log.SafeLogger`: request paths without query
strings or secret segments (the texted wallet link's token, invitation tokens).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from webapp.safe_log import SafeLogger


class Server(BaseApplication):
    """gunicorn serving ``make_app()``, called once in every worker after the fork."""

    def __init__(self, make_app: Callable[[], Flask], options: dict[str, Any]) -> None:
        self.make_app = make_app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self) -> Flask:
        return self.make_app()


def serve(make_app: Callable[[], Flask], host: str, port: int, workers: int) -> None:
    """Serve until stopped (Ctrl+C or SIGTERM); nothing of the caller's context leaks in."""
    options = {"bind": f"{host}:{port}", "workers": workers, "accesslog": "-",
               "logger_class": SafeLogger, "preload_app": False,
               # gunicorn 27's control socket: one fixed path per user ($HOME/.gunicorn),
               # shared by every server on the machine, and a way in we never use.
               "control_socket_disable": True}
    contextvars.Context().run(Server(make_app, options).run)
