/*
 * QrCamera: the rear camera in a <video>, decoded continuously with the vendored jsQR.
 *
 * Load after the decoder, both as plain external scripts (no inline code, no eval, no
 * workers, so it works under "script-src 'self'"):
 *
 *   <script src="/static/vendor/jsqr/jsQR.min.js" defer></script>
 *   <script src="/static/js/qr_camera.js" defer></script>
 *
 * API (window.QrCamera):
 *   start(videoEl, onText, {onError}) -> Promise   opens the camera; resolves once the
 *       video plays. onText(text) is called for each read. On failure onError(error) gets
 *       the DOMException from getUserMedia (NotAllowedError, NotFoundError,
 *       NotReadableError, OverconstrainedError, SecurityError), or NotSupportedError
 *       without a camera API or decoder, and the promise rejects with the same error (so
 *       a page may use either). If the camera stops by itself later, onError gets a
 *       NotReadableError. If stop() comes first the promise rejects with an AbortError
 *       and onError is not called. Call start() from a click, so that the read beep may
 *       sound.
 *   stop()                  stops decoding and every camera track, clears the video.
 *   torch(on) -> Promise<bool>   switches the torch; false if the camera has none or refused.
 *   hasTorch() -> bool      whether the running camera reports a torch.
 *
 * A text is reported once, then ignored while it keeps being seen: it is reported again
 * only after 2 s without it (so a card held in front of the camera counts once).
 * Frames are decoded at most every 100 ms (and never back to back), scaled down so the
 * longer side is at most 640 px, to keep a phone cool.
 */
(function () {
  "use strict";

  var DECODE_EVERY_MS = 100;
  var MIN_IDLE_MS = 30;
  var REPEAT_AFTER_MS = 2000;
  var MAX_SIDE = 640;

  var session = 0; // bumped by start() and stop(): a late getUserMedia answer is dropped
  var stream = null;
  var video = null;
  var canvas = null;
  var context = null;
  var frameRequest = 0;
  var nextDecodeAt = 0;
  var lastText = null;
  var lastSeenAt = 0;
  var handlers = null;
  var audio = null;

  function error(name, message) {
    try {
      return new DOMException(message, name);
    } catch (e) {
      var err = new Error(message);
      err.name = name;
      return err;
    }
  }

  function report(err) {
    if (handlers && typeof handlers.onError === "function") {
      try {
        handlers.onError(err);
      } catch (e) {
        setTimeout(function () { throw e; });
      }
    }
  }

  function videoTrack() {
    return stream ? stream.getVideoTracks()[0] || null : null;
  }

  function prepareAudio() {
    // Created (or resumed) inside the user's click, so that later beeps may sound.
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    try {
      if (!audio) audio = new Ctx();
      if (audio.state === "suspended") audio.resume();
    } catch (e) {
      audio = null;
    }
  }

  function beep() {
    if (!audio) return;
    try {
      var t = audio.currentTime;
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = 1760;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.25, t + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.09);
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start(t);
      osc.stop(t + 0.1);
    } catch (e) {
      /* no sound is not an error */
    }
  }

  function announce(text) {
    beep();
    if (typeof navigator.vibrate === "function") {
      try { navigator.vibrate(80); } catch (e) { /* ignored */ }
    }
    try {
      handlers.onText(text);
    } catch (e) {
      setTimeout(function () { throw e; });
    }
  }

  function decodeFrame(now) {
    var width = video.videoWidth;
    var height = video.videoHeight;
    if (!width || !height || video.readyState < 2) return;
    var scale = Math.min(1, MAX_SIDE / Math.max(width, height));
    var w = Math.round(width * scale);
    var h = Math.round(height * scale);
    if (!canvas) {
      canvas = document.createElement("canvas");
      context = canvas.getContext("2d", { willReadFrequently: true });
    }
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    var grabbedAt = Date.now();
    context.drawImage(video, 0, 0, w, h);
    var image = context.getImageData(0, 0, w, h);
    var code = window.jsQR(image.data, w, h, { inversionAttempts: "dontInvert" });
    if (!code || !code.data) return;
    var repeat = code.data === lastText && now - lastSeenAt < REPEAT_AFTER_MS;
    lastText = code.data;
    lastSeenAt = now;
    // When the frame that was read was taken (the scan benchmark measures from here).
    if (!repeat) { window.QrCamera.lastFrameAt = grabbedAt; announce(code.data); }
  }

  function tick(mine) {
    frameRequest = 0;
    if (mine !== session) return;
    var now = performance.now();
    if (now >= nextDecodeAt) {
      try {
        decodeFrame(now);
      } catch (e) {
        /* a frame that cannot be read yet (e.g. while the video resizes) */
      }
      if (mine !== session) return; // onText may have called stop()
      var done = performance.now();
      nextDecodeAt = Math.max(now + DECODE_EVERY_MS, done + MIN_IDLE_MS);
    }
    frameRequest = requestAnimationFrame(function () { tick(mine); });
  }

  function releaseCamera() {
    if (frameRequest) cancelAnimationFrame(frameRequest);
    frameRequest = 0;
    if (stream) {
      stream.getTracks().forEach(function (track) {
        track.onended = null;
        track.stop();
      });
    }
    stream = null;
    if (video) {
      try { video.pause(); } catch (e) { /* ignored */ }
      video.srcObject = null;
    }
  }

  function stop() {
    session += 1;
    releaseCamera();
    video = null;
    lastText = null;
    lastSeenAt = 0;
  }

  function start(videoEl, onText, options) {
    stop();
    var mine = session;
    var onError = (options || {}).onError;
    handlers = { onText: onText, onError: typeof onError === "function" ? onError : null };
    prepareAudio();

    function fail(err) {
      if (mine === session) {
        stop();
        report(err);
      }
      return Promise.reject(err);
    }

    if (typeof window.jsQR !== "function") {
      return fail(error("NotSupportedError", "The QR decoder (jsQR) is not loaded"));
    }
    if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== "function") {
      return fail(error("NotSupportedError", "No camera API (it needs HTTPS)"));
    }
    var constraints = {
      audio: false,
      video: {
        facingMode: { ideal: "environment" },
        width: { ideal: 640 },
        height: { ideal: 480 },
      },
    };
    return navigator.mediaDevices.getUserMedia(constraints).then(function (media) {
      if (mine !== session) { // stop() came first: nothing to report
        media.getTracks().forEach(function (track) { track.stop(); });
        throw error("AbortError", "QrCamera.stop() was called while the camera was opening");
      }
      stream = media;
      video = videoEl;
      video.muted = true;
      video.setAttribute("muted", "");
      video.setAttribute("playsinline", "");
      video.playsInline = true;
      video.srcObject = media;
      media.getVideoTracks().forEach(function (track) {
        track.onended = function () {
          if (mine !== session) return;
          stop();
          report(error("NotReadableError", "The camera stopped"));
        };
      });
      return video.play();
    }).then(function () {
      if (mine !== session) {
        throw error("AbortError", "QrCamera.stop() was called while the camera was opening");
      }
      nextDecodeAt = 0;
      frameRequest = requestAnimationFrame(function () { tick(mine); });
    }, fail);
  }

  function hasTorch() {
    var track = videoTrack();
    if (!track || typeof track.getCapabilities !== "function") return false;
    try {
      return !!track.getCapabilities().torch;
    } catch (e) {
      return false;
    }
  }

  function torch(on) {
    var track = videoTrack();
    if (!track || !hasTorch()) return Promise.resolve(false);
    return track.applyConstraints({ advanced: [{ torch: !!on }] }).then(
      function () { return true; },
      function () { return false; }
    );
  }

  window.QrCamera = { start: start, stop: stop, torch: torch, hasTorch: hasTorch };
})();
