/* The customer app's page script: registers the service worker, says when the card
 * on screen is an offline copy, and clears what the device kept of this business's card
 * at sign-out and whenever the sign-in page shows (signed out here, or elsewhere).
 * Only this business's: the device may hold other businesses' cards on the same origin. */
"use strict";

(function () {
  const root = document.querySelector("[data-sw]");
  const scope = root ? root.dataset.scope : null;
  const personal = "regulars-personal:" + scope; // the service worker's cache of the card
  if (root && "serviceWorker" in navigator) {
    navigator.serviceWorker.register(root.dataset.sw, { scope: scope })
      .catch(() => { /* the app works without it, only not offline */ });
  }

  const stale = document.getElementById("stale");
  function showStale() {
    if (stale) stale.hidden = navigator.onLine && stale.dataset.served !== "cache";
  }
  window.addEventListener("online", showStale);
  window.addEventListener("offline", showStale);
  showStale();

  function forgetCard() {
    if (window.caches) caches.delete(personal);
  }

  for (const form of document.querySelectorAll("form.js-sign-out")) {
    form.addEventListener("submit", () => {
      if (navigator.serviceWorker && navigator.serviceWorker.controller) {
        navigator.serviceWorker.controller.postMessage("sign-out");
      }
      forgetCard();
    });
  }

  // Not signed in at this business: nothing of its card may stay on the device (a lost
  // phone signed out from another one), and its notifications stop.
  if (root && "signedOut" in root.dataset) {
    forgetCard();
    try { localStorage.removeItem("regulars-push-endpoint:" + scope); } catch (e) { /* private mode */ }
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.getRegistration(scope).then((registration) => {
        if (registration && registration.pushManager) {
          return registration.pushManager.getSubscription()
            .then((subscription) => subscription && subscription.unsubscribe());
        }
        return null;
      }).catch(() => { /* nothing to forget */ });
    }
  }
})();
