"""``regulars wallet check`` and ``regulars wallet pass``."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.integration.wallet.checks import check_pass
from tests.integration.wallet.pki import PKI
from webapp.cli.wallet import wallet_group
from webapp.domain.actor import Actor
from webapp.services.customers import accounts as customers


def run(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(wallet_group, list(args))


@pytest.fixture
def ivan(apple_app: Any, apple_shop: SimpleNamespace) -> SimpleNamespace:
    """Plain values: a command's app context ends the session the rows were read in."""
    joined = customers.join(apple_app.test_session(), Actor.system(apple_shop.id),
                            phone="+79161234567", name="Иван").customer
    return SimpleNamespace(id=joined.id, card_number=joined.card_number)


def test_check_says_ready(apple_app: Any, apple_pki: PKI) -> None:
    result = run(apple_app, "check")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        f"Apple Wallet: ready (pass type {apple_pki.pass_type_id}, team {apple_pki.team_id};"
        " certificate valid until ")
    assert "pushes to https://api.push.apple.com" in result.output
    assert "\nGoogle Wallet: " in result.output


def test_check_without_configuration(app: Any) -> None:
    result = run(app, "check")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Apple Wallet: not configured (set REGULARS_APPLE_PASS_TYPE_ID")


def test_check_lists_every_problem_and_fails(make_apple_app: Any, apple_pki: PKI) -> None:
    app = make_apple_app(APPLE_TEAM_ID="ZZZZZZZZZZ", APPLE_PASS_TYPE_ID="pass.test.other")
    result = run(app, "check")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "Apple Wallet: 2 problems:"
    assert lines[1].startswith("  - REGULARS_APPLE_PASS_TYPE_ID is 'pass.test.other'")
    assert lines[2].startswith("  - REGULARS_APPLE_TEAM_ID is 'ZZZZZZZZZZ'")


def test_check_names_a_wrong_apns_key(make_apple_app: Any, tmp_path: Path) -> None:
    app = make_apple_app(APNS_KEY_FILE=str(tmp_path / "missing.p8"), APNS_KEY_ID="ABCDEFGHIJ")
    result = run(app, "check")
    assert result.exit_code == 1
    assert "APNs: " in result.output and "missing.p8" in result.output


def test_check_notes_a_plain_http_base_url(make_apple_app: Any) -> None:
    result = run(make_apple_app(BASE_URL="http://127.0.0.1:5000"), "check")
    assert result.exit_code == 0, result.output
    assert "REGULARS_BASE_URL is not https" in result.output


def test_pass_writes_the_customers_current_pass(apple_app: Any, apple_shop: SimpleNamespace,
                                                ivan: SimpleNamespace, apple_pki: PKI,
                                                tmp_path: Path) -> None:
    target = tmp_path / "ivan.pkpass"
    result = run(apple_app, "pass", ivan.card_number, "-o", str(target))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Wrote {target} (")
    assert f"card {ivan.card_number} of Гараж на Лесной, 100 баллов, serial " in result.output
    document = check_pass(target.read_bytes(), tmp_path / "pass", apple_pki)
    assert document["barcodes"][0]["message"] == ivan.card_number
    english = run(apple_app, "pass", ivan.card_number, "-o", str(tmp_path / "en.pkpass"),
                  "--business", str(apple_shop.id), "--lang", "en")
    assert english.exit_code == 0 and "100 points" in english.output


def test_pass_errors_are_clear(apple_app: Any, apple_shop: SimpleNamespace, ivan: SimpleNamespace,
                               tmp_path: Path) -> None:
    target = str(tmp_path / "x.pkpass")
    unknown = run(apple_app, "pass", "000000000", "-o", target)
    assert unknown.exit_code == 1
    assert "Error: Клиента с таким номером карты нет." in unknown.output  # no business: Russian
    typo = run(apple_app, "pass", ivan.card_number[:-1] + str((int(ivan.card_number[-1]) + 1)
                                                              % 10), "-o", target)
    assert typo.exit_code == 1 and "Error: " in typo.output
    elsewhere = run(apple_app, "pass", ivan.card_number, "-o", target,
                    "--business", str(apple_shop.id + 1))
    assert elsewhere.exit_code == 1
    assert "Клиента с таким номером карты нет." in elsewhere.output
    assert not Path(target).exists()
    missing = run(apple_app, "pass", ivan.card_number)
    assert missing.exit_code == 2 and "-o" in missing.output


def test_pass_without_apple_configured(app: Any, tmp_path: Path) -> None:
    result = run(app, "pass", "123456786", "-o", str(tmp_path / "x.pkpass"))
    assert result.exit_code == 1
    assert "Error: Apple Wallet is not configured: set the REGULARS_APPLE_* settings" \
        in result.output


def test_pass_with_apple_misconfigured(make_apple_app: Any, tmp_path: Path) -> None:
    app = make_apple_app(APPLE_TEAM_ID="ZZZZZZZZZZ")
    result = run(app, "pass", "123456786", "-o", str(tmp_path / "x.pkpass"))
    assert result.exit_code == 1
    assert "Error: Apple Wallet is misconfigured: REGULARS_APPLE_TEAM_ID is 'ZZZZZZZZZZ'" \
        in result.output
