"""A missing or wrong ``REGULARS_APNS_CA_FILE``: the real ``regulars worker`` and
``regulars wallet check`` name the setting in plain words, Apple pushes stay off, and
the worker still sends everything else."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.integration.wallet.pki import PKI
from tests.serving import regulars_run
from wallet.apple import apns
from webapp.config import ConfigError
from webapp.persistence.models import OutboxMessage
from webapp.services.notify import outbox
from webapp.services.notify.wallet_updates import APNS

PHONE = "+79161112233"


def missing(tmp_path: Path, pki: PKI) -> Path:
    return tmp_path / "no-such-ca.pem"


def not_pem(tmp_path: Path, pki: PKI) -> Path:
    path = tmp_path / "ca.pem"
    path.write_text("this is not a certificate\n")
    return path


def a_key(tmp_path: Path, pki: PKI) -> Path:
    return Path(pki.key_pem)  # PEM, but a private key, not a certificate


def a_folder(tmp_path: Path, pki: PKI) -> Path:
    return tmp_path


BAD = pytest.mark.parametrize("bad", [missing, not_pem, a_key, a_folder],
                              ids=lambda f: f.__name__)


def settings(apple_extra: dict[str, str], ca_file: Path) -> dict[str, str]:
    return {f"REGULARS_{name}": value for name, value in apple_extra.items()} | {
        "REGULARS_APNS_CA_FILE": str(ca_file)}


@BAD
def test_the_tls_context_names_the_setting(bad: Callable[[Path, PKI], Path], tmp_path: Path,
                                           apple_pki: PKI) -> None:
    ca_file = bad(tmp_path, apple_pki)
    with pytest.raises(ConfigError, match="REGULARS_APNS_CA_FILE") as raised:
        apns.tls_context(ca_file=ca_file)
    assert str(ca_file) in str(raised.value)


@pytest.mark.slow
@pytest.mark.parametrize("bad", [missing, not_pem], ids=lambda f: f.__name__)
def test_the_worker_sends_the_sms_and_leaves_the_pushes_waiting(
        bad: Callable[[Path, PKI], Path], fresh_engine: Engine, tmp_path: Path,
        apple_pki: PKI, apple_extra: dict[str, str]) -> None:
    with Session(fresh_engine) as db:
        outbox.enqueue_sms(db, phone=PHONE, text="Ваш автомобиль готов")
        outbox.enqueue(db, kind=APNS, payload={"registration": 1})
        db.commit()
    url = fresh_engine.url.render_as_string(hide_password=False)
    done = regulars_run("worker", "--once", database_url=url, instance=tmp_path / "instance",
                        env=settings(apple_extra, bad(tmp_path, apple_pki)))
    said = done.stdout + done.stderr
    assert done.returncode == 0, said
    assert "Traceback" not in said
    assert "Apple Wallet pushes are off: REGULARS_APNS_CA_FILE" in done.stderr, said
    assert f"SMS to {PHONE}: Ваш автомобиль готов" in done.stderr  # the console gateway
    assert "sent 1, retried 1, failed 0" in done.stdout
    with Session(fresh_engine) as db:
        statuses = dict(db.execute(select(OutboxMessage.kind, OutboxMessage.status)).all())
    assert statuses == {"sms": "sent", APNS: "pending"}  # the push waits for a fixed setting


@pytest.mark.slow
@pytest.mark.parametrize("bad", [missing, not_pem], ids=lambda f: f.__name__)
def test_wallet_check_names_the_setting(bad: Callable[[Path, PKI], Path], fresh_engine: Engine,
                                        tmp_path: Path, apple_pki: PKI,
                                        apple_extra: dict[str, str]) -> None:
    ca_file = bad(tmp_path, apple_pki)
    url = fresh_engine.url.render_as_string(hide_password=False)
    checked = regulars_run("wallet", "check", database_url=url, instance=tmp_path / "instance",
                           env=settings(apple_extra, ca_file))
    said = checked.stdout + checked.stderr
    assert checked.returncode == 1, said
    assert "Traceback" not in said
    assert checked.stdout.startswith("Apple Wallet: 1 problem:\n  - APNs: REGULARS_APNS_CA_FILE")
    assert str(ca_file) in checked.stdout
