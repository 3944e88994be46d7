"""Settings: environment variables, the instance file, the generated secret, bad values."""

import stat
from pathlib import Path

import pytest

from webapp import config
from webapp.config import ConfigError


def test_defaults_use_sqlite_in_the_instance_folder(tmp_path: Path) -> None:
    settings = config.load({}, instance_path=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'regulars.sqlite3'}"
    assert settings.base_url == "http://127.0.0.1:5000"
    assert settings.redis_url is None


def test_secret_is_generated_once_and_private(tmp_path: Path) -> None:
    first = config.load({}, instance_path=tmp_path).secret_key
    second = config.load({}, instance_path=tmp_path).secret_key
    assert first == second and len(first) >= 32
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_environment_wins_over_instance_file(tmp_path: Path) -> None:
    (tmp_path / "config.py").write_text(
        'REGULARS_BASE_URL = "https://file.example"\nSMS_SENDER = "Garage"\n')
    settings = config.load({"REGULARS_BASE_URL": "https://env.example/"}, instance_path=tmp_path)
    assert settings.base_url == "https://env.example"
    assert settings.extra["SMS_SENDER"] == "Garage"
    assert config.load({}, instance_path=tmp_path).base_url == "https://file.example"


@pytest.mark.parametrize(("name", "value", "named"), [
    ("REGULARS_DATABASE_URL", "mysql://x", "REGULARS_DATABASE_URL"),
    ("REGULARS_DATABASE_URL", "postgresql://x", "REGULARS_DATABASE_URL"),
    ("REGULARS_BASE_URL", "ftp://x", "REGULARS_BASE_URL"),
    ("REGULARS_BASE_URL", "not a url", "REGULARS_BASE_URL"),
    ("REGULARS_REDIS_URL", "http://127.0.0.1", "REGULARS_REDIS_URL"),
    ("REGULARS_SECRET_KEY", "short", "REGULARS_SECRET_KEY"),
])
def test_a_wrong_setting_names_itself(tmp_path: Path, name: str, value: str, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        config.load({name: value}, instance_path=tmp_path)


def test_postgres_and_redis_urls_are_accepted(tmp_path: Path) -> None:
    settings = config.load({
        "REGULARS_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/x",
        "REGULARS_REDIS_URL": "redis://127.0.0.1:6379/0",
        "REGULARS_SECRET_KEY": "s" * 40,
    }, instance_path=tmp_path)
    assert not settings.is_sqlite
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert not (tmp_path / "secret_key").exists()

