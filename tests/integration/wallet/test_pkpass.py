"""The Apple .pkpass: every pass is unzipped and checked the way an iPhone would —
keys, identifiers against the certificate, every manifest hash, images at each scale,
the strings files, and the detached signature verified by ``openssl cms`` against the
test root."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select

from tests.integration.wallet.checks import check_pass, openssl_verify, unpack
from tests.integration.wallet.pki import PKI
from wallet.apple import images, pkpass, zipper
from wallet.apple.settings import AppleSettings, auth_token, settings_of
from webapp.domain.actor import Actor
from webapp.domain.errors import UnknownCustomer
from webapp.persistence.models import Branch, Customer
from webapp.services.business import logos
from webapp.services.customers import accounts as customers
from webapp.services.ledger import operations as ledger
from webapp.services.wallet import cards as wallet_cards
from webapp.services.wallet.apple_passes import CurrentPass, current
from webapp.services.wallet.cards import PassView


@pytest.fixture
def settings(apple_app: Any) -> AppleSettings:
    loaded = settings_of(apple_app)
    assert loaded is not None
    return loaded


@pytest.fixture
def ivan(apple_app: Any, apple_shop: SimpleNamespace) -> Customer:
    db = apple_app.test_session()
    joined = customers.join(db, Actor.system(apple_shop.id), phone="+79161234567",
                            name="Иван")
    ledger.accrue(db, Actor.system(apple_shop.id), "pkpass-accrue",
                  customer_id=joined.customer.id, points=1_250)
    return joined.customer


def current_pass(app: Any, shop: SimpleNamespace, customer: Customer, settings: AppleSettings,
                 lang: str = "ru") -> CurrentPass:
    regulars = app.config["REGULARS"]
    return current(app.test_session(), settings, secret_key=regulars.secret_key,
                   base_url=regulars.base_url, business_id=shop.id, customer_id=customer.id,
                   lang=lang)


def fields(document: dict[str, Any], group: str) -> dict[str, dict[str, Any]]:
    return {f["key"]: f for f in document["storeCard"][group]}


def test_a_customers_pass_is_complete_and_verifies(
        apple_app: Any, apple_shop: SimpleNamespace, ivan: Customer, settings: AppleSettings,
        apple_pki: PKI, tmp_path: Path) -> None:
    db = apple_app.test_session()
    db.get(Branch, apple_shop.centre).address = "Москва, Лесная ул., 5"
    db.commit()
    made = current_pass(apple_app, apple_shop, ivan, settings)
    document = check_pass(made.data, tmp_path / "pass", apple_pki)
    shown = wallet_cards.view(db, apple_shop.id, ivan.id)

    assert document["serialNumber"] == made.serial == wallet_cards.pass_of(
        db, apple_shop.id, ivan.id).serial
    assert document["organizationName"] == document["logoText"] == "Гараж на Лесной"
    assert document["backgroundColor"] == "rgb(11, 93, 59)"
    points = fields(document, "primaryFields")["points"]
    assert points["value"] == shown.points == 1_350  # the welcome bonus and the credit
    assert points["changeMessage"] == "change.points"
    secondary = fields(document, "secondaryFields")
    assert shown.progress == "До уровня «Базовый»: ещё 1 визит."
    assert secondary["progress"]["value"] == "ещё 1 визит"  # the sentence is on the back
    if shown.tier:
        assert secondary["tier"]["changeMessage"] == "change.tier"
    assert fields(document, "headerFields")["card"]["value"] == ivan.card_number
    back = fields(document, "backFields")
    assert back["rules"]["value"] == shown.rules and shown.rules
    assert back["progress_full"]["value"] == shown.progress
    assert back["worth"]["value"] == shown.worth_text
    assert back["contacts"]["value"] == "Гараж на Лесной\nЦентр: Москва, Лесная ул., 5"
    history = f"https://regulars.test/c/{apple_shop.id}/history"
    assert back["history"]["value"] == history
    assert f'href="{history}"' in back["history"]["attributedValue"]
    assert document["barcodes"] == [{"format": "PKBarcodeFormatQR",
                                     "message": ivan.card_number,
                                     "messageEncoding": "iso-8859-1",
                                     "altText": ivan.card_number}]
    assert document["webServiceURL"] == "https://regulars.test/wallet/apple"
    token = document["authenticationToken"]
    assert token == auth_token(apple_app.config["REGULARS"].secret_key, made.serial)
    assert len(token) >= 16
    ru = (tmp_path / "pass" / "ru.lproj" / "pass.strings").read_bytes()[2:].decode("utf-16-le")
    en = (tmp_path / "pass" / "en.lproj" / "pass.strings").read_bytes()[2:].decode("utf-16-le")
    assert '"change.points" = "Баланс: %@";' in ru
    assert '"change.points" = "Balance: %@";' in en
    assert made.filename == f"card-{ivan.card_number}.pkpass"
    assert pkpass.MEDIA_TYPE == "application/vnd.apple.pkpass"


def test_the_pass_shows_the_new_balance_under_the_same_serial(
        apple_app: Any, apple_shop: SimpleNamespace, ivan: Customer, settings: AppleSettings,
        apple_pki: PKI, tmp_path: Path) -> None:
    first = current_pass(apple_app, apple_shop, ivan, settings)
    ledger.accrue(apple_app.test_session(), Actor.system(apple_shop.id), "pkpass-more",
                  customer_id=ivan.id, points=50)
    second = current_pass(apple_app, apple_shop, ivan, settings)
    assert second.serial == first.serial and second.updated_at > first.updated_at
    document = check_pass(second.data, tmp_path / "pass", apple_pki)
    assert fields(document, "primaryFields")["points"]["value"] == 1_400


def test_english_values_and_labels(apple_app: Any, apple_shop: SimpleNamespace, ivan: Customer,
                                   settings: AppleSettings, apple_pki: PKI,
                                   tmp_path: Path) -> None:
    made = current_pass(apple_app, apple_shop, ivan, settings, lang="en")
    document = check_pass(made.data, tmp_path / "pass", apple_pki)
    assert document["description"] == "Гараж на Лесной loyalty card"
    assert fields(document, "backFields")["worth"]["value"] == made.view.worth_text
    assert "Open the history" in fields(document, "backFields")["history"]["attributedValue"]


def test_a_business_logo_makes_the_images(apple_app: Any, apple_shop: SimpleNamespace,
                                          ivan: Customer, settings: AppleSettings,
                                          apple_pki: PKI, tmp_path: Path) -> None:
    logo = Image.new("RGBA", (400, 200), (0, 0, 0, 0))
    ImageDraw.Draw(logo).ellipse((10, 10, 190, 190), fill=(230, 120, 20, 255))
    out = io.BytesIO()
    logo.save(out, "PNG")
    logos.set_logo(apple_app.test_session(), apple_shop.id, out.getvalue())
    made = current_pass(apple_app, apple_shop, ivan, settings)
    check_pass(made.data, tmp_path / "pass", apple_pki)
    with Image.open(tmp_path / "pass" / "logo@3x.png") as image:  # wide logo: wider than tall
        assert image.width > image.height == 150
    with Image.open(tmp_path / "pass" / "icon.png") as image:  # the orange of the logo is there
        rgb = image.convert("RGB").tobytes()
        pixels = (rgb[i:i + 3] for i in range(0, len(rgb), 3))
        assert any(r > 200 and 100 < g < 140 and b < 40 for r, g, b in pixels)
    default = images.images_for(None, "Гараж на Лесной")
    assert (tmp_path / "pass" / "icon.png").read_bytes() != default.files["icon.png"]


def test_a_tampered_manifest_or_file_is_caught(
        apple_app: Any, apple_shop: SimpleNamespace, ivan: Customer, settings: AppleSettings,
        apple_pki: PKI, tmp_path: Path) -> None:
    made = current_pass(apple_app, apple_shop, ivan, settings)
    folder = unpack(made.data, tmp_path / "pass")
    assert openssl_verify(folder, apple_pki.root_pem).returncode == 0
    manifest = json.loads((folder / "manifest.json").read_bytes())
    (folder / "pass.json").write_text(
        (folder / "pass.json").read_text().replace("1350", "99999"))
    assert hashlib.sha1((folder / "pass.json").read_bytes()).hexdigest() != manifest["pass.json"]
    manifest["pass.json"] = hashlib.sha1((folder / "pass.json").read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest, sort_keys=True))
    result = openssl_verify(folder, apple_pki.root_pem)
    assert result.returncode != 0
    assert "verification failure" in result.stderr.lower() or "digest" in result.stderr.lower()


def test_the_signature_needs_the_right_root(apple_app: Any, apple_shop: SimpleNamespace,
                                            ivan: Customer, settings: AppleSettings,
                                            apple_pki: PKI, tmp_path: Path) -> None:
    from tests.integration.wallet.pki import make_pki

    stranger = make_pki(tmp_path / "stranger")
    folder = unpack(current_pass(apple_app, apple_shop, ivan, settings).data, tmp_path / "p")
    assert openssl_verify(folder, stranger.root_pem).returncode != 0


VIEW = PassView(
    business_id=7, business_name="Шиномонтаж «Колесо»", customer_id=3,
    card_number="123456786", customer_name=None, points=0, points_text="0 баллов",
    worth_text="0 ₽", tier=None, progress=None, stamps=None, expiring=None, rules="",
    progress_percent=0, lang="ru")


def test_the_same_inputs_give_the_same_archive_but_the_signature(
        settings: AppleSettings, apple_pki: PKI, tmp_path: Path) -> None:
    when = datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
    made = [pkpass.build(VIEW, serial="ab12", updated_at=when, settings=settings,
                         secret_key="k" * 40, base_url="https://x.test", logo_png=None)
            for _ in range(2)]
    a, b = (zipfile.ZipFile(io.BytesIO(data)) for data in made)
    assert a.namelist() == b.namelist()
    for name in a.namelist():
        if name != "signature":
            assert a.read(name) == b.read(name), name
    for name in ("pass.json", "manifest.json", "signature"):  # the rest never change
        assert a.getinfo(name).date_time == (2026, 5, 1, 12, 30, 0)
    # Empty optional fields are left out; the pass still verifies.
    document = check_pass(made[0], tmp_path / "pass", apple_pki)
    assert document["storeCard"]["secondaryFields"] == []
    assert document["storeCard"]["auxiliaryFields"] == []
    assert "rules" not in fields(document, "backFields")


def test_no_web_service_without_https(settings: AppleSettings) -> None:
    data = pkpass.build(VIEW, serial="ab12", updated_at=datetime.now(UTC), settings=settings,
                        secret_key="k" * 40, base_url="http://127.0.0.1:5000", logo_png=None)
    document = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("pass.json"))
    assert "webServiceURL" not in document and "authenticationToken" not in document
    assert fields(document, "backFields")["history"]["value"] == (
        "http://127.0.0.1:5000/c/7/history")


def test_another_business_or_a_blocked_customer_gets_no_pass(
        apple_app: Any, apple_shop: SimpleNamespace, ivan: Customer,
        settings: AppleSettings) -> None:
    with pytest.raises(UnknownCustomer):
        current(apple_app.test_session(), settings, secret_key="k" * 40,
                base_url="https://regulars.test", business_id=apple_shop.id + 1,
                customer_id=ivan.id)
    db = apple_app.test_session()
    db.get(Customer, ivan.id).status = "blocked"
    db.commit()
    with pytest.raises(UnknownCustomer):
        current_pass(apple_app, apple_shop, ivan, settings)
    from webapp.persistence.models import WalletPass
    assert db.scalar(select(WalletPass).where(WalletPass.customer_id == ivan.id)) is None


def test_strings_files_escape_quotes_and_newlines() -> None:
    raw = pkpass.strings_file({'a"b': 'line\none \\ "two"'})
    assert raw[2:].decode("utf-16-le") == '"a\\"b" = "line\\none \\\\ \\"two\\"";\n'


def test_images_are_made_once_per_logo_and_without_a_font(
        monkeypatch: pytest.MonkeyPatch) -> None:
    first = images.images_for(None, "Гараж на Лесной")
    assert images.images_for(None, "Гараж на Лесной") is first
    assert images.initials("Гараж на Лесной") == "ГЛ"
    assert images.initials("autoservice pro") == "AP"
    monkeypatch.setattr(images, "_font_file", lambda: None)  # Pillow's face: no Cyrillic
    emblem = images.images_for(None, "Ёлки-Палки Сервис")
    with Image.open(io.BytesIO(emblem.files["icon@3x.png"])) as image:
        assert image.size == (87, 87)
        assert len(image.getcolors(maxcolors=100_000) or []) > 1  # drawn on the green
    latin = images.images_for(None, "Tyre Lab")
    assert latin.files["icon.png"] != emblem.files["icon.png"]


def test_the_zip_writer_matches_what_zipfile_reads() -> None:
    entries = [zipper.entry("a.json", b'{"x": 1}' * 100, deflate=True),
               zipper.entry("dir/b.png", bytes(range(256)), deflate=False,
                            when=datetime(2030, 12, 31, 23, 59, 58, tzinfo=UTC))]
    archive = zipfile.ZipFile(io.BytesIO(zipper.archive(entries)))
    assert archive.testzip() is None
    assert archive.read("a.json") == b'{"x": 1}' * 100
    assert archive.read("dir/b.png") == bytes(range(256))
    info = archive.getinfo("dir/b.png")
    assert info.date_time == (2030, 12, 31, 23, 59, 58)
    assert info.external_attr >> 16 == 0o100644
    assert archive.getinfo("a.json").compress_type == zipfile.ZIP_DEFLATED


def test_the_front_is_short_and_the_back_has_the_sentences(settings: AppleSettings) -> None:
    full = replace(VIEW, points=1_000, tier="Золотой",
                   progress="До уровня «Платиновый»: ещё 11 визитов или 12\u202f000\u00a0₽.",
                   stamps="Каждая 6-я замена масла бесплатно: 4 из 6.",
                   expiring="225 баллов сгорят 15.12", rules="5\u00a0% от каждого заказа.")
    document = json.loads(pkpass.pass_json(full, serial="ab12", settings=settings,
                                           secret_key="k" * 40, base_url="https://x.test"))
    front = {**fields(document, "secondaryFields"), **fields(document, "auxiliaryFields")}
    assert {k: f["value"] for k, f in front.items()} == {
        "tier": "Золотой", "progress": "ещё 11 визитов или 12\u202f000\u00a0₽",
        "stamps": "4 из 6", "expiring": "225 баллов сгорят 15.12"}
    back = fields(document, "backFields")
    assert back["progress_full"]["value"] == full.progress
    assert back["stamps_full"]["value"] == full.stamps
    keys = [f["key"] for group in document["storeCard"].values() for f in group]
    assert len(keys) == len(set(keys))  # Apple wants keys unique across the pass


def test_a_cashback_pass_shows_money_on_the_account(settings: AppleSettings) -> None:
    cashback = replace(VIEW, points=4_066, points_text="4\u202f066\u00a0₽",
                       worth_text="4\u202f066\u00a0₽", in_money=True)
    document = json.loads(pkpass.pass_json(cashback, serial="ab12", settings=settings,
                                           secret_key="k" * 40, base_url="https://x.test"))
    primary = fields(document, "primaryFields")["points"]
    assert (primary["label"], primary["value"]) == ("label.account", "4\u202f066\u00a0₽")
    assert "numberStyle" not in primary and "worth" not in fields(document, "backFields")
    assert pkpass.STRINGS["ru"]["label.account"] == "На счёте"
    points = json.loads(pkpass.pass_json(replace(VIEW, points=5), serial="ab12",
                                         settings=settings, secret_key="k" * 40,
                                         base_url="https://x.test"))
    assert fields(points, "primaryFields")["points"]["value"] == 5
    assert "worth" in fields(points, "backFields")
