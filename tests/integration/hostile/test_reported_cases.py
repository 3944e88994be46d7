"""The 500s issue #12 reported, one by one (the sweep in test_sweep.py finds them too,
among everything else): "²" and out-of-range ids in forms, and 5,000-deep JSON; and a
forged forwarded address, which the sweep does not send."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from tests.conftest import rolled_back_app
from tests.integration.conftest import make_shop
from tests.integration.hostile.conftest import World
from tests.integration.hostile.corpus import CARD, deep_json
from tests.web_client import csrf_token
from webapp.persistence.models import SignInCode
from webapp.request_body import MAX_JSON_DEPTH, nesting_depth

WHOLE_NUMBER = "Введите целое число."


def _post(world: World, who: str, url: str, **data: str) -> Any:
    visitor = world.visitors[who]
    return visitor.client.post(url, data={"csrf_token": visitor.token, **data},
                               headers={"Accept": "application/json"})


def _json(world: World, who: str, url: str, body: str) -> Any:
    visitor = world.visitors[who]
    return visitor.client.post(url, data=body, content_type="application/json",
                               headers={"X-CSRFToken": visitor.token, **world.headers})


@pytest.mark.parametrize("field, value", [
    ("redeem", "²"), ("redeem", str(2**31)), ("confirmation_id", "²"),
    ("confirmation_id", "1" * 23), ("asset_id", "²"), ("asset_id", "1" * 23),
    ("asset_id", str(2**31)),
])
def test_the_close_refuses_numbers_it_cannot_store(world: World, field: str, value: str) -> None:
    panel = f"/b/{world.ids['business_id']}/counter/{world.ids['branch_id']}" \
            f"/customers/{world.ids['customer_id']}"
    form = {"key": "reported-close-1", "total": "1500", "redeem": "0", field: value}
    answer = _post(world, "cashier", f"{panel}/close", **form)
    assert answer.status_code == 422, answer.get_data(as_text=True)[:300]


@pytest.mark.parametrize("points", ["²", "１２", str(2**31), "1" * 23])
def test_the_confirmation_code_refuses_such_points(world: World, points: str) -> None:
    panel = f"/b/{world.ids['business_id']}/counter/{world.ids['branch_id']}" \
            f"/customers/{world.ids['customer_id']}"
    answer = _post(world, "cashier", f"{panel}/code", points=points)
    assert answer.status_code == 422
    assert answer.get_json()["detail"] == WHOLE_NUMBER


@pytest.mark.parametrize("scanned", ["1234²5678", f"R1.{CARD}.²³.ABCDEFGHIJ"])
def test_identify_refuses_a_scan_with_a_superscript_digit(world: World, scanned: str) -> None:
    counter = f"/b/{world.ids['business_id']}/counter/{world.ids['branch_id']}"
    assert _post(world, "cashier", f"{counter}/identify", scanned=scanned).status_code == 422


@pytest.mark.parametrize("branch", ["²", "1" * 23, str(2**31)])
def test_the_staff_role_form_refuses_a_branch_that_cannot_exist(world: World,
                                                                branch: str) -> None:
    url = f"/b/{world.ids['business_id']}/backoffice/staff/{world.ids['staff_id']}/role"
    answer = _post(world, "owner", url, role="cashier", branch_ids=branch)
    assert answer.status_code == 422
    assert "Такого филиала нет в этом бизнесе." in answer.get_data(as_text=True)


@pytest.mark.parametrize("day", ["²", "１２", "1" * 23])
def test_the_texted_wallet_link_with_a_bad_day_is_not_found(world: World, day: str) -> None:
    link = f"/c/{world.ids['business_id']}/wallet/{world.strings['serial']}"
    answer = world.visitors["stranger"].client.get(link, query_string={
        "d": day, "t": world.query["t"]})
    assert answer.status_code == 404


def test_5000_deep_json_is_a_400_everywhere_it_was_a_500(world: World) -> None:
    apple = (f"/wallet/apple/v1/devices/sweep-device-2/registrations/"
             f"{world.strings['pass_type']}/{world.strings['serial']}")
    assert _json(world, "stranger", "/wallet/apple/v1/log", deep_json()).status_code == 400
    # 2,000 levels: the registration takes at most 4 KB, and its parse failed all the same.
    assert _json(world, "stranger", apple, deep_json(2000)).status_code == 400
    preview = _json(world, "owner", f"/b/{world.ids['business_id']}/backoffice/program/preview",
                    deep_json())
    assert preview.status_code == 400
    assert "Форма не прочитана" in preview.get_data(as_text=True)


def test_json_read_strictly_is_a_400_with_a_message(app: Any) -> None:
    @app.post("/test-strict-json")
    def strict() -> dict[str, int]:
        from flask import request
        return {"keys": len(request.get_json())}

    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    for body in (deep_json(), '{"a": "\\u0000"}', "{"):
        answer = client.post("/test-strict-json", data=body, content_type="application/json",
                             headers={"Accept": "application/json"})
        assert answer.status_code == 400
        assert answer.get_json()["code"] == "invalid_json"
        assert "не глубже 32 уровней" in answer.get_json()["detail"]
    fine = client.post("/test-strict-json", data='{"a": [[1]]}', content_type="application/json")
    assert fine.get_json() == {"keys": 1}


def test_nesting_is_counted_outside_strings() -> None:
    assert nesting_depth('{"a": [1, {"b": "[[[[{{{{"}]}') == 3
    assert nesting_depth("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH) == MAX_JSON_DEPTH
    assert nesting_depth(deep_json()) == MAX_JSON_DEPTH + 1  # counting stops there
    assert nesting_depth(b'"\\"[[[["') == 0


def test_behind_a_proxy_a_forwarded_address_must_be_an_address(
        database_url: str, engine: Engine, tmp_path: Path) -> None:
    """Reached around the proxy, X-Forwarded-For is the client's own text: it would be
    stored as the address of a consent and a device (45 characters on PostgreSQL)."""
    with rolled_back_app(engine, {"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path),
                                  "TRUSTED_PROXIES": "1"}) as app:
        shop = make_shop(app.test_session())
        client = app.test_client()
        real = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}
        page = client.get(f"/c/{shop.id}/sign-in", headers=real)
        assert page.status_code == 200
        token = csrf_token(page.get_data(as_text=True))
        forged = {"X-Forwarded-For": "x" * 100}
        refused = client.post(f"/c/{shop.id}/sign-in", headers=forged, data={
            "csrf_token": token, "phone": "+79161234567", "data_consent": "yes"})
        assert refused.status_code == 422
        assert "Адрес клиента в запросе — не IP-адрес." in refused.get_data(as_text=True)
        assert app.test_session().scalar(select(func.count(SignInCode.id))) == 0
