// The doctor's pages: ask before destructive buttons, and jump to a date when one is picked.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  document.querySelectorAll("input[data-autosubmit]").forEach(function (input) {
    input.addEventListener("change", function () {
      if (input.value) {
        input.form.requestSubmit();
      }
    });
  });

  // The week grid: place cells from their data-grid-* attributes (no inline styles: CSP).
  var properties = { gridRows: "--rows", gridRow: "--row", gridSpan: "--span" };
  document.querySelectorAll("[data-grid-rows], [data-grid-row]").forEach(function (el) {
    Object.keys(properties).forEach(function (key) {
      if (el.dataset[key]) {
        el.style.setProperty(properties[key], el.dataset[key]);
      }
    });
  });

  // After a preview, bring it into view (it sits above the pattern form).
  var preview = document.getElementById("preview");
  if (preview) {
    preview.scrollIntoView({ block: "start" });
  }
})();
