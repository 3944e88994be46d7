"""Settings from ``REGULARS_*`` environment variables and an optional instance/config.py.

A wrong setting stops start-up with a message that names it. With no secret key
given, one is generated once and kept in ``instance/secret_key`` (mode 0600).
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the setting."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    base_url: str
    redis_url: str | None = None
    instance_path: Path = PROJECT_ROOT / "instance"
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load(environ: Mapping[str, str] | None = None, instance_path: Path | None = None,
         overrides: Mapping[str, Any] | None = None) -> Settings:
    """Read and validate the settings; ``overrides`` (tests) win over the environment."""
    env = dict(os.environ if environ is None else environ)
    instance = Path(
        (overrides or {}).get("INSTANCE_PATH")
        or env.get("REGULARS_INSTANCE_PATH")
        or instance_path
        or PROJECT_ROOT / "instance"
    )
    values: dict[str, Any] = _instance_file(instance)
    values.update({k[len("REGULARS_"):]: v for k, v in env.items() if k.startswith("REGULARS_")})
    values.update(overrides or {})

    database_url = str(values.get("DATABASE_URL") or f"sqlite:///{instance / 'regulars.sqlite3'}")
    _check_database_url(database_url)
    base_url = str(values.get("BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"REGULARS_BASE_URL must be an http(s) URL, got {base_url!r}.")
    redis_url = values.get("REDIS_URL") or None
    if redis_url and urlsplit(str(redis_url)).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(f"REGULARS_REDIS_URL must be a redis:// URL, got {redis_url!r}.")
    secret = values.get("SECRET_KEY") or _stored_secret(instance)
    if len(str(secret)) < 32:
        raise ConfigError("REGULARS_SECRET_KEY must be at least 32 characters long.")
    known = {"DATABASE_URL", "BASE_URL", "REDIS_URL", "SECRET_KEY", "INSTANCE_PATH"}
    return Settings(
        database_url=database_url,
        secret_key=str(secret),
        base_url=base_url,
        redis_url=str(redis_url) if redis_url else None,
        instance_path=instance,
        extra={k: v for k, v in values.items() if k not in known},
    )


def _check_database_url(url: str) -> None:
    scheme = url.split(":", 1)[0]
    if scheme not in ("sqlite", "postgresql+psycopg"):
        raise ConfigError(
            "REGULARS_DATABASE_URL must start with sqlite:/// or postgresql+psycopg://,"
            f" got {scheme!r}."
        )


def _instance_file(instance: Path) -> dict[str, Any]:
    path = instance / "config.py"
    if not path.exists():
        return {}
    namespace: dict[str, Any] = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)  # the operator's own file
    return {
        k.removeprefix("REGULARS_"): v for k, v in namespace.items() if k.isupper()
    }


def _stored_secret(instance: Path) -> str:
    """The generated secret kept in instance/, made on first start with mode 0600."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret
