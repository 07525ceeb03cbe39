// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  // Print buttons (the inventory) without inline handlers, which the CSP forbids.
  document.addEventListener("click", function (ev) {
    var t = ev.target;
    if (t instanceof Element && t.closest("[data-print]")) {
      ev.preventDefault();
      window.print();
    }
  });
  // After HTMX swaps a result in, move focus to it so screen readers and keyboards follow.
  document.addEventListener("htmx:afterSwap", function (ev) {
    var el = ev.detail && ev.detail.target;
    if (el && el.id === "test-result") {
      var r = el.querySelector("[data-status]");
      if (r) {
        r.setAttribute("tabindex", "-1");
        r.focus();
      }
    }
  });
})();
