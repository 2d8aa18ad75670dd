// Nuage console: a bar or line chart of a SQL result (uPlot), from the JSON in <script id="result-data">.
(function () {
  "use strict";
  var source = document.getElementById("result-data");
  var el = document.getElementById("result-chart");
  if (!source || !el || !window.uPlot) { return; }
  var data = JSON.parse(source.textContent);
  var columns = (data.columns || []).map(function (c) { return typeof c === "string" ? c : c.name; });
  var rows = data.rows || [];
  if (!columns.length || !rows.length) { return; }
  var xSel = document.getElementById("chart-x");
  var ySel = document.getElementById("chart-y");
  var kind = document.getElementById("chart-kind");
  function numeric(i) {
    return rows.every(function (r) { return r[i] === null || typeof r[i] === "number"; });
  }
  var none = document.createElement("option");
  none.value = "-1"; none.textContent = (window.nuageT || function (s) { return s; })("(row number)");
  xSel.appendChild(none);
  columns.forEach(function (name, i) {
    var o = document.createElement("option");
    o.value = String(i); o.textContent = name;
    xSel.appendChild(o);
    if (numeric(i)) { var y = o.cloneNode(true); ySel.appendChild(y); }
  });
  if (!ySel.options.length) { el.textContent = (window.nuageT || function (s) { return s; })("No numeric column to chart."); return; }
  var firstText = columns.findIndex(function (_, i) { return !numeric(i); });
  xSel.value = String(firstText);
  var chart = null;
  function draw() {
    var xi = parseInt(xSel.value, 10), yi = parseInt(ySel.value, 10);
    var xs = rows.map(function (_, i) { return i; });
    var ys = rows.map(function (r) { return r[yi]; });
    var labels = rows.map(function (r, i) { return xi < 0 ? String(i + 1) : String(r[xi]); });
    var bars = kind.value === "bar";
    var opts = {
      width: Math.max(280, el.clientWidth - 16), height: 280,
      scales: {
        x: {time: false, range: function () { return [-0.5, rows.length - 0.5]; }},
        y: {range: function (u, min, max) { return [Math.min(0, min), max > 0 ? max * 1.1 : 1]; }}
      },
      series: [
        {label: xi < 0 ? (window.nuageT || function (s) { return s; })("row") : columns[xi], value: function (u, v) { return v == null ? "" : labels[v]; }},
        {label: columns[yi], stroke: "#1f5fbf", width: 2, fill: bars ? "#1f5fbf33" : undefined,
         paths: bars ? uPlot.paths.bars({size: [0.6, 60]}) : undefined, points: {show: !bars}}
      ],
      axes: [{values: function (u, vals) {
        // each label cut to the width of its slot (a bar's width), so that none runs off the canvas
        var slot = Math.max(16, u.bbox.width / (window.devicePixelRatio || 1) / rows.length - 4);
        var font = u.axes[0].font[0];
        return vals.map(function (v) {
          return Number.isInteger(v) && labels[v] !== undefined ? nuageAxes.clip(font, labels[v], slot) : "";
        });
      }}, {size: nuageAxes.fitSize}]
    };
    if (chart) { chart.destroy(); }
    el.textContent = "";
    chart = new uPlot(opts, [xs, ys], el);
  }
  [xSel, ySel, kind].forEach(function (s) { s.addEventListener("change", draw); });
  draw();
})();
