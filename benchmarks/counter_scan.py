"""Camera frame to customer panel, in a real Chromium with a fake camera.

The counter page reads a QR from Chromium's fake camera (a .y4m of a card number),
posts it, and opens the customer's panel. ``qr_camera.js`` notes the wall-clock time
of the frame it read; the scan page keeps it in sessionStorage, and the panel page's
DOMContentLoaded end minus that time is one measurement: decode, the identify
request, the navigation and the panel's render. The app runs under gunicorn (2
workers) on a temporary SQLite file. Run ``python benchmarks/counter_scan.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import free_port  # noqa: E402
from tests.browser.fake_camera import write_y4m  # noqa: E402
from webapp.domain.actor import Actor, Role  # noqa: E402
from webapp.domain.clock import utcnow  # noqa: E402
from webapp.domain.presets import DEMO  # noqa: E402
from webapp.persistence.database import make_engine  # noqa: E402
from webapp.persistence.migrate import upgrade  # noqa: E402
from webapp.persistence.models import Branch  # noqa: E402
from webapp.services.business import setup as businesses  # noqa: E402
from webapp.services.customers import accounts as customers  # noqa: E402
from webapp.services.ledger import operations as ledger  # noqa: E402
from webapp.services.program import versions as programs  # noqa: E402
from webapp.services.staff import accounts as staff  # noqa: E402

PASSWORD = "correct horse battery"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream"]
MEASURE = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const frame = Number(sessionStorage.getItem("scanFrameAt"));
  return [performance.timeOrigin + nav.domContentLoadedEventEnd - frame,
          performance.timeOrigin - frame, nav.responseEnd - nav.requestStart];
}"""


def seed(database_url: str) -> tuple[int, int, str]:
    engine = make_engine(database_url)
    upgrade(engine)
    with Session(engine, expire_on_commit=False) as db:
        shop = businesses.create_business(db, name="Гараж", branches=["Центр"])
        branch = db.scalars(select(Branch.id).where(Branch.business_id == shop.id)).one()
        owner = staff.create_staff(db, business_id=shop.id, login="owner", password=PASSWORD,
                                   role=Role.OWNER.value)
        staff.create_staff(db, business_id=shop.id, login="cashier", password=PASSWORD,
                           role=Role.CASHIER.value)
        programs.save(db, Actor.staff(shop.id, owner.id, Role.OWNER), "bench-program",
                      settings=DEMO, now=utcnow() - timedelta(days=1))
        person = customers.join(db, Actor.system(shop.id), phone="+79161234567",
                                name="Иван").customer
        ledger.accrue(db, Actor.system(shop.id), "bench-points", customer_id=person.id,
                      points=1500)
        found = (shop.id, branch, person.card_number)
    engine.dispose()
    return found



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database_url = f"sqlite:///{tmp}/scan.sqlite3"
        business_id, branch_id, card = seed(database_url)
        port = free_port()
        env = {**os.environ, "REGULARS_DATABASE_URL": database_url,
               "REGULARS_INSTANCE_PATH": tmp, "REGULARS_SECRET_KEY": "bench-" + "x" * 40}
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
             "--log-level", "warning", "webapp.app:create_app()"], cwd=ROOT, env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            video = write_y4m(Path(tmp) / "card.y4m", card)
            times = run(base, business_id, branch_id, video, args.scans)
        finally:
            server.terminate()
            server.wait(timeout=20)
    for index, what in enumerate(("camera frame -> customer panel",
                                  "  of which frame -> panel request (decode + identify)",
                                  "  of which the panel's own request")):
        values = sorted(t[index] for t in times)
        print(f"{what}, {len(values)} scans (ms): median {statistics.median(values):.0f},"
              f" p90 {values[int(len(values) * 0.9) - 1]:.0f}, max {values[-1]:.0f}")


def run(base: str, business_id: int, branch_id: int, video: Path,
        scans: int) -> list[list[float]]:
    counter = f"{base}/b/{business_id}/counter/{branch_id}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*ARGS, f"--use-file-for-fake-video-capture={video}"])
        context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
        context.grant_permissions(["camera"])
        page = context.new_page()
        for attempt in range(30):  # gunicorn takes a moment to listen
            try:
                page.goto(f"{base}/b/{business_id}/staff/sign-in?next=/b/{business_id}/counter")
                break
            except Exception:
                time.sleep(0.3 + attempt * 0.1)
        page.get_by_label("Логин").fill("cashier")
        page.get_by_label("Пароль").fill(PASSWORD)
        page.get_by_role("button", name="Войти").click()
        times = []
        for _ in range(scans + 2):  # the first two warm the browser and the server up
            page.wait_for_url("**/customers/*", timeout=20000)
            page.wait_for_load_state("domcontentloaded")
            times.append([float(v) for v in page.evaluate(MEASURE)])
            page.goto(counter)
        browser.close()
    return times[2:]


if __name__ == "__main__":
    main()
