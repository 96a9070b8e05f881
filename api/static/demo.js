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
})();
