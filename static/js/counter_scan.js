// The counter's scan page: read a QR with the camera (or a typed card number), send it
// to the server, open the customer's panel. The server decides who it is.
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
      show(result.data.detail || "Не получилось найти клиента.");
    }).catch(function () {
      busy = false;
      show("Нет связи с сервером. Проверьте Wi-Fi и отсканируйте ещё раз.");
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
    if (!window.QrCamera) { status.textContent = "Сканер не загрузился: введите номер карты."; return; }
    status.textContent = "Наведите камеру на QR-код клиента.";
    window.QrCamera.start(video, identify, {
      onError: function (err) {
        var name = err && err.name;
        status.textContent = name === "NotAllowedError"
          ? "Нет доступа к камере: разрешите его в настройках браузера или введите номер карты."
          : "Камера недоступна: введите номер карты или найдите клиента по телефону.";
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
