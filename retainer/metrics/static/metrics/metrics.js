/* Draws each dashboard chart from the JSON next to its canvas (json_script): no inline
   script (the CSP forbids it). The table under each chart holds the same figures, so
   without JavaScript, or with a screen reader, nothing is lost. */
(function () {
  "use strict";
  var palette = ["#2f6fb5", "#3d9a5b", "#7b5fb5", "#d08a1e", "#c0392b", "#5d6d7e"];

  function config(spec) {
    var horizontal = !!spec.horizontal;
    var datasets = spec.datasets.map(function (set, i) {
      var colour = palette[i % palette.length];
      return {
        label: set.label,
        data: set.data,
        backgroundColor: spec.type === "line" ? colour : set.data.map(function (v, j) {
          return spec.datasets.length > 1 ? colour : palette[j % palette.length];
        }),
        borderColor: colour,
        spanGaps: true,
        tension: 0.2
      };
    });
    return {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        indexAxis: horizontal ? "y" : "x",
        plugins: { legend: { display: datasets.length > 1, position: "bottom" } },
        scales: {
          x: { stacked: !!spec.stacked, ticks: { autoSkip: true, maxRotation: 60 } },
          y: { stacked: !!spec.stacked, beginAtZero: true }
        }
      }
    };
  }

  function draw() {
    if (typeof window.Chart === "undefined") { return; }
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var source = document.getElementById(canvas.getAttribute("data-chart"));
      if (!source) { return; }
      var chart = new window.Chart(canvas, config(JSON.parse(source.textContent)));
      canvas.setAttribute("data-drawn", chart ? "true" : "false");
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
