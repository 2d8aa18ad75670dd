// Nuage console: what the uPlot charts share. A Y axis as wide as its longest label (measured with the
// axis's own font), so that no label is cut at the canvas's left edge; and category labels cut to the
// width of their slot.
window.nuageAxes = (function () {
  "use strict";
  var measure = document.createElement("canvas").getContext("2d");
  function textWidth(font, text) {
    measure.font = font;
    return measure.measureText(text).width;
  }
  // uPlot calls it with the formatted labels of the axis; it asks again when the size changed (cycleNum).
  function fitSize(u, values, axisIdx, cycleNum) {
    var axis = u.axes[axisIdx];
    if (cycleNum > 1 && axis._size) { return axis._size; }
    var longest = 0;
    (values || []).forEach(function (v) {
      if (v != null) { longest = Math.max(longest, textWidth(axis.font[0], String(v))); }
    });
    var ticks = axis.ticks && axis.ticks.show !== false ? axis.ticks.size : 0;
    return Math.ceil(longest / (window.devicePixelRatio || 1) + ticks + axis.gap + 8);
  }
  // ``text`` cut (with an ellipsis) to at most ``px`` CSS pixels in ``font``.
  function clip(font, text, px) {
    var ratio = window.devicePixelRatio || 1;
    if (textWidth(font, text) / ratio <= px) { return text; }
    var n = text.length;
    while (n > 1 && textWidth(font, text.slice(0, n - 1) + "…") / ratio > px) { n--; }
    return n > 1 ? text.slice(0, n - 1) + "…" : "";
  }
  return {fitSize: fitSize, clip: clip};
})();
