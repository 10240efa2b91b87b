// Draws every Plotly chart on the page from its JSON island: <div data-plotly="id">
// next to <script type="application/json" id="id">. Runs again after htmx swaps.
(function () {
  function draw(root) {
    if (!window.Plotly) return;
    root.querySelectorAll("[data-plotly]").forEach(function (element) {
      var source = document.getElementById(element.dataset.plotly);
      if (!source || element.dataset.drawn) return;
      var figure = JSON.parse(source.textContent);
      element.dataset.drawn = "1";
      window.Plotly.newPlot(
        element, figure.data, figure.layout, figure.config || { displaylogo: false, responsive: true }
      );
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
  window.addEventListener("beforeprint", function () {
    // A printed report shows every reason, folded or not.
    document.querySelectorAll("details").forEach(function (details) { details.open = true; });
    document.querySelectorAll("[data-plotly]").forEach(function (element) {
      if (window.Plotly && element.dataset.drawn) window.Plotly.Plots.resize(element);
    });
  });
})();
