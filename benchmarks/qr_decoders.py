"""In-browser QR decoders for the staff counter page: jsQR against qr-scanner.

The two npm packages are fetched with ``npm pack`` (the ordinary client) into a
temporary directory, unpacked, and served with a tiny test page from Python's
``http.server`` on 127.0.0.1, under the Content-Security-Policy the app sends. Debian's
Chromium (``/usr/bin/chromium``), driven by Playwright, gets a fake camera that shows a
QR code (``tests/browser/fake_camera.py``), and the page measures:

* per-frame time for a 640x480 camera frame: draw the video into a canvas, read the
  pixels and decode, on the main thread with jsQR (both ``inversionAttempts``
  settings) and with ``QrScanner.scanImage`` on qr-scanner's worker engine (full
  frame, and the continuous scanner's default region: the centre 2/3 square scaled to
  400x400). The same is measured on a camera that sees no QR, the usual case at a
  counter. Long tasks (over 50 ms) on the main thread are counted too;
* the time from calling ``getUserMedia`` (or ``QrScanner.start``) to the first
  correct decode, on a fresh page each run;
* whether each library works under a CSP without ``blob:`` workers.

Run ``python benchmarks/qr_decoders.py --help``. Nothing but 127.0.0.1 and the npm
registry (for ``npm pack``) is contacted.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.browser.fake_camera import blank_y4m, write_y4m

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
CSP = "default-src 'self'; script-src 'self'; worker-src 'self' blob:"
CSP_NO_BLOB = "default-src 'self'; script-src 'self'; worker-src 'self'"
CARD = "123456786"
ROTATING = "R1.123456786.59847840.ITYCH4TSBW"
LIBRARIES = {
    "jsqr": ["dist/jsQR.js", "LICENSE"],
    "qr-scanner": ["qr-scanner.umd.min.js", "qr-scanner-worker.min.js", "LICENSE"],
}

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<script src="/{script}"></script>
<script src="/bench.js"></script>
</head><body></body></html>
"""

BENCH_JS = r"""
"use strict";
(function () {
  const violations = [];
  document.addEventListener("securitypolicyviolation", (e) => {
    violations.push(e.effectiveDirective + " " + e.blockedURI);
  });
  const longTasks = [];
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) longTasks.push(entry.duration);
    }).observe({ entryTypes: ["longtask"] });
  } catch (e) { /* no Long Tasks API */ }

  const CONSTRAINTS = { audio: false, video: { facingMode: { ideal: "environment" },
                        width: { ideal: 640 }, height: { ideal: 480 } } };
  const nextFrame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function newVideo() {
    const video = document.createElement("video");
    video.muted = true;
    video.playsInline = true;
    document.body.appendChild(video);
    return video;
  }

  async function openCamera() {
    const video = newVideo();
    video.srcObject = await navigator.mediaDevices.getUserMedia(CONSTRAINTS);
    await video.play();
    while (video.readyState < 2 || !video.videoWidth) await nextFrame();
    return video;
  }

  function closeCamera(video) {
    if (video.srcObject) video.srcObject.getTracks().forEach((t) => t.stop());
    video.remove();
  }

  function canvasFor(video, width, height) {
    const canvas = document.createElement("canvas");
    canvas.width = width || video.videoWidth;
    canvas.height = height || video.videoHeight;
    return [canvas, canvas.getContext("2d", { willReadFrequently: true })];
  }

  async function collectLongTasks(from) {
    await sleep(200);  // long task entries are delivered asynchronously
    return longTasks.slice(from);
  }

  // Per-frame times of jsQR on the main thread.
  async function jsqrFrames(frames, inversionAttempts) {
    const video = await openCamera();
    const [canvas, ctx] = canvasFor(video);
    for (let i = 0; i < 3; i++) {  // warm up the JIT
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
      const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
      jsQR(img.data, img.width, img.height, { inversionAttempts });
    }
    await sleep(200);  // let the warm-up's long tasks arrive before counting
    const first = longTasks.length;
    const total = [], decode = [], texts = [];
    for (let i = 0; i < frames; i++) {
      await nextFrame();
      const t0 = performance.now();
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
      const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
      const t1 = performance.now();
      const code = jsQR(img.data, img.width, img.height, { inversionAttempts });
      const t2 = performance.now();
      total.push(t2 - t0);
      decode.push(t2 - t1);
      texts.push(code ? code.data : null);
    }
    closeCamera(video);
    return { total, decode, texts, size: [canvas.width, canvas.height],
             engine: "main thread", longTasks: await collectLongTasks(first) };
  }

  // Per-frame times of QrScanner.scanImage on one reused engine (its worker here).
  async function qrScannerFrames(frames, region) {
    const video = await openCamera();
    const engine = await QrScanner.createQrEngine();
    const name = engine instanceof Worker ? "worker" : engine.constructor.name;
    const canvas = document.createElement("canvas");
    const w = video.videoWidth, h = video.videoHeight;
    let scanRegion;
    if (region === "centre") {  // the continuous scanner's default scan region
      const side = Math.round((2 / 3) * Math.min(w, h));
      scanRegion = { x: Math.round((w - side) / 2), y: Math.round((h - side) / 2),
                     width: side, height: side, downScaledWidth: 400, downScaledHeight: 400 };
    }
    const options = { qrEngine: engine, canvas, scanRegion, returnDetailedScanResult: true };
    const scan = async () => {
      try { return (await QrScanner.scanImage(video, options)).data; } catch (e) { return null; }
    };
    for (let i = 0; i < 3; i++) await scan();
    await sleep(200);
    const first = longTasks.length;
    const total = [], texts = [];
    for (let i = 0; i < frames; i++) {
      await nextFrame();
      const t0 = performance.now();
      const text = await scan();
      total.push(performance.now() - t0);
      texts.push(text);
    }
    if (engine instanceof Worker) engine.terminate();
    closeCamera(video);
    return { total, decode: null, texts, size: [w, h], engine: name,
             longTasks: await collectLongTasks(first) };
  }

  // From getUserMedia to the first correct jsQR read, decoding as fast as it finishes.
  async function jsqrFirstDecode(expected, timeoutMs) {
    const t0 = performance.now();
    const video = newVideo();
    video.srcObject = await navigator.mediaDevices.getUserMedia(CONSTRAINTS);
    await video.play();
    const tStream = performance.now();
    let canvas = null, ctx = null, attempts = 0;
    while (performance.now() - t0 < timeoutMs) {
      await nextFrame();
      if (video.readyState < 2 || !video.videoWidth) continue;
      if (!canvas) [canvas, ctx] = canvasFor(video);
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
      const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
      attempts++;
      const code = jsQR(img.data, img.width, img.height, { inversionAttempts: "dontInvert" });
      if (code && code.data === expected) {
        const t = performance.now();
        closeCamera(video);
        return { ms: t - t0, stream_ms: tStream - t0, since_navigation_ms: t, attempts,
                 engine: "main thread", violations };
      }
    }
    closeCamera(video);
    return { ms: null, attempts, engine: "main thread", violations };
  }

  // From QrScanner.start() (which calls getUserMedia) to the first correct read.
  function qrScannerFirstDecode(expected, timeoutMs) {
    const video = newVideo();
    let attempts = 0, scanner = null, error = null;
    const t0 = performance.now();
    return new Promise((resolve) => {
      const finish = (ms) => {
        scanner.stop();
        scanner.destroy();
        resolve({ ms, since_navigation_ms: ms === null ? null : performance.now(), attempts,
                  error, violations });
      };
      scanner = new QrScanner(video, (result) => {
        attempts++;
        if (result.data === expected) finish(performance.now() - t0);
      }, { returnDetailedScanResult: true, preferredCamera: "environment",
           onDecodeError: (e) => {
             attempts++;
             if (String(e).indexOf("No QR") < 0) error = String(e);
           } });
      scanner.start().catch((e) => { error = String(e); });
      setTimeout(() => finish(null), timeoutMs);
    });
  }

  async function qrScannerEngine() {
    try {
      const engine = await QrScanner.createQrEngine();
      const name = engine instanceof Worker ? "worker" : engine.constructor.name;
      if (engine instanceof Worker) engine.terminate();
      return { engine: name, violations };
    } catch (e) {
      return { engine: null, error: String(e), violations };
    }
  }

  window.bench = { jsqrFrames, qrScannerFrames, jsqrFirstDecode, qrScannerFirstDecode,
                   qrScannerEngine };
})();
"""


class Handler(http.server.SimpleHTTPRequestHandler):
    """Static files with the app's CSP; ``?csp=no-blob`` serves the stricter one."""

    extensions_map = {  # noqa: RUF012
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
    }

    def end_headers(self) -> None:
        strict = "csp=no-blob" in self.path
        self.send_header("Content-Security-Policy", CSP_NO_BLOB if strict else CSP)
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(root: Path) -> Iterator[str]:
    handler = functools.partial(Handler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def fetch_packages(specs: list[str], into: Path) -> dict[str, dict[str, str]]:
    """``npm pack`` each spec into ``into``, unpack it; return name -> version and integrity."""
    out = subprocess.run(
        ["npm", "pack", "--json", *specs], cwd=into, check=True, capture_output=True, text=True
    ).stdout
    packages = {}
    for item in json.loads(out):
        target = into / item["name"]
        with tarfile.open(into / item["filename"]) as tar:
            tar.extractall(target, filter="data")
        packages[item["name"]] = {
            "version": item["version"],
            "integrity": item["integrity"],
            "shasum": item["shasum"],
            "dir": str(target / "package"),
        }
    return packages


def build_site(root: Path, packages: dict[str, dict[str, str]]) -> None:
    for name, files in LIBRARIES.items():
        source = Path(packages[name]["dir"])
        (root / name).mkdir(parents=True)
        for file in files:
            (root / name / Path(file).name).write_bytes((source / file).read_bytes())
    (root / "bench.js").write_text(BENCH_JS)
    (root / "jsqr.html").write_text(PAGE.format(title="jsQR", script="jsqr/jsQR.js"))
    (root / "qr-scanner.html").write_text(
        PAGE.format(title="qr-scanner", script="qr-scanner/qr-scanner.umd.min.js")
    )


def stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median": statistics.median(ordered), "p95": p95, "max": ordered[-1]}


def run(args: argparse.Namespace, root: Path, base: str) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    videos = {
        "card": (CARD, write_y4m(root / "card.y4m", CARD)),
        "rotating": (ROTATING, write_y4m(root / "rotating.y4m", ROTATING)),
        "no QR": (None, blank_y4m(root / "blank.y4m")),
    }
    load = os.getloadavg()[0]
    per_frame: list[dict[str, Any]] = []
    first: list[dict[str, Any]] = []
    csp: dict[str, Any] = {}
    timeout = 15000
    with sync_playwright() as playwright:
        for label, (text, video) in videos.items():
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={video}"],
            )
            try:

                def fresh_page(html: str, browser: Any = browser) -> Any:
                    context = browser.new_context()
                    page = context.new_page()
                    page.goto(f"{base}/{html}")
                    return page

                cases = [
                    (
                        "jsQR",
                        "main thread, attemptBoth",
                        "jsqr.html",
                        f"bench.jsqrFrames({args.frames}, 'attemptBoth')",
                    ),
                    (
                        "jsQR",
                        "main thread, dontInvert",
                        "jsqr.html",
                        f"bench.jsqrFrames({args.frames}, 'dontInvert')",
                    ),
                    (
                        "qr-scanner",
                        "scanImage, full frame",
                        "qr-scanner.html",
                        f"bench.qrScannerFrames({args.frames}, 'full')",
                    ),
                    (
                        "qr-scanner",
                        "scanImage, centre 2/3 -> 400px",
                        "qr-scanner.html",
                        f"bench.qrScannerFrames({args.frames}, 'centre')",
                    ),
                ]
                for library, how, html, call in cases:
                    page = fresh_page(html)
                    result = page.evaluate(call)
                    page.context.close()
                    read = sum(1 for t in result["texts"] if t == text) if text else 0
                    wrong = sum(1 for t in result["texts"] if t not in (None, text))
                    per_frame.append(
                        {
                            "video": label,
                            "library": library,
                            "how": how,
                            "engine": result["engine"],
                            "size": result["size"],
                            "total": stats(result["total"]),
                            "decode": stats(result["decode"]) if result["decode"] else None,
                            "read": read,
                            "wrong": wrong,
                            "frames": len(result["total"]),
                            "long_tasks": len(result["longTasks"]),
                            "long_task_ms": sum(result["longTasks"]),
                        }
                    )
                    print(
                        f"  {label:8} {library:10} {how:32} "
                        f"median {per_frame[-1]['total']['median']:6.1f} ms",
                        file=sys.stderr,
                    )
                if text is None:
                    continue
                for library, html, call in [
                    ("jsQR", "jsqr.html", f"bench.jsqrFirstDecode({text!r}, {timeout})"),
                    (
                        "qr-scanner",
                        "qr-scanner.html",
                        f"bench.qrScannerFirstDecode({text!r}, {timeout})",
                    ),
                ]:
                    runs = []
                    for _ in range(args.runs):
                        page = fresh_page(html)
                        runs.append(page.evaluate(call))
                        page.context.close()
                    times = [r["ms"] for r in runs if r["ms"] is not None]
                    first.append(
                        {
                            "video": label,
                            "library": library,
                            "runs": len(runs),
                            "succeeded": len(times),
                            "ms": stats(times) if times else None,
                            "since_navigation_ms": statistics.median(
                                [r["since_navigation_ms"] for r in runs if r["ms"] is not None]
                            )
                            if times
                            else None,
                        }
                    )
                if label == "card":
                    for policy in ("app", "no-blob"):
                        query = "?csp=no-blob" if policy == "no-blob" else ""
                        page = fresh_page(f"jsqr.html{query}")
                        js = page.evaluate(f"bench.jsqrFirstDecode({text!r}, {timeout})")
                        page.context.close()
                        page = fresh_page(f"qr-scanner.html{query}")
                        engine = page.evaluate("bench.qrScannerEngine()")
                        scanner = page.evaluate(f"bench.qrScannerFirstDecode({text!r}, 8000)")
                        page.context.close()
                        csp[policy] = {
                            "policy": CSP_NO_BLOB if policy == "no-blob" else CSP,
                            "jsqr_reads": js["ms"] is not None,
                            "jsqr_violations": js["violations"],
                            "qr_scanner_engine": engine.get("engine"),
                            "qr_scanner_engine_error": engine.get("error"),
                            "qr_scanner_reads": scanner["ms"] is not None,
                            "qr_scanner_error": scanner.get("error"),
                            "qr_scanner_violations": sorted(set(scanner["violations"])),
                        }
                version = browser.version
            finally:
                browser.close()
    return {
        "per_frame": per_frame,
        "first_decode": first,
        "csp": csp,
        "chromium": version,
        "load": load,
    }


def report(results: dict[str, Any], packages: dict[str, dict[str, str]]) -> str:
    lines = [
        f"Chromium {results['chromium']} headless (--disable-gpu), {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {results['load']:.1f} at the start; "
        + ", ".join(f"{n} {p['version']}" for n, p in packages.items()),
        "",
        "Per frame (640x480 camera frame: drawImage + getImageData + decode), ms:",
        "",
        "| video | library | how | engine | median | p95 | max | decode median | read | "
        "long tasks |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results["per_frame"]:
        decode = f"{r['decode']['median']:.1f}" if r["decode"] else "-"
        read = f"{r['read']}/{r['frames']}" + (f" ({r['wrong']} wrong)" if r["wrong"] else "")
        lines.append(
            f"| {r['video']} | {r['library']} | {r['how']} | {r['engine']} | "
            f"{r['total']['median']:.1f} | {r['total']['p95']:.1f} | {r['total']['max']:.1f} | "
            f"{decode} | {read} | {r['long_tasks']} ({r['long_task_ms']:.0f} ms) |"
        )
    lines += [
        "",
        "From getUserMedia (jsQR) / QrScanner.start() to the first correct read, fresh page "
        "each run, ms:",
        "",
        "| video | library | runs ok | median | p95 | max | since navigation (median) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results["first_decode"]:
        if r["ms"]:
            lines.append(
                f"| {r['video']} | {r['library']} | {r['succeeded']}/{r['runs']} | "
                f"{r['ms']['median']:.0f} | {r['ms']['p95']:.0f} | {r['ms']['max']:.0f} | "
                f"{r['since_navigation_ms']:.0f} |"
            )
        else:
            lines.append(f"| {r['video']} | {r['library']} | 0/{r['runs']} | - | - | - | - |")
    lines += ["", "Content-Security-Policy:", ""]
    for c in results["csp"].values():
        lines.append(
            f"- `{c['policy']}`: jsQR reads: {c['jsqr_reads']}; qr-scanner engine: "
            f"{c['qr_scanner_engine']}, reads: {c['qr_scanner_reads']}"
            + (
                f", error: {c['qr_scanner_error'] or c['qr_scanner_engine_error']}"
                if c["qr_scanner_error"] or c["qr_scanner_engine_error"]
                else ""
            )
            + (f", violations: {c['qr_scanner_violations']}" if c["qr_scanner_violations"] else "")
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jsqr", default="jsqr@1.4.0", help="npm spec (default jsqr@1.4.0)")
    parser.add_argument(
        "--qr-scanner", default="qr-scanner@1.4.2", help="npm spec (default qr-scanner@1.4.2)"
    )
    parser.add_argument("--frames", type=int, default=50, help="frames per case (default 50)")
    parser.add_argument("--runs", type=int, default=5, help="first-decode runs (default 5)")
    parser.add_argument("--json", type=Path, help="also save every result to this file")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="qr_decoders_") as tmp:
        root = Path(tmp)
        (root / "npm").mkdir()
        packages = fetch_packages([args.jsqr, args.qr_scanner], root / "npm")
        site = root / "site"
        build_site(site, packages)
        with serve(site) as base:
            results = run(args, root, base)
    for p in packages.values():
        p.pop("dir")
    print(report(results, packages))
    if args.json:
        args.json.write_text(json.dumps({"packages": packages, **results}, indent=2))


if __name__ == "__main__":
    main()
