"""Staff sign-in: per-business URL, one message for every failure, a fresh session."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conftest import free_port, redis_or_skip
from tests.web_client import PASSWORD, post_staff_sign_in
from webapp.domain import sign_in_limits
from webapp.persistence.models import StaffUser


def _cookie(client: Any) -> str | None:
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


@pytest.mark.usefixtures("no_csrf")
def test_success_redirects_to_the_program_page(client: Any, business: Any, owner: Any) -> None:
    response = post_staff_sign_in(client, business.id, "owner", PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/b/{business.id}/backoffice/program")


@pytest.mark.usefixtures("no_csrf", "owner")
@pytest.mark.parametrize(("login", "password"), [("owner", "wrong password!"),
                                                  ("nobody", PASSWORD), ("", "")])
def test_failures_look_the_same(client: Any, business: Any, login: str, password: str) -> None:
    response = post_staff_sign_in(client, business.id, login, password)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Неверный логин или пароль" in page
    assert "<form" in page
    assert client.get(f"/b/{business.id}/backoffice/program").status_code == 302


@pytest.mark.usefixtures("no_csrf", "owner")
def test_another_business_does_not_know_the_login(client: Any, make_business: Any) -> None:
    other = make_business("Шиномонтаж")
    response = post_staff_sign_in(client, other.id, "owner", PASSWORD)
    assert "Неверный логин или пароль" in response.get_data(as_text=True)


@pytest.mark.usefixtures("no_csrf")
def test_session_cookie_changes_at_sign_in(client: Any, business: Any, owner: Any) -> None:
    client.get(f"/b/{business.id}/staff/sign-in")
    with client.session_transaction() as planted:
        planted["planted"] = "by an attacker"
    before = _cookie(client)
    post_staff_sign_in(client, business.id, "owner", PASSWORD)
    after = _cookie(client)
    assert after and after != before
    with client.session_transaction() as fresh:
        assert "planted" not in fresh
        assert fresh["_user_id"] == f"{business.id}:{owner.id}:0"


@pytest.mark.usefixtures("no_csrf", "owner")
def test_sign_out_needs_post_and_ends_the_session(client: Any, business: Any) -> None:
    post_staff_sign_in(client, business.id, "owner", PASSWORD)
    assert client.get(f"/b/{business.id}/backoffice/program").status_code == 200
    assert client.get("/staff/sign-out").status_code == 405
    response = client.post("/staff/sign-out")
    assert response.status_code == 302
    assert client.get(f"/b/{business.id}/backoffice/program").status_code == 302


@pytest.mark.usefixtures("owner")
def test_post_without_csrf_token_is_refused(client: Any, business: Any) -> None:
    response = client.post(f"/b/{business.id}/staff/sign-in",
                           data={"login": "owner", "password": PASSWORD})
    assert response.status_code == 400
    assert post_staff_sign_in(client, business.id, "owner").status_code == 302


@pytest.mark.usefixtures("no_csrf")
def test_inactive_staff_cannot_sign_in(app: Any, client: Any, business: Any,
                                       owner: Any) -> None:
    db = app.test_session()
    db.get(StaffUser, owner.id).active = False
    db.commit()
    response = post_staff_sign_in(client, business.id, "owner", PASSWORD)
    assert "Неверный логин или пароль" in response.get_data(as_text=True)


def test_sign_in_without_business_goes_to_the_only_one(client: Any, business: Any) -> None:
    response = client.get("/staff/sign-in")
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert response.headers["Location"].endswith(f"/b/{business.id}/staff/sign-in")


def test_anonymous_is_sent_to_sign_in(client: Any, business: Any) -> None:
    response = client.get(f"/b/{business.id}/backoffice/program")
    assert response.status_code == 302
    assert f"/b/{business.id}/staff/sign-in" in response.headers["Location"]


STRANGER, SHOP = "203.0.113.9", "198.51.100.20"


def _try(client: Any, business_id: int, login: str, password: str, address: str) -> Any:
    """A sign-in from ``address`` (the limits count per address)."""
    return post_staff_sign_in(client, business_id, login, password,
                              environ_base={"REMOTE_ADDR": address})


@pytest.mark.usefixtures("no_csrf")
def test_a_stranger_locks_out_only_themselves(client: Any, business: Any, owner: Any,
                                              clock: Any) -> None:
    for _ in range(10):
        assert _try(client, business.id, "owner", "wrong", STRANGER).status_code == 200
        clock.now += 61  # past the account's growing delay: only the hard limit is left
    refused = _try(client, business.id, "owner", PASSWORD, STRANGER)  # even the right one
    assert refused.status_code == 429
    text = refused.get_data(as_text=True)
    assert "Попробуйте снова через" in text and "мин." in text and WRONG_TEXT not in text
    assert int(refused.headers["Retry-After"]) > 0
    page = client.get(f"/b/{business.id}/backoffice/program")
    assert page.status_code == 302 and "/staff/sign-in" in page.headers["Location"]
    # The owner at the shop is not locked out by the stranger's ten failures.
    assert _try(app_client(client), business.id, "owner", PASSWORD, SHOP).status_code == 302
    # A window later the stranger may try again.
    clock.now += 15 * 60
    assert _try(client, business.id, "owner", "wrong", STRANGER).status_code == 200


@pytest.mark.usefixtures("no_csrf")
def test_the_account_slows_down_with_a_growing_delay(client: Any, business: Any, owner: Any,
                                                     clock: Any) -> None:
    addresses = (f"192.0.2.{n}" for n in range(1, 100))  # a botnet: a new address each time
    for _ in range(5):
        assert _try(client, business.id, "owner", "wrong", next(addresses)).status_code == 200
    waits = []
    for _ in range(5):
        refused = _try(client, business.id, "owner", "wrong", next(addresses))
        assert refused.status_code == 429
        assert "под этим логином" in refused.get_data(as_text=True)
        waits.append(int(refused.headers["Retry-After"]))
        clock.now += waits[-1]
        assert _try(client, business.id, "owner", "wrong", next(addresses)).status_code == 200
    assert waits == [2, 4, 8, 16, 32]
    # The real member is slowed down, not locked out: after the wait, the password works.
    shop = app_client(client)
    refused = _try(shop, business.id, "owner", PASSWORD, SHOP)
    assert refused.status_code == 429
    clock.now += int(refused.headers["Retry-After"])
    assert _try(shop, business.id, "owner", PASSWORD, SHOP).status_code == 302


@pytest.mark.usefixtures("no_csrf")
def test_strangers_keeping_the_delay_busy_never_keep_the_member_from_their_browser(
        client: Any, business: Any, owner: Any, clock: Any) -> None:
    counter = app_client(client)  # the shop's tablet: the owner signed in here before
    assert _try(counter, business.id, "owner", PASSWORD, SHOP).status_code == 302
    counter.post("/staff/sign-out")
    botnet = (f"192.0.2.{n}" for n in range(1, 250))
    for _ in range(12):  # each let-through guess taken as soon as the delay allows
        while _try(client, business.id, "owner", "wrong", next(botnet)).status_code == 429:
            clock.now += 1
    assert _try(app_client(client), business.id, "owner", PASSWORD, SHOP).status_code == 429
    # The member's own browser is let through at once, every time.
    for _ in range(3):
        assert _try(counter, business.id, "owner", PASSWORD, SHOP).status_code == 302
        counter.post("/staff/sign-out")
    # ...and has a hard limit of its own, should someone else use it.
    for _ in range(10):
        assert _try(counter, business.id, "owner", "wrong", SHOP).status_code == 200
    assert _try(counter, business.id, "owner", PASSWORD, SHOP).status_code == 429


@pytest.mark.usefixtures("no_csrf")
def test_a_login_typed_to_look_like_another_key_locks_out_nobody(
        client: Any, business: Any, owner: Any, clock: Any) -> None:
    for n in range(12):  # "owner@<the shop's address>" from many addresses
        _try(client, business.id, f"owner@{SHOP}", "wrong", f"192.0.2.{n}")
        clock.now += 61
    fresh = app_client(client)
    assert _try(fresh, business.id, "owner", PASSWORD, SHOP).status_code == 302


def test_an_unreachable_redis_is_a_plain_503_not_a_500(tmp_path: Any, database_url: str,
                                                       business: Any) -> None:
    from webapp.app import create_app

    made = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path),
                       "SECRET_KEY": "s" * 40, "TESTING": True, "WTF_CSRF_ENABLED": False,
                       "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    try:
        refused = _try(made.test_client(), business.id, "owner", PASSWORD, SHOP)
        assert refused.status_code == 503
        assert "Вход временно недоступен" in refused.get_data(as_text=True)
    finally:
        with made.app_context():
            made.extensions["sqlalchemy"].engine.dispose()


@pytest.mark.usefixtures("no_csrf")
def test_successful_sign_ins_do_not_count(client: Any, business: Any, owner: Any,
                                          clock: Any) -> None:
    for _ in range(12):
        assert _try(client, business.id, "owner", PASSWORD, SHOP).status_code == 302
        client.post("/staff/sign-out")
    for _ in range(5):  # the account's free failures are all still there
        assert _try(client, business.id, "owner", "wrong", SHOP).status_code == 200


@pytest.mark.usefixtures("no_csrf")
def test_many_accounts_from_one_address_are_limited(client: Any, business: Any,
                                                    clock: Any) -> None:
    for n in range(30):
        assert _try(client, business.id, f"guess{n}", "wrong", STRANGER).status_code == 200
    assert _try(client, business.id, "guess-more", "wrong", STRANGER).status_code == 429
    assert _try(client, business.id, "guess-more", "wrong", SHOP).status_code == 200


def app_client(client: Any) -> Any:
    """Another browser on the same app (its own cookies)."""
    return client.application.test_client()


def test_limits_are_shared_through_redis(tmp_path: Any, database_url: str, clock: Any) -> None:
    """Two processes (two apps here) behind one Redis share one count."""
    from webapp.app import create_app

    url = "redis://127.0.0.1:6379/15"
    client = redis_or_skip(url)
    # The local Redis is shared and outlives the run: a login and an address of our own,
    # or the address's count from earlier runs (same fake clock, same window) adds up.
    login = f"owner-{uuid.uuid4().hex[:12]}"
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    apps = [create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path),
                        "SECRET_KEY": "s" * 40, "REDIS_URL": url, "TESTING": True,
                        "WTF_CSRF_ENABLED": False}) for _ in range(2)]
    try:
        for n in range(10):
            assert _try(apps[n % 2].test_client(), 999, login, "wrong", address).status_code == 200
            clock.now += 61
        assert _try(apps[0].test_client(), 999, login, "wrong", address).status_code == 429
        pair = sign_in_limits.keys(999, login, address).first
        assert client.keys(f"regulars:rate:{pair}:*")  # counted there, not in the database
    finally:
        client.close()
        for app in apps:
            with app.app_context():
                app.extensions["sqlalchemy"].engine.dispose()


WRONG_TEXT = "Неверный логин или пароль"

