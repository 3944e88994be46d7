// The receipt's buttons: print (the print stylesheet keeps only the receipt) and share
// (the phone's share sheet through the Web Share API where the browser has it, else
// the text is copied). The text and the words come from the page: the server made them.
(function () {
  "use strict";
  var print = document.getElementById("print-receipt");
  var share = document.getElementById("share-receipt");
  var status = document.getElementById("share-status");
  if (print) { print.addEventListener("click", function () { window.print(); }); }
  if (!share) { return; }
  var words = share.dataset;

  function copy() {
    if (!navigator.clipboard) { status.textContent = words.msgFailed; return; }
    navigator.clipboard.writeText(words.shareText).then(function () {
      status.textContent = words.msgCopied;
    }, function () { status.textContent = words.msgFailed; });
  }

  share.addEventListener("click", function () {
    status.textContent = "";
    var data = { title: words.shareTitle, text: words.shareText };
    if (navigator.share && (!navigator.canShare || navigator.canShare(data))) {
      navigator.share(data).catch(function (error) {
        if (!error || error.name !== "AbortError") { copy(); }  // closing the sheet is no failure
      });
    } else {
      copy();
    }
  });
})();
