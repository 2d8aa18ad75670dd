// Nuage console: bulk selection in the object list. "Select all" (un)checks every object of the page; the
// "Delete selected" button is enabled while something is selected, and its confirmation names the count.
(function () {
  "use strict";
  var form = document.getElementById("bulk-delete");
  var all = document.getElementById("select-all");
  if (!form || !all) { return; }
  var button = document.getElementById("delete-selected");
  var count = document.getElementById("selected-count");
  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll('input[type="checkbox"][form="bulk-delete"]'));
  }
  function update() {
    var list = boxes(), n = list.filter(function (b) { return b.checked; }).length;
    button.disabled = n === 0;
    var t = (window.nuageT || function (s) { return s; });
    count.textContent = n === 0 ? t("None selected") : t("{n} selected", {n: n});
    form.setAttribute("data-confirm", n === 1 ? t("Delete 1 selected object?") : t("Delete {n} selected objects?", {n: n}));
    all.checked = n > 0 && n === list.length;
    all.indeterminate = n > 0 && n < list.length;
  }
  all.addEventListener("change", function () {
    boxes().forEach(function (b) { b.checked = all.checked; });
    update();
  });
  document.addEventListener("change", function (ev) {
    if (ev.target.getAttribute && ev.target.getAttribute("form") === "bulk-delete") { update(); }
  });
  update();
})();
