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
  // Copy buttons (a one-time invitation link): shown only when the clipboard can be written;
  // without JavaScript the link stays selectable in its read-only field.
  function copyStatus(btn, text) {
    var box = btn.closest("section");
    var st = box ? box.querySelector("[data-copy-status]") : null;
    if (st) { st.textContent = text; }
  }
  if (navigator.clipboard && window.isSecureContext) {
    document.querySelectorAll("[data-copy]").forEach(function (b) { b.hidden = false; });
  }
  document.addEventListener("click", function (ev) {
    var t = ev.target;
    var btn = t instanceof Element ? t.closest("[data-copy]") : null;
    if (!btn) { return; }
    var src = document.getElementById(btn.getAttribute("data-copy"));
    if (!src) { return; }
    ev.preventDefault();
    navigator.clipboard.writeText(src.value).then(function () {
      copyStatus(btn, "Link copied to the clipboard.");
    }, function () {
      src.select();
      copyStatus(btn, "Copying failed: the link is selected, copy it with Ctrl+C (or Cmd+C).");
    });
  });
  // A table too wide for its frame scrolls sideways: make the frame reachable by keyboard and
  // name it, so keyboard users can scroll it too (WCAG 2.1.1).
  function labelScrollRegions() {
    document.querySelectorAll(".table-wrap").forEach(function (w) {
      var scrolls = w.scrollWidth > w.clientWidth + 1;
      if (scrolls && !w.hasAttribute("tabindex")) {
        var caption = w.querySelector("caption");
        w.setAttribute("tabindex", "0");
        w.setAttribute("role", "region");
        w.setAttribute("aria-label", caption ? caption.textContent.trim() : "Table, scrolls sideways");
        w.setAttribute("data-scroll-region", "");
      } else if (!scrolls && w.hasAttribute("data-scroll-region")) {
        ["tabindex", "role", "aria-label", "data-scroll-region"].forEach(function (a) { w.removeAttribute(a); });
      }
    });
  }
  labelScrollRegions();
  var resizeTimer = 0;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(labelScrollRegions, 100);
  });
  document.addEventListener("htmx:afterSettle", labelScrollRegions);
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
