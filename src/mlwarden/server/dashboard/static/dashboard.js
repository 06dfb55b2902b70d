// Draws every chart of the page from its JSON figure (no inline script: the CSP forbids them), and opens a
// window's report when a heatmap cell is clicked: the chart's data-windows path + the cell's window start.
(function () {
  "use strict";
  var config = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["sendDataToCloud"] };
  document.querySelectorAll(".chart[data-figure]").forEach(function (element) {
    var source = document.getElementById(element.dataset.figure);
    if (!source) { return; }
    var figure = JSON.parse(source.textContent);
    Plotly.newPlot(element, figure.data, figure.layout, config).then(function () {
      element.dataset.rendered = "1";
    });
    var windows = element.dataset.windows;
    if (windows) {
      element.on("plotly_click", function (event) {
        var point = event.points && event.points[0];
        var index = point && (point.pointIndex || point.pointNumber);
        var start = Array.isArray(index) ? figure.data[0].x[index[1]] : undefined;
        if (typeof start === "string") {
          window.location.assign(windows + encodeURIComponent(start));
        }
      });
    }
  });
})();
