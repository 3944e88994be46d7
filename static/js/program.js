// The program page: send the form to the server as the owner types and show the
// server's preview. No rule is computed here; the words come from the form's
// data-msg-* attributes, in the page's language.
(function () {
  "use strict";
  var form = document.getElementById("program-form");
  var preview = document.getElementById("preview");
  var picker = document.getElementById("preset-picker");
  if (!form || !preview) { return; }

  var timer = null;
  var latest = 0;

  function send() {
    var ticket = ++latest;
    var data = {};
    new FormData(form).forEach(function (value, key) { data[key] = String(value); });
    var token = form.querySelector("input[name=csrf_token]").value;
    fetch(form.dataset.previewUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "text/html", "X-CSRFToken": token },
      body: JSON.stringify(data)
    }).then(function (response) {
      return response.text();
    }).then(function (html) {
      if (ticket === latest) { preview.innerHTML = html; }
    }).catch(function () {
      if (ticket === latest) {
        var offline = document.createElement("p");
        offline.className = "error";
        offline.setAttribute("role", "alert");
        offline.textContent = form.dataset.msgOffline;
        preview.replaceChildren(offline);
      }
    });
  }

  function later() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(send, 250);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
  if (picker) {
    var select = picker.querySelector("select");
    select.addEventListener("change", function () { picker.submit(); });
  }
})();
