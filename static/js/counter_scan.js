// The counter's scan page: read a QR with the camera (or a typed card number), send it
// to the server, open the customer's panel. The server decides who it is. Its words
// come from the page: the form's data-msg-* attributes, in the page's language.
(function () {
  "use strict";
  var form = document.getElementById("identify-form");
  var input = document.getElementById("scanned");
  var error = document.getElementById("identify-error");
  var status = document.getElementById("camera-status");
  var video = document.getElementById("camera");
  var startButton = document.getElementById("camera-start");
  var torchButton = document.getElementById("torch");
  if (!form) { return; }
  var busy = false;
  var words = form.dataset;

  function show(message) {
    error.textContent = message;
    error.hidden = !message;
  }

  function identify(text) {
    if (busy) { return; }
    busy = true;
    show("");
    var body = new URLSearchParams(new FormData(form));
    body.set("scanned", text);
    fetch(form.action, {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      if (result.ok && result.data.url) {
        if (window.QrCamera && window.QrCamera.lastFrameAt) {
          try { sessionStorage.setItem("scanFrameAt", String(window.QrCamera.lastFrameAt)); } catch (e) { /* private mode */ }
        }
        window.location.assign(result.data.url);
        return;
      }
      busy = false;
      show(result.data.detail || words.msgNotFound);
    }).catch(function () {
      busy = false;
      show(words.msgOffline);
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    identify(input.value);
  });
  // A typed card number is checked as soon as all 9 digits are in: a typo shows at once.
  input.addEventListener("input", function () {
    var digits = input.value.replace(/\D/g, "");
    if (digits.length === 9 && /^[\d\s-]+$/.test(input.value)) { identify(digits); }
  });

  function startCamera() {
    if (!window.QrCamera) { status.textContent = words.msgNoScanner; return; }
    status.textContent = words.msgAim;
    window.QrCamera.start(video, identify, {
      onError: function (err) {
        var name = err && err.name;
        status.textContent = name === "NotAllowedError"
          ? words.msgCameraDenied
          : words.msgCameraUnavailable;
        startButton.hidden = false;
      }
    }).then(function () {
      startButton.hidden = true;
      if (window.QrCamera.hasTorch()) { torchButton.hidden = false; }
    }, function () { /* onError already explained it */ });
  }

  startButton.addEventListener("click", startCamera);
  torchButton.addEventListener("click", function () {
    var on = torchButton.getAttribute("aria-pressed") !== "true";
    window.QrCamera.torch(on).then(function (done) {
      if (done) { torchButton.setAttribute("aria-pressed", on ? "true" : "false"); }
    });
  });
  window.addEventListener("pagehide", function () { if (window.QrCamera) { window.QrCamera.stop(); } });
  startCamera();
})();
