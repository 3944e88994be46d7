// The close form's line editor, keyboard first: Enter in a row adds or moves to the
// next row instead of submitting the close; Escape in an empty row removes it. While
// any row has a price, the quick total and category are off (the lines are the order:
// the server prices them and shows the total in the quote). No rules here.
(function () {
  "use strict";
  var editor = document.getElementById("lines-editor");
  if (!editor) { return; }
  var rows = document.getElementById("line-rows");
  var template = document.getElementById("line-template");
  var total = document.getElementById("total");
  var category = document.getElementById("category");

  function all() { return Array.prototype.slice.call(rows.querySelectorAll("tr.line-row")); }
  function blank(row) {
    return !row.querySelector("[name=line_name]").value.trim() &&
           !row.querySelector("[name=line_price]").value.trim();
  }
  function sync() {
    var used = all().some(function (row) { return !blank(row); });
    total.disabled = used;
    category.disabled = used;
  }
  function add(after) {
    var row = template.content.firstElementChild.cloneNode(true);
    rows.insertBefore(row, after ? after.nextSibling : null);
    row.querySelector("[name=line_name]").focus();
    return row;
  }
  function remove(row) {
    var before = row.previousElementSibling;
    row.parentNode.removeChild(row);
    if (!all().length) { add(); } else if (before) { before.querySelector("[name=line_price]").focus(); }
    sync();
    // The close form re-quotes on input: tell it the lines changed.
    editor.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.getElementById("add-line").addEventListener("click", function () {
    editor.open = true;
    add();
  });
  rows.addEventListener("click", function (event) {
    var button = event.target.closest(".remove-line");
    if (button) { remove(button.closest("tr")); }
  });
  rows.addEventListener("keydown", function (event) {
    var row = event.target.closest("tr.line-row");
    if (!row || event.target.tagName === "BUTTON") { return; }
    if (event.key === "Enter") {
      event.preventDefault();  // never submit the close from a line
      var next = row.nextElementSibling;
      if (next) { next.querySelector("[name=line_name]").focus(); } else if (!blank(row)) { add(row); }
    } else if (event.key === "Escape" && blank(row)) {
      event.preventDefault();
      remove(row);
    }
  });
  rows.addEventListener("change", function (event) {
    // Picking a category suggests its kind (works, parts): the option says which.
    if (event.target.name === "line_category") {
      var kind = event.target.selectedOptions[0] && event.target.selectedOptions[0].dataset.kind;
      if (kind) { event.target.closest("tr").querySelector("[name=line_kind]").value = kind; }
    }
  });
  rows.addEventListener("input", sync);
  sync();
})();
