"""Staff sessions: sign out everywhere (the session epoch), the idle timeout, and
sessions that did not come from this sign-in counting as signed out."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import event

from staff import sessions
from tests.web_client import staff_is_signed_in, staff_signed_in
from webapp.domain.actor import Actor
from webapp.domain.counter_settings import CounterSettings
from webapp.persistence.models import StaffUser
from webapp.services.business import settings as counter_settings

pytestmark = pytest.mark.usefixtures("no_csrf")


def _epoch(app: Any, staff_id: int) -> int:
    db = app.test_session()
    member = db.get(StaffUser, staff_id)
    db.refresh(member)
    epoch = member.session_epoch
    db.rollback()
    return int(epoch)


def test_the_session_carries_business_staff_and_epoch(
    client: Any, business: Any, owner: Any
) -> None:
    staff_signed_in(client, business.id, "owner")
    with client.session_transaction() as stored:
        assert stored["_user_id"] == f"{business.id}:{owner.id}:0"
    assert client.get_cookie("remember_token") is None  # never "remembered"


def test_sign_out_everywhere_ends_every_session(app: Any, business: Any, owner: Any) -> None:
    phone, laptop = app.test_client(), app.test_client()
    staff_signed_in(phone, business.id, "owner")
    staff_signed_in(laptop, business.id, "owner")
    account = phone.get(f"/b/{business.id}/staff/account").get_data(as_text=True)
    assert "Выйти на всех устройствах" in account
    assert phone.get(f"/b/{business.id}/staff/sign-out-everywhere").status_code == 405
    response = phone.post(f"/b/{business.id}/staff/sign-out-everywhere")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/b/{business.id}/staff/sign-in")
    assert "Вы вышли на всех устройствах" in phone.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert not staff_is_signed_in(laptop, business.id)
    assert not staff_is_signed_in(phone, business.id)
    assert _epoch(app, owner.id) == 1
    staff_signed_in(laptop, business.id, "owner")  # a new sign-in takes the new epoch
    assert staff_is_signed_in(laptop, business.id)
    with laptop.session_transaction() as stored:
        assert stored["_user_id"] == f"{business.id}:{owner.id}:1"


def test_a_cookie_copied_before_sign_out_opens_nothing_after_it(
    app: Any, client: Any, business: Any, owner: Any
) -> None:
    staff_signed_in(client, business.id, "owner")
    captured = client.get_cookie("session").value
    assert client.get(f"/b/{business.id}/backoffice/program").status_code == 200
    assert client.post("/staff/sign-out").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", captured)
    response = replay.get(f"/b/{business.id}/backoffice/program")
    assert response.status_code == 302 and "/staff/sign-in" in response.headers["Location"]
    # Another browser of the same member stays signed in: only that session ended.
    other = app.test_client()
    staff_signed_in(other, business.id, "owner")
    staff_signed_in(client, business.id, "owner")
    client.post("/staff/sign-out")
    assert staff_is_signed_in(other, business.id)


def test_the_staff_bar_links_the_account_page(client: Any, business: Any, owner: Any) -> None:
    staff_signed_in(client, business.id, "owner")
    page = client.get(f"/b/{business.id}/backoffice/program").get_data(as_text=True)
    assert f'href="/b/{business.id}/staff/account"' in page


@pytest.mark.parametrize("user_id", ["{b}:{s}", "{b}:{s}:0:0", "{b}:x:0", "garbage", "",
                                     "{b}:{s}:0", "{b}:{s}:²", "{b}:{s}:99999999999999999999"])
def test_sessions_in_another_format_are_signed_out(
    client: Any, business: Any, owner: Any, user_id: str
) -> None:
    with client.session_transaction() as stored:
        stored["_user_id"] = user_id.format(b=business.id, s=owner.id)
        stored["_fresh"] = True
        stored[sessions.SEEN] = sessions.clock()
        stored[sessions.IDLE] = 30
    response = client.get(f"/b/{business.id}/backoffice/program")
    assert response.status_code == 302
    assert "/staff/sign-in" in response.headers["Location"]
    assert client.get("/").status_code == 200


def test_a_session_without_the_sign_in_stamp_is_signed_out(
    client: Any, business: Any, owner: Any
) -> None:
    """Only this sign-in starts a session (not, say, a remember-me cookie)."""
    with client.session_transaction() as stored:
        stored["_user_id"] = f"{business.id}:{owner.id}:0"
        stored["_fresh"] = True
    assert client.get(f"/b/{business.id}/backoffice/program").status_code == 302
    with client.session_transaction() as stored:
        assert "_user_id" not in stored


def test_an_idle_session_ends(
    client: Any, business: Any, owner: Any, clock: SimpleNamespace
) -> None:
    staff_signed_in(client, business.id, "owner")
    clock.now += 29 * 60
    assert staff_is_signed_in(client, business.id)
    clock.now += 29 * 60  # 58 minutes after sign-in, but active 29 minutes ago
    assert staff_is_signed_in(client, business.id)
    clock.now += 30 * 60 + 1
    response = client.get(f"/b/{business.id}/backoffice/program")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert f"/b/{business.id}/staff/sign-in" in location and "next=" in location
    page = client.get(location).get_data(as_text=True)
    assert "Сеанс завершён после 30 мин. бездействия" in page
    assert not staff_is_signed_in(client, business.id)
    staff_signed_in(client, business.id, "owner")  # a new sign-in after the timeout works as usual
    assert staff_is_signed_in(client, business.id)


def test_the_idle_timeout_is_the_business_setting(
    app: Any, client: Any, business: Any, owner: Any, clock: SimpleNamespace
) -> None:
    counter_settings.save(
        app.test_session(), Actor.system(business.id), CounterSettings(idle_timeout_minutes=5)
    )
    staff_signed_in(client, business.id, "owner")
    clock.now += 4 * 60
    assert staff_is_signed_in(client, business.id)
    clock.now += 5 * 60 + 1
    response = client.get(f"/b/{business.id}/staff/account")
    assert response.status_code == 302
    assert "после 5 мин. бездействия" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_an_idle_session_may_still_sign_in_again(
    client: Any, business: Any, owner: Any, clock: SimpleNamespace
) -> None:
    staff_signed_in(client, business.id, "owner")
    clock.now += 31 * 60
    staff_signed_in(client, business.id, "owner")  # the stale session does not swallow the sign-in
    assert staff_is_signed_in(client, business.id)


def test_requests_do_not_read_the_timeout_again(
    app: Any, client: Any, business: Any, owner: Any
) -> None:
    staff_signed_in(client, business.id, "owner")
    statements: list[str] = []
    engine = app.test_session().get_bind().engine

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert staff_is_signed_in(client, business.id)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert statements  # the member is loaded...
    assert not [s for s in statements if "counter_settings" in s]  # ...the timeout is not


def test_sign_in_and_out_still_clear_the_idle_stamp(client: Any, business: Any, owner: Any) -> None:
    staff_signed_in(client, business.id, "owner")
    with client.session_transaction() as stored:
        assert isinstance(stored[sessions.SEEN], float) and stored[sessions.IDLE] == 30
    client.post("/staff/sign-out")
    with client.session_transaction() as stored:
        assert sessions.SEEN not in stored and "_user_id" not in stored


def test_a_session_kept_busy_still_ends_after_its_lifetime(
    client: Any, business: Any, owner: Any, clock: Any
) -> None:
    staff_signed_in(client, business.id, "owner")
    started = clock.now
    while clock.now - started < 13.5 * 3600:  # never idle: a request every 20 minutes
        clock.now += 20 * 60
        assert staff_is_signed_in(client, business.id)
    clock.now = started + 14 * 3600 + 60
    assert not staff_is_signed_in(client, business.id)
