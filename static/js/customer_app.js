/* The customer app's page script: registers the service worker, says when the card
 * on screen is an offline copy, and clears cached personal pages at sign-out. */
"use strict";

(function () {
  const root = document.querySelector("[data-sw]");
  if (root && "serviceWorker" in navigator) {
    navigator.serviceWorker.register(root.dataset.sw, { scope: root.dataset.scope })
      .catch(() => { /* the app works without it, only not offline */ });
  }

  const stale = document.getElementById("stale");
  function showStale() {
    if (stale) stale.hidden = navigator.onLine && stale.dataset.served !== "cache";
  }
  window.addEventListener("online", showStale);
  window.addEventListener("offline", showStale);
  showStale();

  for (const form of document.querySelectorAll("form.js-sign-out")) {
    form.addEventListener("submit", () => {
      if (navigator.serviceWorker && navigator.serviceWorker.controller) {
        navigator.serviceWorker.controller.postMessage("sign-out");
      }
      if (window.caches) caches.delete("regulars-personal");
    });
  }
})();
