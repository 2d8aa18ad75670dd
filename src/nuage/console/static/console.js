// Nuage console: confirmation of destructive forms, table sorting, copy buttons. No inline scripts (CSP).
(function () {
  "use strict";
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { ev.preventDefault(); }
  });

  // Sortable tables: <th data-sort="text|num"> gets a button; rows sort by that column's data-value or text.
  function sortTable(th, button) {
    var table = th.closest("table");
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var numeric = th.getAttribute("data-sort") === "num";
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th[aria-sort]").forEach(function (o) { o.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.querySelectorAll("tr[data-sortable]"));
    var fixed = Array.prototype.slice.call(body.querySelectorAll("tr:not([data-sortable])"));
    function value(row) {
      var cell = row.children[index];
      var v = cell ? (cell.getAttribute("data-value") || cell.textContent.trim()) : "";
      return numeric ? parseFloat(v) || 0 : v.toLowerCase();
    }
    rows.sort(function (a, b) {
      var x = value(a), y = value(b);
      return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
    });
    fixed.concat(rows).forEach(function (r) { body.appendChild(r); });
    button.focus();
  }
  function initSort(root) {
    root.querySelectorAll("th[data-sort]").forEach(function (th) {
      if (th.querySelector("button.sort")) { return; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.textContent = th.textContent.trim();
      button.setAttribute("aria-label", "Sort by " + th.textContent.trim());
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", function () { sortTable(th, button); });
    });
  }
  initSort(document);
  document.addEventListener("htmx:afterSettle", function () { initSort(document); });

  document.addEventListener("click", function (ev) {
    var target = ev.target.closest && ev.target.closest("[data-copy]");
    if (!target) { return; }
    var field = document.getElementById(target.getAttribute("data-copy"));
    if (field) {
      field.select();
      if (navigator.clipboard) { navigator.clipboard.writeText(field.value); }
      target.textContent = "Copied";
    }
  });
})();
