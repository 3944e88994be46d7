/* The customer app's service worker: served from /c/<business>/sw.js, scope /c/<business>/.
 *
 * - The shell (styles, scripts, icons) is precached and served cache-first.
 * - The card screen is fetched network-first; the last good copy is kept so that,
 *   offline, the card and its check-in QR (computed on the phone) still open.
 * - Nothing personal is cached but the card screen, in a cache of this business's own
 *   (one device can hold the cards of several businesses, one worker per scope): the
 *   page posts "sign-out" when the customer signs out, and the sign-in page deletes it
 *   too (customer_app.js). Clear-Site-Data cannot do it: it would wipe every business.
 */
"use strict";

const VERSION = new URL(self.location.href).searchParams.get("v") || "1";
const SHELL = "regulars-shell-" + VERSION;
const SCOPE = new URL(self.registration.scope).pathname; // "/c/<business>/"
const PERSONAL = "regulars-personal:" + SCOPE;
const SHARED_PERSONAL = "regulars-personal"; // before there was one per business

function shellUrls() {
  const params = new URL(self.location.href).searchParams;
  return (params.get("shell") || "").split(",").filter(Boolean);
}

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(shellUrls())));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("regulars-shell-") && name !== SHELL) await caches.delete(name);
    }
    // The old cache shared by every business's card: whichever business wrote it last,
    // its copy is refreshed into that business's own cache on the next online visit.
    await caches.delete(SHARED_PERSONAL);
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data === "sign-out") event.waitUntil(caches.delete(PERSONAL));
});

function isCard(url) {
  return url.origin === self.location.origin && url.pathname === SCOPE;
}

async function networkFirst(request) {
  const cache = await caches.open(PERSONAL);
  try {
    const response = await fetch(request);
    // Only a rendered card is kept. Anything else (a redirect to sign-in, which a
    // worker sees as "opaqueredirect", or an error) means the copy must go.
    if (response.ok && !response.redirected && response.type !== "opaqueredirect") {
      await cache.put(SCOPE, response.clone());
    } else {
      await caches.delete(PERSONAL);
    }
    return response;
  } catch (error) {
    const cached = await cache.match(SCOPE);
    if (!cached) throw error;
    // Mark the copy so the page says it is not fresh (navigator.onLine is not reliable).
    const html = (await cached.text()).replace('data-served="network"', 'data-served="cache"');
    return new Response(html, { status: 200, headers: cached.headers });
  }
}

async function cacheFirst(request) {
  const cached = await caches.match(request, { ignoreSearch: false });
  return cached || fetch(request);
}

self.addEventListener("fetch", (event) => {
  if (event.request.method !== "GET") return;
  const url = new URL(event.request.url);
  if (isCard(url)) {
    event.respondWith(networkFirst(event.request));
  } else if (url.origin === self.location.origin && url.pathname.startsWith("/static/")) {
    event.respondWith(cacheFirst(event.request));
  }
});

/* Web push (opt-in on the card screen): the payload is JSON {title, body, tag, url}
 * from webapp/services/push.py; a click opens (or focuses) the card. The worker has no
 * words of its own: without a title in the payload it shows the one its URL names
 * (?title=, in the language of the page that registered it, ?lang=). */
const PARAMS = new URL(self.location.href).searchParams;
const LANG = PARAMS.get("lang") || "ru";
const FALLBACK_TITLE = PARAMS.get("title") || "";

function iconUrl() {
  return shellUrls().find((url) => url.endsWith("/icon-192.png"));
}

function inScope(path) {
  const url = new URL(path || SCOPE, self.location.origin);
  return url.origin === self.location.origin && url.pathname.startsWith(SCOPE) ? url.href
    : new URL(SCOPE, self.location.origin).href;
}

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = { body: event.data ? event.data.text() : "" };
  }
  const options = { body: data.body || "", lang: LANG, data: { url: inScope(data.url) } };
  const icon = iconUrl();
  if (icon) options.icon = icon;
  if (data.tag) options.tag = data.tag;
  event.waitUntil(self.registration.showNotification(data.title || FALLBACK_TITLE, options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = inScope(event.notification.data && event.notification.data.url);
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const client of windows) {
      if (new URL(client.url).pathname.startsWith(SCOPE) && "focus" in client) {
        const focused = await client.focus();
        if (focused && focused.url !== target && "navigate" in focused) {
          await focused.navigate(target).catch(() => null); // an uncontrolled page stays
        }
        return focused;
      }
    }
    return self.clients.openWindow(target);
  })());
});
