"""static/js/checkin_code.js in a real Chromium: the code it computes is the one
webapp.domain.checkin makes and verifies, the QR it draws reads back as that code, and it
changes at the 30-second boundary, under the site's own Content-Security-Policy."""

from __future__ import annotations

import base64
import hashlib
import mimetypes
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from webapp.config import PROJECT_ROOT
from webapp.domain import cards, checkin
from webapp.security import CSP

# A made-up https origin answered by page.route: a secure context (Web Crypto needs one),
# and nothing reaches the network.
ORIGIN = "https://regulars.test"
STATIC = PROJECT_ROOT / "static"
ENCODER = "/static/vendor/qrcode-generator/qrcode.min.js"
SCRIPT = "/static/js/checkin_code.js"
DECODER = "/static/vendor/jsqr/jsQR.min.js"  # only the test loads it, to read the QR back
LABEL = "QR-код для кассы"

SECRETS = [bytes(32), bytes(range(32)), b"\xff" * 32,
           hashlib.sha256(b"regulars").digest(), hashlib.sha256(b"another").digest()]
CARDS = [cards.generate("12345678"), cards.generate("98765432"), cards.generate("50000000")]
BOUNDARY = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)  # a multiple of 30 s
MOMENTS = [
    BOUNDARY - timedelta(seconds=30),
    BOUNDARY - timedelta(seconds=1),
    BOUNDARY - timedelta(milliseconds=1),
    BOUNDARY,
    BOUNDARY + timedelta(milliseconds=999),
    BOUNDARY + timedelta(seconds=29, milliseconds=999),
    BOUNDARY + timedelta(seconds=30),
    datetime(2024, 12, 31, 23, 59, 59, 500000, tzinfo=UTC),
    datetime(2038, 1, 19, 3, 14, 8, tzinfo=UTC),  # past 2**31 seconds
]


def b64url(secret: bytes) -> str:
    return base64.urlsafe_b64encode(secret).rstrip(b"=").decode()


def checkin_page(card: str, secret: str, *, countdown: bool = True) -> str:
    """The markup contract of checkin_code.js: no inline script, no style attributes."""
    timer = ('<p>Код сменится через <span class="checkin-countdown"></span> с</p>'
             if countdown else "")
    return f"""<!doctype html>
<html lang="ru"><head><meta charset="utf-8">
<link rel="stylesheet" href="/static/css/base.css">
<link rel="stylesheet" href="/static/css/checkin.css">
<script src="{ENCODER}" defer></script>
<script src="{SCRIPT}" defer></script>
</head><body><main>
<section id="checkin" data-card="{card}" data-secret="{secret}" data-label="{LABEL}">
  <div class="checkin-qr"></div>
  {timer}
  <p class="checkin-fallback">Назовите номер карты</p>
</section>
</main></body></html>"""


class Site:
    """Answers ORIGIN from the repository's static files; records every request and error."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.html = "<!doctype html><title>empty</title>"
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("console",
                lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.route("**/*", self.answer)

    def answer(self, route: Any) -> None:
        url = route.request.url
        if not url.startswith(ORIGIN + "/"):
            route.abort()
            return
        path = url[len(ORIGIN):].split("?")[0]
        if path == "/":
            route.fulfill(status=200, body=self.html, content_type="text/html; charset=utf-8",
                          headers={"Content-Security-Policy": CSP})
            return
        file = (STATIC / path.removeprefix("/static/")).resolve()
        if not path.startswith("/static/") or not file.is_relative_to(STATIC) \
                or not file.is_file():
            route.fulfill(status=404, body="not found")
            return
        route.fulfill(status=200, body=file.read_bytes(),
                      content_type=mimetypes.guess_type(file.name)[0] or "text/plain")

    def open(self, html: str | None = None) -> None:
        if html is not None:
            self.html = html
        self.page.goto(ORIGIN + "/")

    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(ORIGIN + "/")]


@pytest.fixture
def site(page: Any) -> Site:
    return Site(page)


def js_code(page: Any, secret: bytes, card: str, moment: datetime) -> str:
    return page.evaluate(
        "([secret, card, seconds]) => window.RegularsCheckin.code(secret, card, seconds)",
        [list(secret), card, moment.timestamp()])


def read_qr(page: Any) -> str | None:
    """Screenshot .checkin-qr as painted and decode the PNG with jsQR in the page."""
    png = page.locator("#checkin .checkin-qr").screenshot()
    if not page.evaluate("() => typeof window.jsQR === 'function'"):
        page.add_script_tag(url=ORIGIN + DECODER)  # same origin: allowed by the CSP
    return page.evaluate(
        """async (b64) => {
            const image = new Image();
            image.src = "data:image/png;base64," + b64;
            await image.decode();
            const canvas = document.createElement("canvas");
            canvas.width = image.naturalWidth;
            canvas.height = image.naturalHeight;
            const context = canvas.getContext("2d");
            context.drawImage(image, 0, 0);
            const data = context.getImageData(0, 0, canvas.width, canvas.height);
            const found = window.jsQR(data.data, canvas.width, canvas.height);
            return found ? found.data : null;
        }""",
        base64.b64encode(png).decode())


def assert_quiet_zone(box: Any) -> None:
    """Dark modules (1x1 squares in one path) leave a 4-module white margin; 25 modules
    is version 2, which a 32-character code fits in alphanumeric mode at level M."""
    size = int(box.locator("svg").get_attribute("viewBox").split()[2])
    path = box.locator("svg path").get_attribute("d")
    corners = [tuple(int(n) for n in move.removesuffix("h1v1h-1z").split())
               for move in path.split("M")[1:]]
    xs, ys = {x for x, _ in corners}, {y for _, y in corners}
    assert size == 25 + 2 * 4
    assert min(xs) == min(ys) == 4 and max(xs) == max(ys) == size - 5
    assert box.locator("svg rect").get_attribute("fill") == "#fff"


def shown_step(page: Any) -> Any:
    return page.locator("#checkin .checkin-qr")


def test_the_javascript_code_is_the_servers_code(site: Site) -> None:
    site.open()
    site.page.add_script_tag(url=ORIGIN + SCRIPT)
    for secret in SECRETS:
        for card in CARDS:
            for moment in MOMENTS:
                made = js_code(site.page, secret, card, moment)
                assert made == checkin.make(secret, card, moment), (secret.hex(), card, moment)
                accepted = checkin.verify(secret, made, moment)
                assert (accepted.card_number, accepted.step) == (card, checkin.step_at(moment))
    # The step flips exactly at the boundary, and the mac depends on the secret.
    before = js_code(site.page, SECRETS[1], CARDS[0], BOUNDARY - timedelta(milliseconds=1))
    after = js_code(site.page, SECRETS[1], CARDS[0], BOUNDARY)
    step = int(BOUNDARY.timestamp()) // 30
    assert before.split(".")[2] == str(step - 1) and after.split(".")[2] == str(step)
    other = js_code(site.page, SECRETS[2], CARDS[0], BOUNDARY)
    assert other != after
    with pytest.raises(checkin.InvalidCheckinCode):
        checkin.verify(SECRETS[1], other, BOUNDARY)
    assert site.errors == [] and site.foreign_requests() == []


def test_the_page_draws_the_live_code_and_rotates_it_at_the_boundary(site: Site) -> None:
    secret, card = SECRETS[3], CARDS[1]
    start = BOUNDARY + timedelta(seconds=10)
    clock = site.page.clock
    clock.install(time=start - timedelta(seconds=5))
    site.open(checkin_page(card, b64url(secret)))
    clock.pause_at(start)
    box = shown_step(site.page)
    expect(box).to_have_attribute("data-step", str(checkin.step_at(start)))
    expect(box).to_have_attribute("role", "img")
    expect(box).to_have_attribute("aria-label", LABEL)
    expect(site.page.get_by_role("img", name=LABEL)).to_be_visible()
    expect(site.page.locator(".checkin-countdown")).to_have_text("20")
    expect(site.page.locator(".checkin-fallback")).to_be_hidden()
    width = box.bounding_box()["width"]
    assert 250 <= width <= 320

    code = read_qr(site.page)
    assert code == checkin.make(secret, card, start)
    checkin.verify(secret, code, start)

    clock.run_for(21_000)  # past the boundary at start + 20 s
    later = start + timedelta(seconds=21)
    expect(box).to_have_attribute("data-step", str(checkin.step_at(later)))
    expect(site.page.locator(".checkin-countdown")).to_have_text("30")
    rotated = read_qr(site.page)
    assert rotated == checkin.make(secret, card, later) != code
    checkin.verify(secret, rotated, later)
    assert box.locator("svg").count() == 1
    assert_quiet_zone(box)
    assert site.errors == [] and site.foreign_requests() == []


def test_a_hidden_page_catches_up_when_it_becomes_visible(site: Site) -> None:
    secret, card = SECRETS[4], CARDS[2]
    start = BOUNDARY + timedelta(seconds=25)
    clock = site.page.clock
    clock.install(time=start - timedelta(seconds=5))
    site.open(checkin_page(card, b64url(secret), countdown=False))
    clock.pause_at(start)
    box = shown_step(site.page)
    expect(box).to_have_attribute("data-step", str(checkin.step_at(start)))

    set_visibility = """(state) => {
        Object.defineProperty(document, "visibilityState", {configurable: true,
                                                            get: () => state});
        document.dispatchEvent(new Event("visibilitychange"));
    }"""
    site.page.evaluate(set_visibility, "hidden")
    clock.run_for(65_000)  # two boundaries pass while the phone is in a pocket
    assert box.get_attribute("data-step") == str(checkin.step_at(start))
    site.page.evaluate(set_visibility, "visible")
    later = start + timedelta(seconds=65)
    expect(box).to_have_attribute("data-step", str(checkin.step_at(later)))
    assert read_qr(site.page) == checkin.make(secret, card, later)
    assert site.errors == [] and site.foreign_requests() == []


def test_bad_data_shows_the_fallback_instead_of_a_wrong_code(site: Site) -> None:
    site.open(checkin_page("12345678", b64url(SECRETS[0])))  # 8 digits
    section = site.page.locator("#checkin")
    expect(section).to_have_class("checkin-failed")
    expect(site.page.locator(".checkin-fallback")).to_be_visible()
    assert section.locator("svg").count() == 0
    assert any("data-card" in error for error in site.errors)
    assert site.foreign_requests() == []
