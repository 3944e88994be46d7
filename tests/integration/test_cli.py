"""The ``regulars`` command: business and staff creation, check-ledger, serve, worker, bad
config."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.serving import REGULARS, regulars_run, regulars_serve, serve_env
from webapp.domain.actor import Actor
from webapp.persistence.database import make_engine
from webapp.persistence.models import Business, OutboxMessage, StaffUser
from webapp.services.business import setup as businesses
from webapp.services.customers import accounts as customers
from webapp.services.ledger import operations as ledger
from webapp.services.notify import outbox


def test_create_business_and_staff(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-business", "--name", "Шиномонтаж", "--branch", "Юг",
                                 "--branch", "Запад"])
    assert result.exit_code == 0, result.output
    db = app.test_session()
    business = db.scalars(select(Business).where(Business.name == "Шиномонтаж")).one()
    result = runner.invoke(args=["create-staff", "--business", str(business.id), "--login",
                                 "olga", "--role", "manager"],
                           input="a long password\na long password\n")
    assert result.exit_code == 0, result.output
    member = db.scalars(select(StaffUser).where(StaffUser.login == "olga")).one()
    assert member.role == "manager" and "a long password" not in member.password_hash


def test_create_staff_never_takes_the_password_as_an_argument(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["create-staff", "--business", "1", "--login",
                                                "x", "--role", "owner", "--password", "secret"])
    assert result.exit_code != 0 and "No such option" in result.output


def test_bad_input_is_a_clean_message_in_the_business_language(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["create-business", "--name", "X",
                                                "--currency", "XYZ"])
    assert result.exit_code != 0
    assert "«XYZ» — не код валюты ISO 4217." in result.output
    assert "Traceback" not in result.output
    english = app.test_cli_runner().invoke(args=["create-business", "--name", "X",
                                                 "--currency", "XYZ", "--locale", "en_GB"])
    assert english.exit_code != 0
    assert '"XYZ" is not an ISO 4217 currency code.' in english.output


def test_check_ledger_passes_then_finds_a_corrupted_balance(app: Flask) -> None:
    db = app.test_session()
    with app.app_context():
        business = businesses.create_business(db, name="Гараж")
        actor = Actor.system(business.id)
        customer = customers.join(db, actor, phone="+79161112233").customer
        ledger.accrue(db, actor, "cli-test-accrual", customer_id=customer.id, points=100)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["check-ledger"])
    assert result.exit_code == 0, result.output
    assert "All invariants hold." in result.output
    # Balances are caches: corrupt one behind the ledger's back.
    db.execute(text("UPDATE accounts SET balance = balance + 1 WHERE kind = 'available'"))
    result = runner.invoke(args=["check-ledger"])
    assert result.exit_code == 1
    assert "FAIL I2" in result.output and "FAIL I8" in result.output


def test_wrong_setting_stops_start_up_naming_it(tmp_path: Path) -> None:
    result = regulars_run("check-ledger", database_url="mysql://localhost/x",
                          instance=tmp_path)
    assert result.returncode == 2
    assert "REGULARS_DATABASE_URL" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_db_upgrade_and_serve_with_gunicorn(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'serve.sqlite3'}"
    assert regulars_run("db", "upgrade", database_url=database_url,
                        instance=tmp_path).returncode == 0
    with regulars_serve(database_url, tmp_path, workers=1) as served:
        assert requests.get(f"{served.url}/healthz", timeout=5).status_code == 200
        assert "Regulars" in requests.get(f"{served.url}/", timeout=5).text


def test_worker_once_sends_the_outbox(app: Flask) -> None:
    db = app.test_session()
    outbox.enqueue_sms(db, phone="+79161112233", text="Ваш автомобиль готов")
    outbox.enqueue(db, kind="pigeon", payload={})
    db.commit()
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "sent 1, retried 1, failed 0" in result.output
    assert app.extensions["regulars_sms"].last_to("+79161112233") == "Ваш автомобиль готов"
    statuses = db.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id)).all()
    assert statuses == ["sent", "pending"]


@pytest.mark.slow
def test_worker_loops_until_sigterm_and_exits_cleanly(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'worker.sqlite3'}"
    assert regulars_run("db", "upgrade", database_url=database_url,
                        instance=tmp_path).returncode == 0
    worker = subprocess.Popen([REGULARS, "worker", "--interval", "0.1"],
                              env=serve_env(database_url, tmp_path), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline().startswith("Worker started")
        # Written after the worker started: the loop picks it up on a later batch.
        engine = make_engine(database_url)
        with Session(engine) as db:
            outbox.enqueue_sms(db, phone="+79161112233", text="Привет")
            db.commit()
        engine.dispose()
        assert worker.stdout.readline().strip() == "sent 1, retried 0, failed 0"
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=20)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0, err
    assert "Worker stopped." in out and "Traceback" not in err
    assert "SMS to +79161112233: Привет" in err  # the console gateway's log line
