"""CLI commands (``regulars ...``); thin: parse, call a service, print."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    pass
