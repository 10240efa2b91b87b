// Draws every Plotly chart on the page from its JSON island: <div data-plotly="id">
// next to <script type="application/json" id="id">. Runs again after htmx swaps.
(function () {
  var NARROW = 520; // px: below this a chart gets shorter label lines and a smaller font
  var PRINT_WIDTH = 680; // px: about the printable width of an A4 or Letter page

  // Break a label into lines of at most `width` characters (Plotly wraps nothing itself).
  function wrap(label, width) {
    var words = String(label).replace(/<br>/g, " ").split(" ");
    var lines = [];
    var line = "";
    words.forEach(function (word) {
      if (line && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else {
        line = line ? line + " " + word : word;
      }
    });
    lines.push(line);
    return lines.join("<br>");
  }

  // On a phone the category labels of horizontal bar charts would take half the width and
  // overlap each other: wrap them shorter, use a smaller font, and give each row the height
  // its lines need. Text beside the bars gets room on the right instead of being clipped.
  function fitNarrow(figure, width) {
    if (width >= NARROW) return;
    var layout = figure.layout;
    var wrapWidth = width < 420 ? 16 : 20;
    var categories = {};
    var lines = 1;
    figure.data.forEach(function (trace) {
      if (trace.orientation !== "h" || !Array.isArray(trace.y)) return;
      trace.y = trace.y.map(function (label) {
        var wrapped = wrap(label, wrapWidth);
        categories[wrapped] = true;
        lines = Math.max(lines, wrapped.split("<br>").length);
        return wrapped;
      });
    });
    if (layout.yaxis && Array.isArray(layout.yaxis.categoryarray)) {
      layout.yaxis.categoryarray = layout.yaxis.categoryarray.map(function (label) {
        return wrap(label, wrapWidth);
      });
    }
    layout.font = Object.assign({}, layout.font, { size: 11 });
    layout.margin = Object.assign({}, layout.margin);
    layout.margin.r = Math.max(layout.margin.r || 0, 34);
    var rows = Object.keys(categories).length;
    if (rows && layout.height) {
      var perRow = Math.max(layout.barmode === "group" ? 44 : 30, lines * 13 + 8);
      layout.height = Math.max(layout.height, 90 + rows * perRow);
    }
  }

  function draw(root) {
    if (!window.Plotly) return;
    root.querySelectorAll("[data-plotly]").forEach(function (element) {
      var source = document.getElementById(element.dataset.plotly);
      if (!source || element.dataset.drawn) return;
      var figure = JSON.parse(source.textContent);
      figure.layout = figure.layout || {};
      fitNarrow(figure, element.clientWidth || window.innerWidth);
      element.dataset.drawn = "1";
      window.Plotly.newPlot(
        element, figure.data, figure.layout, figure.config || { displaylogo: false, responsive: true }
      );
    });
  }

  function drawn() {
    return Array.prototype.filter.call(document.querySelectorAll("[data-plotly]"), function (element) {
      return window.Plotly && element.dataset.drawn;
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
  window.addEventListener("beforeprint", function () {
    // A printed report shows every reason, folded or not.
    document.querySelectorAll("details").forEach(function (details) { details.open = true; });
    // The page is laid out for paper only after this event: size the charts for it now.
    drawn().forEach(function (element) {
      window.Plotly.relayout(element, { width: Math.min(element.clientWidth, PRINT_WIDTH) });
    });
  });
  window.addEventListener("afterprint", function () {
    drawn().forEach(function (element) {
      window.Plotly.relayout(element, { width: null, autosize: true });
    });
  });
})();
