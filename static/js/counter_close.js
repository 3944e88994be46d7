// The close form: ask the server for the quote as the cashier types, send the
// customer a confirmation code when the server says so, and confirm the order.
// Confirming sends one request with the key the page was rendered with; if the
// connection drops it retries with the same key, so the order closes once, and it
// shows success only when the server has answered. Its words come from the page: the
// form's data-msg-* attributes, in the page's language.
(function () {
  "use strict";
  var form = document.getElementById("close-form");
  if (!form) { return; }
  var quoteBox = document.getElementById("quote");
  var error = document.getElementById("close-error");
  var status = document.getElementById("close-status");
  var confirmButton = document.getElementById("confirm");
  var codeBox = document.getElementById("confirm-code");
  var codeButton = document.getElementById("send-code");
  var redeem = document.getElementById("redeem");
  var token = form.querySelector("input[name=csrf_token]").value;
  var timer = null, ticket = 0, sending = false;
  var RETRIES = [500, 1000, 2000, 4000, 8000];
  var words = form.dataset;

  // A message from the page; {name} placeholders are filled from values.
  function say(key, values) {
    return (words[key] || "").replace(/\{(\w+)\}/g, function (all, name) {
      return values && name in values ? String(values[name]) : all;
    });
  }

  function show(message) { error.textContent = message || ""; error.hidden = !message; }

  function post(url, accept, source) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      body: new URLSearchParams(new FormData(source || form)),
      headers: { "Accept": accept, "X-CSRFToken": token }
    });
  }

  function problem(response) {
    return response.json().then(function (data) { return data.detail || say("msgError"); },
                                function () { return say("msgServerError", { status: response.status }); });
  }

  function quote() {
    var mine = ++ticket;
    post(form.dataset.quoteUrl, "application/json").then(function (response) {
      if (mine !== ticket) { return; }
      if (!response.ok) {
        return problem(response).then(function (message) { quoteBox.innerHTML = ""; show(message); });
      }
      return response.text().then(function (html) {
        show("");
        quoteBox.innerHTML = html;
        var q = quoteBox.querySelector(".quote");
        var needs = q && q.dataset.needsCode === "yes";
        codeButton.hidden = !needs;
        if (!needs) { codeBox.hidden = true; }
      });
    }).catch(function () {
      if (mine === ticket) { show(say("msgQuoteOffline")); }
    });
  }

  function later() { if (timer) { clearTimeout(timer); } timer = setTimeout(quote, 300); }
  form.addEventListener("input", function (event) {
    if (event.target.name !== "code") { later(); }
  });
  form.addEventListener("change", later);
  document.getElementById("quote-button").addEventListener("click", quote);

  codeButton.addEventListener("click", function () {
    var body = new URLSearchParams({ points: redeem.value, csrf_token: token });
    fetch(form.dataset.codeUrl, {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "Accept": "application/json", "X-CSRFToken": token }
    }).then(function (response) {
      if (!response.ok) { return problem(response).then(show); }
      return response.json().then(function (data) {
        show("");
        form.querySelector("input[name=confirmation_id]").value = data.confirmation_id;
        document.getElementById("code-hint").textContent =
          say("msgCodeSent", { phone: data.phone_hint });
        codeBox.hidden = false;
        document.getElementById("code").focus();
      });
    }).catch(function () { show(say("msgCodeOffline")); });
  });

  function confirmOrder(target, attempt) {
    post(target.action, "application/json", target).then(function (response) {
      if (response.ok) {
        return response.json().then(function (data) {
          status.textContent = say("msgClosed");
          window.location.assign(data.url);
        });
      }
      return problem(response).then(function (message) {
        sending = false;
        confirmButton.disabled = false;
        status.textContent = "";
        show(message);
      });
    }).catch(function () {
      // No answer: the order may or may not be closed. The same key makes a retry
      // safe, and the server's answer (first or stored) is the truth.
      if (attempt < RETRIES.length) {
        status.textContent = say("msgRetrying");
        setTimeout(function () { confirmOrder(target, attempt + 1); }, RETRIES[attempt]);
      } else {
        sending = false;
        confirmButton.disabled = false;
        status.textContent = "";
        show(say("msgNoAnswer"));
      }
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("form.js-close"), function (target) {
    target.addEventListener("submit", function (event) {
      event.preventDefault();
      if (sending) { return; }
      sending = true;
      show("");
      status.textContent = say("msgClosing");
      if (target === form) { confirmButton.disabled = true; }
      confirmOrder(target, 0);
    });
  });
})();
