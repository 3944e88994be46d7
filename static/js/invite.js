/* The invitation page: the system share sheet where there is one (Web Share API),
 * copying the link otherwise. */
"use strict";

(function () {
  const box = document.getElementById("share");
  if (!box) return;
  const share = document.getElementById("share-button");
  const copy = document.getElementById("copy-button");
  const status = document.getElementById("share-status");
  const data = { title: box.dataset.title, text: box.dataset.text, url: box.dataset.url };

  if (navigator.share) {
    share.hidden = false;
    share.addEventListener("click", () => {
      navigator.share(data).catch(() => { /* the customer closed the sheet */ });
    });
  }
  copy.addEventListener("click", async () => {
    const field = document.getElementById("invite-link");
    try {
      await navigator.clipboard.writeText(data.url);
    } catch (error) {
      field.select();
      document.execCommand("copy");
    }
    status.textContent = box.dataset.copied;
  });
})();
