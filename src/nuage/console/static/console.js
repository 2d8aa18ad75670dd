// Nuage console: confirmation of destructive forms, table sorting, copy buttons. No inline scripts (CSP).
(function () {
  "use strict";
  // The page's messages for the scripts (base.html renders them as JSON in the reader's language), keyed by
  // the English text; "{name}" placeholders are filled in here.
  var catalogue = {};
  try { catalogue = JSON.parse(document.getElementById("i18n").textContent) || {}; } catch (e) { catalogue = {}; }
  function t(text, vars) {
    var s = Object.prototype.hasOwnProperty.call(catalogue, text) ? catalogue[text] : text;
    Object.keys(vars || {}).forEach(function (k) { s = s.split("{" + k + "}").join(String(vars[k])); });
    return s;
  }
  window.nuageT = t;
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
      button.setAttribute("aria-label", t("Sort by {column}", {column: th.textContent.trim()}));
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", function () { sortTable(th, button); });
    });
  }
  initSort(document);
  document.addEventListener("htmx:afterSettle", function () { initSort(document); });

  // Dates are shown in UTC (ISO 8601); the local time is the title of each <time>, shown on hover.
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function localTimes(root) {
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d.getTime())) { return; }
      el.title = t("Local time:") + " " + d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " +
        two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds()) + (zone ? " " + zone : "");
    });
  }
  localTimes(document);
  document.addEventListener("htmx:afterSettle", function () { localTimes(document); });

  // Copy buttons: <button data-copy="id"> copies the value (a field) or the text (any element) of #id, with
  // the Clipboard API, or where it is missing or refused (plain HTTP on another host) by selecting the text
  // and document.execCommand("copy"). The text stays selected, for a copy by hand if both fail.
  function select(el) {
    if (el.select) { el.select(); return; }
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }
  function copied(button, ok) {
    button.textContent = ok ? t("Copied") : t("Select and copy by hand");
    var status = document.getElementById("copy-status");
    if (status) { status.textContent = ok ? t("Copied to the clipboard.") : t("Could not copy: the text is selected."); }
  }
  function fallback(el, button) {
    select(el);
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    copied(button, ok);
  }
  document.addEventListener("click", function (ev) {
    var button = ev.target.closest && ev.target.closest("[data-copy]");
    if (!button) { return; }
    var el = document.getElementById(button.getAttribute("data-copy"));
    if (!el) { return; }
    var text = el.value !== undefined && el.tagName !== "BUTTON" ? el.value : el.textContent.trim();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { select(el); copied(button, true); },
                                               function () { fallback(el, button); });
    } else {
      fallback(el, button);
    }
  });
})();
