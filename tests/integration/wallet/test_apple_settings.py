"""Apple Wallet settings: off when unset, and every way the certificates can be wrong
said in plain words."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.wallet.pki import KEY_PASSWORD, PKI, new_key
from wallet.apple import settings as apple
from webapp.config import ConfigError

NOW = datetime.now(UTC)


def one_problem(extra: dict[str, Any]) -> str:
    found = apple.problems(extra)
    assert len(found) == 1, found
    with pytest.raises(ConfigError):
        apple.load(extra)
    return found[0]


def test_nothing_set_means_apple_wallet_is_off() -> None:
    assert not apple.configured({})
    assert apple.problems({}) == []
    assert apple.load({"SMS_BACKEND": "console", "APPLE_TEAM_ID": "  "}) is None


def test_the_test_pki_is_ready(apple_extra: dict[str, str], apple_pki: PKI) -> None:
    assert apple.problems(apple_extra) == []
    loaded = apple.load(apple_extra)
    assert loaded is not None
    assert (loaded.pass_type_id, loaded.team_id) == (apple_pki.pass_type_id, apple_pki.team_id)
    assert loaded.apns_url == "https://api.push.apple.com"
    assert loaded.cert_path == apple_pki.cert_pem and loaded.key_password is None
    assert "private_key" not in repr(loaded)
    pointed = apple.load({**apple_extra, "APNS_URL": "https://127.0.0.1:8443/"})
    assert pointed is not None and pointed.apns_url == "https://127.0.0.1:8443"


def test_missing_settings_are_named(apple_extra: dict[str, str]) -> None:
    del apple_extra["APPLE_TEAM_ID"], apple_extra["APPLE_PASS_KEY"]
    found = apple.problems(apple_extra)
    assert any(p.startswith("REGULARS_APPLE_TEAM_ID is not set") for p in found)
    assert any(p.startswith("REGULARS_APPLE_PASS_KEY is not set") for p in found)
    with pytest.raises(ConfigError, match="REGULARS_APPLE_TEAM_ID"):
        apple.load(apple_extra)


def test_an_expired_certificate(apple_extra: dict[str, str], apple_pki: PKI) -> None:
    apple_extra["APPLE_PASS_CERT"] = str(apple_pki.issue(
        "expired", not_before=NOW - timedelta(days=400), not_after=NOW - timedelta(days=2)))
    problem = one_problem(apple_extra)
    assert problem.startswith("The pass certificate expired on")
    assert (NOW - timedelta(days=2)).strftime("%Y-%m-%d") in problem


def test_a_certificate_not_valid_yet(apple_extra: dict[str, str], apple_pki: PKI) -> None:
    apple_extra["APPLE_PASS_CERT"] = str(apple_pki.issue(
        "future", not_before=NOW + timedelta(days=3), not_after=NOW + timedelta(days=400)))
    assert one_problem(apple_extra).startswith("The pass certificate is not valid yet")


def test_expiry_is_judged_at_the_given_time(apple_extra: dict[str, str]) -> None:
    later = apple.problems(apple_extra, NOW + timedelta(days=366))
    assert any(p.startswith("The pass certificate expired on") for p in later)


def test_a_wrong_team_id(apple_extra: dict[str, str], apple_pki: PKI) -> None:
    apple_extra["APPLE_TEAM_ID"] = "ZZZZZZZZZZ"
    assert one_problem(apple_extra) == (
        f"REGULARS_APPLE_TEAM_ID is 'ZZZZZZZZZZ', but the certificate belongs to the team"
        f" {apple_pki.team_id!r}.")


def test_a_wrong_pass_type_id(apple_extra: dict[str, str], apple_pki: PKI) -> None:
    apple_extra["APPLE_PASS_TYPE_ID"] = "pass.test.other"
    assert one_problem(apple_extra) == (
        "REGULARS_APPLE_PASS_TYPE_ID is 'pass.test.other', but the certificate is for the"
        f" pass type ID {apple_pki.pass_type_id!r}.")


def test_a_certificate_for_another_team_and_pass_type(apple_extra: dict[str, str],
                                                      apple_pki: PKI) -> None:
    apple_extra["APPLE_PASS_CERT"] = str(apple_pki.issue(
        "other-team", uid="pass.test.elsewhere", team_id="QQQQQQQQQQ"))
    found = apple.problems(apple_extra)
    assert len(found) == 2
    assert "'pass.test.elsewhere'" in found[0] and "'QQQQQQQQQQ'" in found[1]


def test_a_key_that_does_not_match(apple_extra: dict[str, str], apple_pki: PKI) -> None:
    apple_extra["APPLE_PASS_CERT"] = str(apple_pki.issue("other-key", key=new_key()))
    assert re.fullmatch(r"The private key in .+ does not belong to the certificate in .+"
                        r" \(their public keys differ\): .+", one_problem(apple_extra))


def test_wwdr_missing_unreadable_or_wrong(apple_extra: dict[str, str], apple_pki: PKI,
                                          tmp_path: Path) -> None:
    unset = {k: v for k, v in apple_extra.items() if k != "APPLE_WWDR_CERT"}
    assert one_problem(unset).startswith(
        "REGULARS_APPLE_WWDR_CERT is not set: the PEM file of Apple's WWDR intermediate")
    gone = {**apple_extra, "APPLE_WWDR_CERT": str(tmp_path / "nowhere.pem")}
    assert one_problem(gone) == (
        f"The Apple WWDR intermediate certificate file REGULARS_APPLE_WWDR_CERT="
        f"{tmp_path / 'nowhere.pem'} cannot be read (No such file or directory).")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    assert "holds no PEM certificate" in one_problem({**apple_extra,
                                                      "APPLE_WWDR_CERT": str(garbage)})
    root_instead = {**apple_extra, "APPLE_WWDR_CERT": str(apple_pki.root_pem)}
    assert one_problem(root_instead).startswith(
        "REGULARS_APPLE_WWDR_CERT is not the intermediate that issued the pass certificate")


def test_an_encrypted_key_and_its_password(apple_extra: dict[str, str], apple_pki: PKI) -> None:
    apple_extra["APPLE_PASS_KEY"] = str(apple_pki.encrypted_key_pem)
    assert one_problem(apple_extra) == (
        f"The private key in {apple_pki.encrypted_key_pem} is encrypted: set"
        " REGULARS_APPLE_PASS_KEY_PASSWORD to its password.")
    apple_extra["APPLE_PASS_KEY_PASSWORD"] = "wrong password"
    assert one_problem(apple_extra) == (
        "REGULARS_APPLE_PASS_KEY_PASSWORD is wrong: it does not open the private key in"
        f" {apple_pki.encrypted_key_pem}.")
    apple_extra["APPLE_PASS_KEY_PASSWORD"] = KEY_PASSWORD
    loaded = apple.load(apple_extra)
    assert loaded is not None and loaded.key_password == KEY_PASSWORD


def test_a_password_for_a_plain_key_is_harmless(apple_extra: dict[str, str]) -> None:
    assert apple.problems({**apple_extra, "APPLE_PASS_KEY_PASSWORD": "unneeded"}) == []


def test_certificate_and_key_in_one_file(apple_extra: dict[str, str], apple_pki: PKI,
                                         tmp_path: Path) -> None:
    both = tmp_path / "both.pem"
    both.write_bytes(apple_pki.cert_pem.read_bytes() + apple_pki.key_pem.read_bytes())
    assert apple.problems({**apple_extra, "APPLE_PASS_CERT": str(both),
                           "APPLE_PASS_KEY": str(both)}) == []


def test_a_bad_apns_address(apple_extra: dict[str, str]) -> None:
    assert one_problem({**apple_extra, "APNS_URL": "api.push.apple.com"}).startswith(
        "REGULARS_APNS_URL must be an https address")


def test_a_misconfigured_app_has_apple_off_and_says_why(
        make_apple_app: Any, caplog: pytest.LogCaptureFixture) -> None:
    app = make_apple_app(APPLE_TEAM_ID="ZZZZZZZZZZ")
    with caplog.at_level(logging.WARNING, logger="regulars.wallet"):
        assert apple.settings_of(app) is None
    assert "belongs to the team" in caplog.text


def test_a_configured_app_keeps_its_settings(apple_app: Any) -> None:
    loaded = apple.settings_of(apple_app)
    assert loaded is not None and apple.settings_of(apple_app) is loaded


def test_the_authentication_token() -> None:
    secret = "s" * 48
    token = apple.auth_token(secret, "0123456789abcdef0123")
    assert token == apple.auth_token(secret, "0123456789abcdef0123")
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    assert token != apple.auth_token(secret, "0123456789abcdef0124")
    assert token != apple.auth_token("t" * 48, "0123456789abcdef0123")
