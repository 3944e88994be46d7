/*
 * The customer's rotating check-in code, computed offline and drawn as a QR (SVG).
 *
 * Same algorithm as webapp/domain/checkin.py: "R1.<card>.<step>.<mac>", where
 * step = floor(unix seconds / 30) and mac = the first 10 characters of the RFC 4648
 * base32 (uppercase, no padding) of HMAC-SHA256(secret, "R1.<card>.<step>").
 *
 * Load after the encoder, both as plain external scripts (no inline code):
 *
 *   <script src="/static/vendor/qrcode-generator/qrcode.min.js" defer></script>
 *   <script src="/static/js/checkin_code.js" defer></script>
 *
 * Markup (all attributes on the section; the server translates data-label):
 *
 *   <section id="checkin" data-card="123456789" data-secret="<base64url, no padding>"
 *            data-label="QR-код для кассы">
 *     <div class="checkin-qr"></div>
 *     <p>... <span class="checkin-countdown"></span> ...</p>   (optional)
 *   </section>
 *
 * The QR (error correction M, 4-module quiet zone, black on white) replaces the content
 * of .checkin-qr whenever the 30-second step changes, and when the page becomes visible
 * again. .checkin-qr gets role="img", aria-label = data-label, and data-step = the step
 * shown. .checkin-countdown, if present, gets the seconds until the code changes (text).
 * If the code cannot be made (no Web Crypto outside https, bad data), the section gets
 * the class "checkin-failed" and .checkin-qr is emptied (static/css/checkin.css then
 * hides .checkin-qr and shows an optional .checkin-fallback, e.g. "show your card number").
 *
 * window.RegularsCheckin.code(secretBytes, card, unixSeconds) -> Promise<string> is the
 * pure function (secretBytes: Uint8Array, ArrayBuffer or array of byte values).
 */
(function () {
  "use strict";

  var PREFIX = "R1";
  var STEP_SECONDS = 30;
  var MAC_CHARS = 10;
  var QUIET_MODULES = 4;
  var TICK_MARGIN_MS = 25; // fire just after a boundary, never just before it
  var BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  var SVG_NS = "http://www.w3.org/2000/svg";
  var QR_ALPHANUMERIC = /^[0-9A-Z $%*+\-./:]*$/;

  function base32(bytes) {
    var out = "";
    var buffer = 0;
    var bits = 0;
    for (var i = 0; i < bytes.length; i++) {
      buffer = ((buffer << 8) | bytes[i]) & 0xffff;
      bits += 8;
      while (bits >= 5) {
        out += BASE32.charAt((buffer >>> (bits - 5)) & 31);
        bits -= 5;
      }
    }
    if (bits > 0) {
      out += BASE32.charAt((buffer << (5 - bits)) & 31);
    }
    return out;
  }

  function stepAt(unixSeconds) {
    // Python: int(moment.timestamp()) // 30
    return Math.floor(Math.trunc(unixSeconds) / STEP_SECONDS);
  }

  function toBytes(secret) {
    return secret instanceof Uint8Array ? secret : new Uint8Array(secret);
  }

  function importKey(secretBytes) {
    if (!(window.crypto && window.crypto.subtle)) {
      return Promise.reject(new Error("Web Crypto is unavailable (the page needs https)"));
    }
    return window.crypto.subtle.importKey(
      "raw", toBytes(secretBytes), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  }

  function codeForStep(key, card, step) {
    var message = PREFIX + "." + card + "." + step;
    return window.crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message))
      .then(function (signature) {
        return message + "." + base32(new Uint8Array(signature)).slice(0, MAC_CHARS);
      });
  }

  function code(secretBytes, card, unixSeconds) {
    return importKey(secretBytes).then(function (key) {
      return codeForStep(key, String(card), stepAt(unixSeconds));
    });
  }

  function fromBase64url(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) {
      b64 += "=";
    }
    var raw = atob(b64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) {
      bytes[i] = raw.charCodeAt(i);
    }
    return bytes;
  }

  function qrSvg(text) {
    var qr = window.qrcode(0, "M");
    qr.addData(text, QR_ALPHANUMERIC.test(text) ? "Alphanumeric" : "Byte");
    qr.make();
    var count = qr.getModuleCount();
    var size = count + 2 * QUIET_MODULES;
    var path = [];
    for (var row = 0; row < count; row++) {
      for (var col = 0; col < count; col++) {
        if (qr.isDark(row, col)) {
          path.push("M" + (col + QUIET_MODULES) + " " + (row + QUIET_MODULES) + "h1v1h-1z");
        }
      }
    }
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 " + size + " " + size);
    svg.setAttribute("shape-rendering", "crispEdges");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "checkin-qr-svg");
    var background = document.createElementNS(SVG_NS, "rect");
    background.setAttribute("width", String(size));
    background.setAttribute("height", String(size));
    background.setAttribute("fill", "#fff");
    var modules = document.createElementNS(SVG_NS, "path");
    modules.setAttribute("d", path.join(""));
    modules.setAttribute("fill", "#000");
    svg.appendChild(background);
    svg.appendChild(modules);
    return svg;
  }

  // Without data-label the QR is named like its section (aria-labelledby, e.g. its heading).
  function defaultLabel(section) {
    var by = section.getAttribute("aria-labelledby");
    var heading = by ? document.getElementById(by) : null;
    return heading ? heading.textContent.trim() : "";
  }

  function start(section) {
    var box = section.querySelector(".checkin-qr");
    var countdown = section.querySelector(".checkin-countdown");
    var card = (section.getAttribute("data-card") || "").replace(/[\s-]/g, "");
    var keyPromise = null;
    var shownStep = null;
    var wantedStep = null;
    var timer = 0;

    box.setAttribute("role", "img");
    box.setAttribute("aria-label", section.getAttribute("data-label") || defaultLabel(section));

    function fail(error) {
      section.classList.add("checkin-failed");
      box.textContent = "";
      box.removeAttribute("data-step");
      shownStep = null;
      wantedStep = null; // the next tick tries again
      if (window.console) {
        window.console.error("check-in code:", error);
      }
    }

    try {
      if (!/^[0-9]{9}$/.test(card)) {
        throw new Error("data-card is not a 9-digit card number");
      }
      var secret = fromBase64url(section.getAttribute("data-secret") || "");
      if (!secret.length) {
        throw new Error("data-secret is empty");
      }
      keyPromise = importKey(secret);
    } catch (error) {
      fail(error);
      return;
    }

    function render(step) {
      wantedStep = step;
      keyPromise
        .then(function (key) { return codeForStep(key, card, step); })
        .then(function (text) {
          if (wantedStep !== step) {
            return; // a newer step was asked for while this one was computed
          }
          box.replaceChildren(qrSvg(text));
          box.setAttribute("data-step", String(step));
          section.classList.remove("checkin-failed");
          shownStep = step;
        })
        .catch(fail);
    }

    function tick() {
      window.clearTimeout(timer);
      timer = 0;
      if (document.visibilityState === "hidden") {
        return; // resumed by visibilitychange
      }
      var nowMs = Date.now();
      var step = stepAt(nowMs / 1000);
      if (step !== shownStep && step !== wantedStep) {
        render(step);
      }
      var nextStepMs = (step + 1) * STEP_SECONDS * 1000;
      if (countdown) {
        countdown.textContent = String(Math.ceil((nextStepMs - nowMs) / 1000));
      }
      var nextMs = countdown ? (Math.floor(nowMs / 1000) + 1) * 1000 : nextStepMs;
      timer = window.setTimeout(tick, Math.max(nextMs - nowMs, 0) + TICK_MARGIN_MS);
    }

    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") {
        tick();
      } else {
        window.clearTimeout(timer);
        timer = 0;
      }
    });
    window.addEventListener("pageshow", tick);
    tick();
  }

  window.RegularsCheckin = { code: code };

  function init() {
    var section = document.getElementById("checkin");
    if (section && section.querySelector(".checkin-qr")) {
      start(section);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
