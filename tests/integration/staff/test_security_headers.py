"""Security headers on every page, no inline script or style in any template, and the
session cookie's attributes behind https and in http development."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import scoped_session, sessionmaker

from tests.web_client import PASSWORD, post_staff_sign_in, staff_signed_in
from webapp import security
from webapp.config import PROJECT_ROOT
from webapp.domain.actor import Actor, Role
from webapp.persistence.models import Branch
from webapp.services.business import setup as businesses
from webapp.services.customers import accounts as customers
from webapp.services.staff import accounts as staff

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:;"
    " media-src 'self' blob: mediastream:; connect-src 'self'; worker-src 'self' blob:;"
    " frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)
TEMPLATES = PROJECT_ROOT / "templates"


def _shop(app: Any) -> SimpleNamespace:
    """A business, its owner and a customer, made on the app's own session."""
    db = app.test_session()
    made = businesses.create_business(db, name="Гараж №1", branches=["Центр", "Север"])
    branch = db.scalars(
        select(Branch.id).where(Branch.business_id == made.id).order_by(Branch.id)
    ).first()
    owner = staff.create_staff(
        db, business_id=made.id, login="owner", password=PASSWORD, role=Role.OWNER.value
    )
    customer = customers.join(db, Actor.system(made.id), phone="+79161234567").customer
    return SimpleNamespace(id=made.id, branch=branch, owner=owner.id, customer=customer.id)


def _signed_in(app: Any, shop: SimpleNamespace, **kwargs: Any) -> Any:
    return staff_signed_in(app, shop.id, "owner", **kwargs)


def _assert_headers(response: Any, url: str) -> None:
    assert response.headers.get("Content-Security-Policy") == CSP, url
    assert response.headers.get("X-Content-Type-Options") == "nosniff", url
    assert response.headers.get("Referrer-Policy") == "same-origin", url
    assert response.headers.get("Permissions-Policy") == "camera=(self)", url


def test_the_policy_is_the_one_the_design_asks_for() -> None:
    assert security.CSP == CSP


def test_every_get_page_has_the_headers(app: Any) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    shop = _shop(app)
    values = {
        "business_id": shop.id,
        "branch_id": shop.branch,
        "customer_id": shop.customer,
        "staff_id": shop.owner,
        "filename": "css/base.css",
        "token": "no-such-token",
    }
    owner, anonymous = _signed_in(app, shop), app.test_client()
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()):
            continue
        arguments = {name: values.get(name, 1) for name in rule.arguments}
        urls.append(rule.build(arguments, append_unknown=False)[1])
    assert len(urls) >= 8
    for url in [*urls, "/no/such/page"]:
        for client in (owner, anonymous):
            response = client.get(url)
            response.close()  # a static file's handle
            assert response.status_code < 500, url
            _assert_headers(response, url)
            assert "Strict-Transport-Security" not in response.headers  # plain http


def _template_files() -> list[Path]:
    files = sorted(TEMPLATES.rglob("*.html"))
    assert files
    return files


@pytest.mark.parametrize("path", _template_files(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_have_no_inline_script_or_style(path: Path) -> None:
    text = path.read_text()
    for tag in re.finditer(r"<script\b([^>]*)>(.*?)</script\s*>", text, re.S | re.I):
        assert "src=" in tag.group(1), f"inline <script> in {path.name}"
        assert not tag.group(2).strip(), f"a <script src> with a body in {path.name}"
    assert text.lower().count("<script") == len(
        re.findall(r"<script\b[^>]*>.*?</script", text, re.S | re.I)
    )
    assert not re.search(r"<style\b", text, re.I), f"<style> block in {path.name}"
    assert not re.search(r"\sstyle\s*=", text, re.I), f"style= attribute in {path.name}"
    assert not re.search(r"\son[a-z]+\s*=", text, re.I), f"on*= handler in {path.name}"
    assert "javascript:" not in text.lower(), f"javascript: URL in {path.name}"


def test_the_inline_check_catches_inline_code(tmp_path: Path) -> None:
    """The template check itself: each kind of inline code is caught."""
    for bad in [
        "<script>alert(1)</script>",
        '<p style="color: red">',
        '<a onclick="x()">',
        "<style>p {}</style>",
        '<a href="javascript:x()">',
    ]:
        path = tmp_path / "bad.html"
        path.write_text(f"<div>{bad}</div>")
        with pytest.raises(AssertionError):
            test_templates_have_no_inline_script_or_style(path)


@pytest.fixture
def https_app(database_url: str, engine: Engine, tmp_path: Path) -> Iterator[Any]:
    """The app as in production: REGULARS_BASE_URL is https."""
    from webapp.app import create_app

    app = create_app(
        {
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "test-secret-" + "x" * 40,
            "TESTING": True,
            "BASE_URL": "https://loyalty.example.ru",
            "WTF_CSRF_ENABLED": False,
        }
    )
    connection = engine.connect()
    outer = connection.begin()
    factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    app.extensions["sqlalchemy"].session = scoped_session(factory)
    app.test_session = app.extensions["sqlalchemy"].session
    yield app
    app.extensions["sqlalchemy"].session.remove()
    outer.rollback()
    connection.close()


def _set_cookie(response: Any, name: str) -> str:
    found = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    assert len(found) == 1, response.headers.getlist("Set-Cookie")
    return str(found[0])


def test_https_session_cookie_is_host_only_and_secure(https_app: Any) -> None:
    shop = _shop(https_app)
    client = https_app.test_client()
    response = post_staff_sign_in(client, shop.id, "owner", base_url="https://loyalty.example.ru")
    assert response.status_code == 302
    cookie = _set_cookie(response, "__Host-session")
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "path"} <= attributes
    assert "Path=/;" in cookie + ";" and "SameSite=Lax" in cookie
    assert "domain" not in attributes
    assert not [
        h
        for h in response.headers.getlist("Set-Cookie")
        if h.startswith(("session=", "remember_token=", "__Host-remember="))
    ]
    page = client.get(f"/b/{shop.id}/backoffice/program", base_url="https://loyalty.example.ru")
    assert page.status_code == 200  # the browser's cookie signs the member in
    _assert_headers(page, "program")
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert https_app.config["REMEMBER_COOKIE_SECURE"] is True
    assert https_app.config["REMEMBER_COOKIE_NAME"] == "__Host-remember"


def test_http_development_keeps_a_plain_session_cookie(app: Any) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    shop = _shop(app)
    response = post_staff_sign_in(app.test_client(), shop.id, "owner")
    cookie = _set_cookie(response, "session")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie and "Domain" not in cookie
    assert "Strict-Transport-Security" not in response.headers
