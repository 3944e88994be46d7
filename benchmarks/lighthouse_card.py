"""Lighthouse on the customer's card screen, signed in, on a phone (mobile form factor).

Seeds a temporary SQLite database with the demo business (``webapp.demo.generate``) and
one customer with a full card: a tier with perks, oil-change stamps, points pending and
points about to expire. Serves the app with gunicorn on a free 127.0.0.1 port, signs the
customer in over HTTP (phone form, the code texted through the outbox, code form) and
runs Lighthouse against /c/<business>/ with the business's ``customer-<id>`` cookie.
Prints the median category scores, the failing audits, the compressed size of the HTML,
CSS and JS the page loads, and any request to another host; exits 1 when a threshold is
missed.
Run ``python benchmarks/lighthouse_card.py [--runs 3] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import gzip
import html as htmllib
import http.cookiejar
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import free_port, machine_facts  # noqa: E402
from webapp import demo  # noqa: E402
from webapp.domain.actor import Actor, Role  # noqa: E402
from webapp.domain.quote import OrderDraft  # noqa: E402
from webapp.persistence.database import make_engine  # noqa: E402
from webapp.persistence.migrate import upgrade  # noqa: E402
from webapp.persistence.models.staff import StaffUser  # noqa: E402
from webapp.services.counter import checkout  # noqa: E402
from webapp.services.customers import accounts as customers  # noqa: E402
from webapp.services.ledger import operations as ledger  # noqa: E402
from webapp.services.notify import outbox  # noqa: E402
from webapp.sms import ConsoleGateway  # noqa: E402

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
CHROME_FLAGS = ("--headless=new --no-sandbox --disable-gpu --disable-background-networking"
                " --disable-component-update --no-first-run")
PHONE = "+79161234567"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
THRESHOLDS = {"performance": 95, "accessibility": 100, "best-practices": 100, "seo": 90}
MAX_KB = 60.0
LANGUAGES = {"ru": "ru-RU,ru;q=0.9", "en": "en"}
COUNTED = {"Document", "Stylesheet", "Script"}  # plus any other *.css / *.js request
DAY = timedelta(days=1)
ITEM_KEYS = {"url", "wastedMs", "wastedBytes", "totalBytes", "duration", "node", "label"}
# What the seeded card must show: pending and expiring points, tier progress, stamps, perks.
EXPECTED = ('data-points="', "250", 'class="warn"', 'id="tier-progress"', 'class="progress-line"',
            'id="perks-title"', 'id="checkin"')


# -- the data -------------------------------------------------------------------------------

def seed(database_url: str, now: datetime) -> int:
    """The demo business (a few dozen customers) plus Ivan, whose card shows everything:
    the Gold tier with its perk and progress to Platinum, 3 of 6 oil-change stamps, a
    pending hold and points that expire within 30 days. Returns the business id."""
    engine = make_engine(database_url)
    upgrade(engine)
    with Session(engine, expire_on_commit=False) as db:
        made = demo.generate(db, customers=30, seed=7, now=now)
        business_id = made.business_id
        members = {m.login: m for m in db.scalars(
            select(StaffUser).where(StaffUser.business_id == business_id))}
        cashier_row, manager_row = members["cashier1"], members["manager"]
        branch_id = cashier_row.branches[0].id
        cashier = Actor.staff(business_id, cashier_row.id, Role.CASHIER,
                              frozenset(b.id for b in cashier_row.branches))
        manager = Actor.staff(business_id, manager_row.id, Role.MANAGER,
                              frozenset(b.id for b in manager_row.branches))
        system = Actor.system(business_id)
        first = now - 350 * DAY  # the welcome bonus and the first order expire in 15 days
        ivan = customers.join(db, system, phone=PHONE, name="Иван Петров", now=first).customer
        # 8 orders, 27 800 ₽: Gold (7 orders), on the way to Platinum (15 or 30 000 ₽).
        visits = [(350, "oil_change", 3_500), (300, "diagnostics", 2_000),
                  (240, "brakes", 5_000), (180, "oil_change", 3_500),
                  (120, "tyres", 4_000), (60, "diagnostics", 2_000),
                  (20, "oil_change", 3_800), (5, "maintenance", 4_000)]
        for number, (days, category, roubles) in enumerate(visits):
            checkout.close(db, cashier, f"lighthouse-order-{number}", customer_id=ivan.id,
                           branch_id=branch_id, draft=OrderDraft(roubles * 100, category, None),
                           now=now - days * DAY + timedelta(hours=10), phone_present=True)
        ledger.adjust(db, manager, "lighthouse-adjust", customer_id=ivan.id, points=300,
                      reason="Компенсация за задержку ремонта", expires_at=now + 9 * DAY,
                      now=now - 2 * DAY)
        ledger.hold(db, system, "lighthouse-hold", customer_id=ivan.id, points=250,
                    release_at=now + 7 * DAY, now=now - DAY)
    engine.dispose()
    return business_id


# -- the server and signing in -----------------------------------------------------------------


def wait_until_up(url: str, server: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise SystemExit(f"the app did not answer {url} in {seconds} s")


def csrf_token(opener: urllib.request.OpenerDirector, url: str) -> str:
    with opener.open(url, timeout=10) as answer:
        found = re.search(r'name="csrf_token" value="([^"]+)"', answer.read().decode())
    if not found:
        raise SystemExit(f"no CSRF token on {url}")
    return found.group(1)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 302 comes back as an HTTPError, with its Location


def sign_in(base: str, business_id: int, database_url: str) -> str:
    """Sign Ivan in like a phone would; returns its ``customer-<id>`` cookie's value."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    app = f"{base}/c/{business_id}"

    def post(path: str, form: dict[str, str]) -> str:
        """POST a form; returns where the 302 points."""
        data = urllib.parse.urlencode(form).encode()
        try:
            with opener.open(f"{app}{path}", data=data, timeout=10) as answer:
                raise SystemExit(f"POST {path} answered {answer.status}, not a redirect")
        except urllib.error.HTTPError as answer:
            if answer.code != 302:
                raise SystemExit(f"POST {path} answered {answer.code}") from None
            return urllib.parse.urljoin(f"{app}{path}", answer.headers.get("Location", ""))

    landed = post("/sign-in", {"csrf_token": csrf_token(opener, f"{app}/sign-in"),
                               "phone": PHONE, "data_consent": "yes"})
    if not landed.endswith("/code"):
        raise SystemExit(f"asking for a code landed on {landed}")
    gateway = ConsoleGateway()  # what `regulars worker` does, into a console gateway
    engine = make_engine(database_url)
    try:
        with Session(engine) as db:
            outbox.run_once(db, {outbox.SMS: outbox.sms_sender(gateway)})
    finally:
        engine.dispose()
    text = gateway.last_to(PHONE) or ""
    code = re.match(r"(\d{6}) ", text)
    if not code:
        raise SystemExit(f"no code texted to {PHONE}: {text!r}")
    landed = post("/code", {"csrf_token": csrf_token(opener, f"{app}/code"),
                            "code": code.group(1)})
    cookie = next((c.value for c in jar if c.name == f"customer-{business_id}"), None)
    if not landed.endswith(f"/c/{business_id}/") or not cookie:
        raise SystemExit(f"signing in landed on {landed} without a customer cookie")
    return cookie


def fetch(url: str, headers: dict[str, str]) -> tuple[bytes, str]:
    """The body as served (urllib asks for no compression) and its Content-Encoding."""
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.read(), answer.headers.get("Content-Encoding", "")


def the_card(url: str, headers: dict[str, str]) -> tuple[str, str, list[str]]:
    """The card's ``<html lang>``, its service worker's URL and the parts it should show
    but does not; stops with the server's answer if it is no card."""
    try:
        html = fetch(url, headers)[0].decode()
    except urllib.error.HTTPError as error:
        raise SystemExit(f"GET {url} answered {error.code}: the card screen is broken"
                         " (see gunicorn's log above)") from None
    lang = re.search(r'<html[^>]*\blang="([^"]+)"', html)
    worker = re.search(r'data-sw="([^"]+)"', html)
    missing = [part for part in EXPECTED if part not in html]
    return (lang.group(1) if lang else "", htmllib.unescape(worker.group(1)) if worker else "",
            missing)


# -- Lighthouse -------------------------------------------------------------------------------

def lighthouse(url: str, headers: dict[str, str], out: Path) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    done = subprocess.run(
        [str(LIGHTHOUSE), url, "--output=json", f"--output-path={out}", "--quiet",
         f"--chrome-flags={CHROME_FLAGS}", f"--extra-headers={json.dumps(headers)}"],
        env={**os.environ, "CHROME_PATH": CHROMIUM}, capture_output=True, text=True,
        timeout=300, check=False)
    seconds = time.monotonic() - started
    if done.returncode != 0 or not out.exists():
        raise SystemExit(f"lighthouse failed ({done.returncode}):\n{done.stderr[-3000:]}")
    report = json.loads(out.read_text(encoding="utf-8"))
    if report.get("runtimeError"):
        raise SystemExit(f"lighthouse: {report['runtimeError']}")
    final = report.get("finalDisplayedUrl") or report.get("finalUrl")
    if final != url:
        raise SystemExit(f"lighthouse ended on {final}, not {url}: is the cookie accepted?")
    return report, seconds


def failing(report: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Audits that do not pass: a binary audit below 1, a scored one below 0.9."""
    found = {}
    for audit_id, audit in report["audits"].items():
        score, mode = audit.get("score"), audit.get("scoreDisplayMode")
        if score is None or mode in ("informative", "notApplicable", "manual", "error"):
            continue
        if score < (1 if mode == "binary" else 0.9):
            items = (audit.get("details") or {}).get("items")
            items = items if isinstance(items, list) else []
            found[audit_id] = {"title": audit.get("title", ""),
                               "shown": audit.get("displayValue", ""), "score": score,
                               "items": [{k: v for k, v in item.items() if k in ITEM_KEYS}
                                         for item in items[:12] if isinstance(item, dict)]}
    return found


def requests_of(report: dict[str, Any]) -> list[dict[str, Any]]:
    return list(report["audits"]["network-requests"]["details"]["items"])


def foreign(requests: list[dict[str, Any]], origin: str) -> list[str]:
    """Requests to any other host (data: and blob: URLs stay on the page)."""
    host = urllib.parse.urlsplit(origin).netloc
    return sorted({r["url"] for r in requests
                   if urllib.parse.urlsplit(r["url"]).scheme in ("http", "https", "ws", "wss")
                   and urllib.parse.urlsplit(r["url"]).netloc != host})


def sizes(requests: list[dict[str, Any]], origin: str, headers: dict[str, str],
          worker: str) -> list[dict[str, Any]]:
    """The HTML, CSS and JS the page loaded, and the service worker it registers (its
    fetch is not in Lighthouse's list): bytes as served and gzip -6 of them."""
    rows, seen = [], set()
    if worker:
        requests = [*requests, {"url": urllib.parse.urljoin(origin, worker),
                                "resourceType": "ServiceWorker"}]
    for r in requests:
        url = r["url"]
        path = urllib.parse.urlsplit(url).path
        if url in seen or not url.startswith(origin) or not (
                r.get("resourceType") in COUNTED or path.endswith((".css", ".js"))):
            continue
        seen.add(url)
        body, encoding = fetch(url, headers)
        packed = len(body) if encoding in ("gzip", "br") else len(gzip.compress(body, 6))
        rows.append({"url": url[len(origin):], "type": r.get("resourceType", ""),
                     "bytes": len(body), "gzip": packed,
                     "lighthouse_transfer": r.get("transferSize", 0)})
    return rows


def measure(url: str, origin: str, headers: dict[str, str], worker: str, runs: int,
            folder: Path, label: str) -> dict[str, Any]:
    reports, times = [], []
    for run in range(runs):
        report, seconds = lighthouse(url, headers, folder / f"{label}-{run}.json")
        reports.append(report)
        times.append(round(seconds, 1))
        scores = {c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES}
        print(f"  [{label}] run {run + 1}/{runs}: {scores} in {seconds:.1f} s", flush=True)
    medians = {c: statistics.median(round(r["categories"][c]["score"] * 100) for r in reports)
               for c in CATEGORIES}
    audits: dict[str, dict[str, Any]] = {}
    for report in reports:
        for audit_id, audit in failing(report).items():
            audits.setdefault(audit_id, {**audit, "runs": 0})["runs"] += 1
    requests = [r for report in reports for r in requests_of(report)]
    files = sizes(requests_of(reports[0]), origin, headers, worker)
    metrics = {m: statistics.median(r["audits"][m]["numericValue"] for r in reports)
               for m in ("first-contentful-paint", "largest-contentful-paint",
                         "total-blocking-time", "cumulative-layout-shift", "speed-index")}
    return {"scores": medians, "runs": [{c: round(r["categories"][c]["score"] * 100)
                                         for c in CATEGORIES} for r in reports],
            "seconds_per_run": times, "failing_audits": audits, "metrics": metrics,
            "files": files, "gzip_kb": round(sum(f["gzip"] for f in files) / 1024, 1),
            "raw_kb": round(sum(f["bytes"] for f in files) / 1024, 1),
            "foreign_requests": foreign(requests, origin),
            "requests": sorted({r["url"][len(origin):] if r["url"].startswith(origin)
                                else r["url"] for r in requests})}


def verdict(result: dict[str, Any]) -> list[str]:
    missed = [f"{c} {result['scores'][c]:g} < {t}" for c, t in THRESHOLDS.items()
              if result["scores"][c] < t]
    if result["gzip_kb"] >= MAX_KB:
        missed.append(f"{result['gzip_kb']} KB compressed >= {MAX_KB:g} KB")
    if result["foreign_requests"]:
        missed.append(f"requests to other hosts: {result['foreign_requests']}")
    return missed


def show(label: str, result: dict[str, Any]) -> None:
    print(f"\n== {label}: median of {len(result['runs'])} runs ==")
    print("  " + "  ".join(f"{c} {result['scores'][c]:g}" for c in CATEGORIES))
    m = result["metrics"]
    print(f"  FCP {m['first-contentful-paint']:.0f} ms, LCP {m['largest-contentful-paint']:.0f}"
          f" ms, TBT {m['total-blocking-time']:.0f} ms, CLS {m['cumulative-layout-shift']:.3f},"
          f" SI {m['speed-index']:.0f} ms")
    print(f"  transfer (gzip -6): {result['gzip_kb']} KB of {result['raw_kb']} KB raw")
    for f in result["files"]:
        shown = f["url"] if len(f["url"]) < 60 else f["url"].split("?")[0] + "?…"
        print(f"    {f['gzip']:>7,} B  ({f['bytes']:>7,} raw)  {f['type']:<13} {shown}")
    print(f"  other hosts: {', '.join(result['foreign_requests']) or 'none'}")
    print("  failing audits:" + ("" if result["failing_audits"] else " none"))
    for audit_id, a in sorted(result["failing_audits"].items()):
        shown = f" — {a['shown']}" if a["shown"] else ""
        print(f"    {audit_id}: {a['title']}{shown} (score {a['score']}, {a['runs']}/"
              f"{len(result['runs'])} runs)")
    print(f"  seconds per Lighthouse run: {result['seconds_per_run']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per language")
    parser.add_argument("--json", type=Path, help="save everything to this file")
    parser.add_argument("--reports", type=Path,
                        help="keep Lighthouse's own JSON reports in this folder")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    started = time.monotonic()
    results: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
                               "machine": machine_facts(), "thresholds": THRESHOLDS,
                               "max_kb": MAX_KB}
    with tempfile.TemporaryDirectory(prefix="regulars_lighthouse_") as tmp:
        folder = args.reports or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        database_url = f"sqlite:///{Path(tmp) / 'card.sqlite3'}"
        business_id = seed(database_url, datetime.now(UTC))
        port = free_port()
        env = {**os.environ, "REGULARS_DATABASE_URL": database_url,
               "REGULARS_INSTANCE_PATH": tmp, "REGULARS_SECRET_KEY": "bench-" + "x" * 40}
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
             "--log-level", "warning", "webapp.app:create_app()"], cwd=ROOT, env=env)
        try:
            origin = f"http://127.0.0.1:{port}"
            url = f"{origin}/c/{business_id}/"
            wait_until_up(f"{url}sign-in", server)
            cookie = sign_in(origin, business_id, database_url)
            results["seed_seconds"] = round(time.monotonic() - started, 1)
            for lang, accept in LANGUAGES.items():
                headers = {"Cookie": f"customer-{business_id}={cookie}", "Accept-Language": accept}
                served, worker, missing = the_card(url, headers)
                if missing:
                    print(f"[{lang}] warning: the card shows none of {missing}")
                if lang != "ru" and served != lang:
                    print(f"\n[{lang}] the card is served with <html lang=\"{served}\"> for"
                          f" Accept-Language: {accept}: not translated yet, skipped")
                    results[lang] = {"skipped": f'served as lang="{served}"'}
                    continue
                results[lang] = measure(url, origin, headers, worker, args.runs, folder, lang)
                results[lang]["card_lacks"] = missing
        finally:
            server.terminate()
            server.wait(timeout=20)
    missed = []
    for lang in LANGUAGES:
        if "scores" in results[lang]:
            show(f"card /c/<business>/ [{lang}]", results[lang])
            missed += [f"[{lang}] {m}" for m in verdict(results[lang])]
    results["missed"] = missed
    results["total_seconds"] = round(time.monotonic() - started, 1)
    print(f"\ntotal {results['total_seconds']} s (seeding and sign-in"
          f" {results['seed_seconds']} s)")
    print("thresholds: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n",
                             encoding="utf-8")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
