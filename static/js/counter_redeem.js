// «Списать максимум»: one tap fills the points field with the most points the last
// quote allowed (the server's number, carried by the quote fragment's data-max-redeem)
// and lets the close form ask for a new quote. No rule here: the button only copies
// what the server said. Its words come from the page (data-msg-max, filled with the
// fragment's data-max-redeem-text, which the server worded).
(function () {
  "use strict";
  var button = document.getElementById("redeem-max");
  var field = document.getElementById("redeem");
  var box = document.getElementById("quote");
  if (!button || !field || !box) { return; }
  var plain = button.textContent;
  var most = 0;

  function update() {
    var quote = box.querySelector(".quote[data-max-redeem]");
    most = quote ? parseInt(quote.dataset.maxRedeem, 10) || 0 : 0;
    button.disabled = most <= 0;
    button.textContent = most > 0
      ? button.dataset.msgMax.replace("{points}", quote.dataset.maxRedeemText || String(most))
      : plain;
  }

  new MutationObserver(update).observe(box, { childList: true, subtree: true });
  update();
  button.addEventListener("click", function () {
    if (most <= 0) { return; }
    field.value = String(most);
    // The close form listens for input: it asks the server for the quote of this amount.
    field.dispatchEvent(new Event("input", { bubbles: true }));
    field.focus();
  });
})();
