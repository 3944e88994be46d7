/* Opt-in web push on the card screen: the notifications button (its texts come translated in data-text-* attributes) asks the
 * browser's permission, subscribes through the app's service worker with the server's
 * VAPID key (data-key) and posts the subscription (CSRF token in X-CSRFToken). Pressed
 * again, it unsubscribes. The section stays hidden where push is not supported. */
"use strict";

(function () {
  const box = document.getElementById("push");
  const sw = document.querySelector("[data-sw]");
  if (!box || !sw || !("serviceWorker" in navigator) || !("PushManager" in window)
      || !("Notification" in window)) return;
  const button = box.querySelector(".push-toggle");
  const state = box.querySelector(".push-state");
  const SYNCED = "regulars-push-endpoint:" + sw.dataset.scope;
  let busy = false;

  function keyBytes(base64url) {
    const text = base64url.replace(/-/g, "+").replace(/_/g, "/");
    const raw = atob(text + "=".repeat((4 - text.length % 4) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }

  function sameKey(subscription) {
    const key = subscription.options && subscription.options.applicationServerKey;
    if (!key) return true; // the browser does not tell: assume it is ours
    const ours = keyBytes(box.dataset.key);
    const theirs = new Uint8Array(key);
    return ours.length === theirs.length && ours.every((b, i) => b === theirs[i]);
  }

  function show(on, text) {
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.disabled = busy || Notification.permission === "denied";
    state.textContent = text;
  }

  function showCurrent(subscription) {
    if (Notification.permission === "denied") {
      show(false, box.dataset.textDenied);
    } else if (subscription) {
      show(true, box.dataset.textOn);
    } else {
      show(false, box.dataset.textOff);
    }
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "X-CSRFToken": box.dataset.csrf },
      body: JSON.stringify(body),
    });
    if (!response.ok) {
      let detail = "";
      try { detail = (await response.json()).detail || ""; } catch (e) { /* not JSON */ }
      throw new Error(detail || "HTTP " + response.status);
    }
  }

  function withTimeout(promise, ms) {
    return Promise.race([promise, new Promise((resolve, reject) => {
      setTimeout(() => reject(new Error(box.dataset.textTimeout)), ms);
    })]);
  }

  async function registration() {
    const found = await navigator.serviceWorker.getRegistration(sw.dataset.scope);
    return found || navigator.serviceWorker.register(sw.dataset.sw, { scope: sw.dataset.scope });
  }

  async function turnOn(reg) {
    const permission = await Notification.requestPermission();
    if (permission !== "granted") return null;
    await navigator.serviceWorker.ready;
    const subscription = await withTimeout(reg.pushManager.subscribe({
      userVisibleOnly: true, applicationServerKey: keyBytes(box.dataset.key) }), 20000);
    await post(box.dataset.subscribe, subscription.toJSON());
    localStorage.setItem(SYNCED, subscription.endpoint);
    return subscription;
  }

  async function turnOff(subscription) {
    await post(box.dataset.unsubscribe, { endpoint: subscription.endpoint });
    await subscription.unsubscribe();
    localStorage.removeItem(SYNCED);
  }

  async function toggle() {
    if (busy) return;
    busy = true;
    button.disabled = true;
    state.textContent = box.dataset.textWait;
    let subscription = null;
    try {
      const reg = await registration();
      subscription = await reg.pushManager.getSubscription();
      if (subscription) {
        await turnOff(subscription);
        subscription = null;
      } else {
        subscription = await turnOn(reg);
      }
      busy = false;
      showCurrent(subscription);
    } catch (error) {
      busy = false;
      showCurrent(subscription);
      state.textContent = box.dataset.textFailed.replace("%s", error.message || error);
    }
  }

  async function start() {
    const reg = await registration();
    let subscription = await reg.pushManager.getSubscription();
    if (subscription && !sameKey(subscription)) {
      await subscription.unsubscribe(); // made with an old server key: useless now
      subscription = null;
    }
    if (subscription && localStorage.getItem(SYNCED) !== subscription.endpoint) {
      // The browser renewed it (or the server dropped it): tell the server again.
      await post(box.dataset.subscribe, subscription.toJSON());
      localStorage.setItem(SYNCED, subscription.endpoint);
    }
    box.hidden = false;
    showCurrent(subscription);
  }

  button.addEventListener("click", toggle);
  start().catch(() => { box.hidden = false; showCurrent(null); });
})();
