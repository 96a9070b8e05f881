// Demo page only: each example button asks its own text through the widget's
// "newsqa:ask" event, so the page needs no inline script (CSP: script-src 'self').
(function () {
  "use strict";
  document.querySelectorAll(".newsqa-demo-example").forEach(function (button) {
    button.addEventListener("click", function () {
      var question = button.getAttribute("data-question") || button.textContent;
      document.dispatchEvent(new CustomEvent("newsqa:ask", { detail: { question: question } }));
    });
  });

  // The figure panel: the timeline as a list (text only) next to its chart (an SVG image).
  var form = document.querySelector(".newsqa-demo-figure-form");
  if (!form) return;
  var list = document.querySelector(".newsqa-demo-figure-timeline");
  var chart = document.querySelector(".newsqa-demo-figure-chart");
  var csvLink = document.querySelector(".newsqa-demo-figure-csv");
  function show(query) {
    var q = encodeURIComponent(query);
    chart.src = "/v1/figures/chart.svg?q=" + q;
    csvLink.href = "/v1/figures?format=csv&q=" + q;
    fetch("/v1/figures?q=" + q).then(function (r) { return r.json(); }).then(function (body) {
      list.textContent = "";
      var rows = Array.isArray(body.appearances) ? body.appearances : [];
      if (!rows.length) {
        var none = document.createElement("li");
        none.textContent = body.note || (typeof body.detail === "string" ? body.detail : "No figure found.");
        list.appendChild(none);
      }
      rows.forEach(function (a) {
        var item = document.createElement("li");
        var where = a.section === "body" ? "body" : "update " + a.update_index;
        item.textContent = "[" + a.marker + "] " + a.stated + " \u00b7 " + (a.timestamp || "time unknown") +
          " \u00b7 " + where + ": \u201c" + a.quote + "\u201d";
        list.appendChild(item);
      });
    }).catch(function () { list.textContent = "Couldn't load the figure timeline."; });
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var value = form.querySelector("input").value.trim();
    if (value) show(value);
  });
  show(form.querySelector("input").value);
})();
