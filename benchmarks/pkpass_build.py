"""Apple Wallet passes built and signed per second on one core, with real images.

The process pins itself to one CPU (``--cpu``, default 0) with ``os.sched_setaffinity``.
A test PKI like Apple's (``tests/integration/wallet/pki.py``: root CA -> stand-in WWDR
-> RSA-2048 pass certificate, UID = pass type id, OU = team id) is written to a
temporary folder and loaded with ``wallet.apple.settings.load``. A throwaway SQLite
database gets the schema, one business running the DEMO program with the app's own
512x512 icon as its logo (``logos.set_logo``), and one customer with four oil changes
closed 350 days ago (tier, progress, stamps and points expiring within 30 days all
shown); ``wallet_cards.view`` gives the real :class:`PassView`.

Measured, in ``--rounds`` interleaved rounds of ``--seconds`` each (interleaving keeps
the comparison fair when other work shares the machine):

* ``build``: ``wallet.apple.pkpass.build`` (pass.json, manifest, detached PKCS#7
  signature, zip with the 9 images and 2 strings files), a new serial each time;
* ``pkcs7``: ``pkpass.sign`` alone (cryptography's PKCS7SignatureBuilder) on the manifest;
* ``rsa``: a bare RSA-2048 PKCS#1 v1.5 SHA-256 signature of the same bytes;
* ``current``: ``webapp.services.wallet.apple_passes.current`` — the database reads (logo,
  view, pass row, branches) plus the build, what the PassKit web service does per request.

Each is reported per wall-clock second and per CPU second of this process
(``time.process_time``): on a busy machine the second is what one core can do. Then
the first (uncached) image rendering, a per-stage breakdown of one build, and a
cProfile of ``--profile`` builds. ``--json FILE`` keeps every number. Nothing but the
local disk is touched.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import machine_facts, throwaway_database  # noqa: E402

from tests.integration.wallet.pki import extra_for, make_pki  # noqa: E402

SECRET = "bench-secret-" + "x" * 40
BASE_URL = "https://regulars.example"


def real_view(url: str) -> tuple[Any, Any, bytes, Callable[[Any], Any]]:
    """A business with a logo and a customer with history; (session, view, logo, current)."""
    from sqlalchemy.orm import Session

    from webapp.domain.actor import Actor, Role
    from webapp.domain.presets import DEMO
    from webapp.persistence.database import make_engine
    from webapp.persistence.migrate import upgrade
    from webapp.persistence.models import Branch
    from webapp.services.business import logos
    from webapp.services.business import setup as businesses
    from webapp.services.counter import orders
    from webapp.services.customers import accounts as customers
    from webapp.services.program import versions as programs
    from webapp.services.staff import accounts as staff
    from webapp.services.wallet.cards import view

    engine = make_engine(url)
    upgrade(engine)
    session = Session(engine, expire_on_commit=False)
    now = datetime.now(UTC)
    shop = businesses.create_business(session, name="Автосервис «Лесная, 5»",
                                      branches=["Центр", "Север"])
    owner = staff.create_staff(session, business_id=shop.id, login="owner",
                               password="bench-password-123", role=Role.OWNER.value)
    actor = Actor.staff(shop.id, owner.id, Role.OWNER)
    programs.save(session, actor, "bench-program", settings=DEMO, now=now - timedelta(days=400))
    branch = session.query(Branch).filter_by(business_id=shop.id).order_by(Branch.id).first()
    assert branch is not None
    branch.address = "Москва, ул. Лесная, 5; +7 495 123-45-67"
    session.commit()
    logo = (ROOT / "static" / "img" / "icon-512.png").read_bytes()
    logos.set_logo(session, shop.id, logo)
    member = customers.join(session, Actor.system(shop.id), phone="+79161234567",
                            name="Иван", now=now - timedelta(days=360)).customer
    for visit in range(4):
        orders.close_order(session, actor, f"bench-order-{visit}", customer_id=member.id,
                           branch_id=branch.id, total_minor=4_500_00, accrue_points=225,
                           service_category="oil_change",
                           expires_at=now + timedelta(days=15 + visit),
                           now=now - timedelta(days=350 - visit))
    shown = view(session, shop.id, member.id, "ru")
    stored = logos.logo_of(session, shop.id)
    assert stored is not None

    def current(settings: Any) -> Any:
        from webapp.services.wallet.apple_passes import current as build_current
        return build_current(session, settings, secret_key=SECRET, base_url=BASE_URL,
                             business_id=shop.id, customer_id=member.id)

    return session, shown, stored.png, current


def rate(work: Callable[[int], Any], seconds: float) -> dict[str, float]:
    """Run ``work(i)`` for about ``seconds``; calls per wall second and per CPU second."""
    count = 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    deadline = wall0 + seconds
    while True:
        for _ in range(20):
            work(count)
            count += 1
        if time.perf_counter() >= deadline:
            break
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {"n": count, "per_s": count / wall, "per_cpu_s": count / cpu if cpu else 0.0}


def stages(view: Any, settings: Any, logo: bytes, repeat: int) -> dict[str, float]:
    """Microseconds per build step, following pkpass.build: the median of ``repeat``
    builds (call it several times and keep the least: other work only adds time)."""
    from wallet.apple import pkpass, zipper
    from wallet.apple.images import images_for

    names = ("images (cached)", "pass.json", "manifest", "signature", "zip")
    times: dict[str, list[float]] = {name: [] for name in names}
    when = datetime.now(UTC)
    for i in range(repeat):
        t0 = time.perf_counter()
        images = images_for(logo, view.business_name)
        t1 = time.perf_counter()
        body = pkpass.pass_json(view, serial=f"{i:020x}", settings=settings,
                                secret_key=SECRET, base_url=BASE_URL)
        t2 = time.perf_counter()
        digests = {"pass.json": hashlib.sha1(body).hexdigest(), **pkpass._STRINGS_SHA1,
                   **images.sha1}
        manifest = json.dumps(digests, sort_keys=True).encode()
        t3 = time.perf_counter()
        signature = pkpass.sign(manifest, settings)
        t4 = time.perf_counter()
        zipper.archive((zipper.entry("pass.json", body, deflate=False, when=when),
                        zipper.entry("manifest.json", manifest, deflate=False, when=when),
                        zipper.entry("signature", signature, deflate=False, when=when),
                        *pkpass._STRINGS_ENTRIES, *images.entries))
        t5 = time.perf_counter()
        for name, (a, b) in zip(names, ((t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5)),
                                strict=True):
            times[name].append((b - a) * 1e6)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", type=int, default=0, help="the CPU to pin to (0)")
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement (3)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (5)")
    parser.add_argument("--profile", type=int, default=2000, help="builds profiled (2000)")
    parser.add_argument("--json", type=Path, help="also save the results to this file")
    args = parser.parse_args()

    machine = machine_facts()  # before pinning: it counts the CPUs this process may use
    os.sched_setaffinity(0, {args.cpu})
    machine["pinned_to_cpu"] = str(args.cpu)
    load = os.getloadavg()
    print(", ".join(f"{k}: {v}" for k, v in machine.items()), flush=True)

    import cryptography
    import PIL
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    from wallet.apple import images, pkpass
    from wallet.apple.settings import load as load_settings

    results: dict[str, Any] = {"machine": machine, "options": vars(args) | {"json": None},
                               "cryptography": cryptography.__version__,
                               "pillow": PIL.__version__, "loadavg_before": load}
    with tempfile.TemporaryDirectory(prefix="regulars_pkpass_") as folder, \
            throwaway_database("sqlite", "pkpass") as url:
        settings = load_settings(extra_for(make_pki(Path(folder) / "pki")))
        assert settings is not None
        session, view, logo, current = real_view(url)
        print(f"view: {view.points_text}, tier {view.tier!r}, stamps {view.stamps!r},"
              f" expiring {view.expiring!r}; logo {len(logo):,} bytes PNG", flush=True)

        t0 = time.perf_counter()
        rendered = images.images_for(logo, view.business_name)
        results["first_render_ms"] = (time.perf_counter() - t0) * 1e3
        results["images_bytes"] = sum(len(data) for data in rendered.files.values())
        when = datetime.now(UTC)
        sample = pkpass.build(view, serial="0" * 20, updated_at=when, settings=settings,
                              secret_key=SECRET, base_url=BASE_URL, logo_png=logo)
        results["pass_bytes"] = len(sample)
        with zipfile.ZipFile(io.BytesIO(sample)) as archive:
            manifest = archive.read("manifest.json")  # what is signed, ~1 KB
        key = settings.private_key
        assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
        print(f"first image rendering {results['first_render_ms']:.0f} ms;"
              f" a pass is {len(sample):,} bytes", flush=True)

        work: dict[str, Callable[[int], Any]] = {
            "build": lambda i: pkpass.build(
                view, serial=f"{i:020x}", updated_at=when, settings=settings,
                secret_key=SECRET, base_url=BASE_URL, logo_png=logo),
            "pkcs7": lambda i: pkpass.sign(manifest, settings),
            "rsa": lambda i: key.sign(manifest, padding.PKCS1v15(), hashes.SHA256()),
            "current": lambda i: current(settings),
        }
        for kind in work:  # warm up
            rate(work[kind], 0.3)
        rounds: dict[str, list[dict[str, float]]] = {kind: [] for kind in work}
        for number in range(args.rounds):
            for kind, run in work.items():
                rounds[kind].append(rate(run, args.seconds))
            print(f"round {number + 1}: " + ", ".join(
                f"{kind} {rounds[kind][-1]['per_s']:,.0f}/s"
                f" ({rounds[kind][-1]['per_cpu_s']:,.0f}/CPU-s)" for kind in work),
                flush=True)
        results["rounds"] = rounds
        chunks = [stages(view, settings, logo, 400) for _ in range(5)]
        results["stages_us"] = {name: min(chunk[name] for chunk in chunks)
                                for name in chunks[0]}
        profiler = cProfile.Profile()
        profiler.enable()
        for i in range(args.profile):
            work["build"](i)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
        results["profile"] = out.getvalue()
        session.close()
    results["loadavg_after"] = os.getloadavg()

    print()
    print("| what | median /s | best /s | median /CPU-s | best /CPU-s |")
    print("|---|---:|---:|---:|---:|")
    for kind, values in results["rounds"].items():
        wall = [v["per_s"] for v in values]
        cpu = [v["per_cpu_s"] for v in values]
        print(f"| {kind} | {statistics.median(wall):,.0f} | {max(wall):,.0f} |"
              f" {statistics.median(cpu):,.0f} | {max(cpu):,.0f} |")
    ratio = [b["per_cpu_s"] / r["per_cpu_s"]
             for b, r in zip(rounds["build"], rounds["rsa"], strict=True)]
    print("\nbuild / bare RSA per round (CPU-s): "
          + ", ".join(f"{x:.2f}" for x in ratio))
    print("\nper build, median µs: " + ", ".join(
        f"{name} {us:,.0f}" for name, us in results["stages_us"].items()))
    print(f"\nload average {load[0]:.2f} before, {results['loadavg_after'][0]:.2f} after")
    print("\n" + results["profile"])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
