"""What a browser does that web tests repeat: read the CSRF token a page carries, and
sign a staff member in on the staff form. One copy, used by every test of the pages
(Flask test clients), of ``regulars serve`` (requests, in tests/serving.py) and, for the
token, of the browser tests.

Staff made by the fixtures all have the password :data:`PASSWORD`.
"""

from __future__ import annotations

import re
from typing import Any

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"'
                   r'|<meta name="csrf-token" content="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token a page carries (a form's hidden field or the page's meta tag)."""
    found = _CSRF.search(html)
    assert found, "the page carries no CSRF token"
    return found.group(1) or found.group(2)


def csrf(client: Any, url: str) -> str:
    """The CSRF token of the client's session, read from the page at ``url``."""
    return csrf_token(client.get(url).get_data(as_text=True))


def page_text(response: Any) -> str:
    """A response's text with no-break spaces (as in "5\u00a0%", "1\u202f500\u00a0₽") made plain."""
    return str(response.get_data(as_text=True)).replace("\u00a0", " ").replace("\u202f", " ")


def staff_is_signed_in(client: Any, business_id: int) -> bool:
    """Whether the client's session signs a staff member of the business in (the account
    page opens rather than sending it to sign in)."""
    response = client.get(f"/b/{business_id}/staff/account")
    assert response.status_code in (200, 302)
    return bool(response.status_code == 200)


def post_staff_sign_in(client: Any, business_id: int, login: str, password: str = PASSWORD,
                       **request: Any) -> Any:
    """POST the staff sign-in form as a browser does (the CSRF token read from the form
    first, so it works with CSRF on or off); the answer. ``request`` goes to both
    requests (``environ_base``, ``base_url``...)."""
    url = f"/b/{business_id}/staff/sign-in"
    form = client.get(url, **request).get_data(as_text=True)
    data = {"login": login, "password": password}
    if (found := _CSRF.search(form)) is not None:  # not rendered when sign-in is refused
        data["csrf_token"] = found.group(1) or found.group(2)
    return client.post(url, data=data, **request)


def staff_signed_in(app_or_client: Any, business_id: int, login: str,
                    password: str = PASSWORD, **request: Any) -> Any:
    """A test client (a new one when given the app) signed in as ``login``; fails the
    test unless the sign-in redirects."""
    client = (app_or_client.test_client() if hasattr(app_or_client, "test_client")
              else app_or_client)
    answer = post_staff_sign_in(client, business_id, login, password, **request)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client
