// Nuage console: usage charts (uPlot) from the JSON the page carries in <script id="usage-data">.
(function () {
  "use strict";
  var source = document.getElementById("usage-data");
  if (!source || !window.uPlot) { return; }
  var data = JSON.parse(source.textContent);
  var colours = ["#1f5fbf", "#c2410c", "#15803d", "#7e22ce", "#be123c", "#0e7490", "#a16207", "#4338ca"];
  // 1536 -> "1.5 KiB", 2097152 -> "2 MiB" (no ".0")
  function units(bytes) {
    var u = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"], i = 0;
    while (Math.abs(bytes) >= 1024 && i < u.length - 1) { bytes /= 1024; i++; }
    return (i ? String(parseFloat(bytes.toFixed(1))) : String(Math.round(bytes))) + " " + u[i];
  }
  // Y ticks of the storage chart at round binary sizes (256 KiB, 2 MiB...), so their labels stay short
  var BYTES = [];
  [1, 1024, 1048576, 1073741824, 1099511627776].forEach(function (unit) {
    [1, 2, 4, 8, 16, 32, 64, 128, 256, 512].forEach(function (m) { BYTES.push(m * unit); });
  });
  var COUNTS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 1e7, 1e8, 1e9];
  // the window the page claims ("Last 1h": from an hour ago to now), whatever samples it holds
  var xRange = [data.start, data.end];
  function draw(id, series, valueFormat, bars) {
    var el = document.getElementById(id);
    if (!el || !data.times.length) { return; }
    var width = Math.max(280, el.clientWidth - 16);
    var opts = {
      width: width, height: 260,
      series: [{}].concat(data.buckets.map(function (b, i) {
        var s = {label: b, stroke: colours[i % colours.length], width: 2, spanGaps: true,
                 value: function (u, v) { return v == null ? "–" : valueFormat(v); }};
        if (bars) { s.fill = colours[i % colours.length] + "33"; s.paths = uPlot.paths.bars({size: [0.6, 40]}); }
        return s;
      })),
      scales: {x: {time: true, range: function () { return xRange; }},
               y: {range: function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; }}},
      axes: [{}, {values: function (u, vals) { return vals.map(valueFormat); }, size: nuageAxes.fitSize,
                  incrs: bars ? COUNTS : BYTES}],
    };
    var rows = [data.times].concat(data.buckets.map(function (b) { return series[b]; }));
    opts.hooks = {setScale: [function (u, key) {     // the time span shown, for whoever reads the page
      if (key === "x") {
        el.setAttribute("data-x-min", String(u.scales.x.min));
        el.setAttribute("data-x-max", String(u.scales.x.max));
      }
    }]};
    var chart = new uPlot(opts, rows, el);
    window.addEventListener("resize", function () {
      chart.setSize({width: Math.max(280, el.clientWidth - 16), height: 260});
    });
  }
  draw("storage-chart", data.storage, units, false);
  draw("requests-chart", data.requests, function (v) { return String(Math.round(v)); }, true);
})();
