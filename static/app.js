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
      copyStatus(btn, btn.getAttribute("data-copied") || "Link copied to the clipboard.");
    }, function () {
      src.select();
      copyStatus(btn, btn.getAttribute("data-copy-failed") || "Copying failed: the link is selected, copy it with Ctrl+C (or Cmd+C).");
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
  // A page that opens with a verdict or an error summary (a refused save) moves focus there,
  // so it is read first and in view (the server marks it; no inline script).
  var first = document.querySelector("[data-autofocus]");
  if (first) {
    first.focus();
  }

  // Busy state of slow buttons (a token test can take seconds): disabled, aria-busy and the
  // label in data-busy, for HTMX requests and for plain form submits.
  var saved = new WeakMap();
  function busy(btn, on) {
    if (!(btn instanceof HTMLElement) || !btn.hasAttribute("data-busy")) return;
    if (on && !saved.has(btn)) {
      saved.set(btn, Array.prototype.slice.call(btn.childNodes));
      btn.setAttribute("aria-busy", "true");
      btn.setAttribute("aria-disabled", "true");
      btn.textContent = btn.getAttribute("data-busy");
      btn.classList.add("is-busy");
    } else if (!on && saved.has(btn)) {
      btn.replaceChildren.apply(btn, saved.get(btn));
      saved.delete(btn);
      btn.removeAttribute("aria-busy");
      btn.removeAttribute("aria-disabled");
      btn.classList.remove("is-busy");
      btn.disabled = false;
    }
  }
  function busyButtonOf(elt) {
    if (!(elt instanceof Element)) return null;
    if (elt.matches("[data-busy]")) return elt;
    return elt.querySelector("[data-busy]");
  }
  document.addEventListener("htmx:beforeRequest", function (ev) {
    var btn = busyButtonOf(ev.detail && ev.detail.elt);
    busy(btn, true);
    if (btn) btn.disabled = true;
  });
  document.addEventListener("htmx:afterRequest", function (ev) {
    busy(busyButtonOf(ev.detail && ev.detail.elt), false);
  });
  document.addEventListener("submit", function (ev) {
    var btn = ev.submitter;
    if (ev.defaultPrevented || !btn || !btn.hasAttribute("data-busy")) return;
    if (btn.hasAttribute("data-hx-post")) return; // HTMX handles it (above)
    busy(btn, true);
    // Disabled after the form data is taken, so the button's own name/value is still sent.
    setTimeout(function () { btn.disabled = true; }, 0);
  });
  // Back from the browser cache (bfcache): not busy any more.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("[data-busy][aria-busy]").forEach(function (b) { busy(b, false); });
  });

  // The token field's placeholder follows the provider (the fields above it are swapped in).
  document.addEventListener("htmx:afterSettle", function () {
    var pf = document.getElementById("provider-fields");
    var token = document.getElementById("token");
    if (pf && token && pf.hasAttribute("data-token-placeholder")) {
      token.setAttribute("placeholder", pf.getAttribute("data-token-placeholder"));
    }
  });

  // A list row re-tested in place is replaced: keep focus on its Test button.
  var rowTested = null;
  document.addEventListener("htmx:beforeRequest", function (ev) {
    var elt = ev.detail && ev.detail.elt;
    var row = elt instanceof Element ? elt.closest("tr[id^='row-']") : null;
    rowTested = row ? row.id : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!rowTested) return;
    var row = document.getElementById(rowTested);
    rowTested = null;
    var btn = row && row.querySelector("[data-busy]");
    if (btn) btn.focus();
    var said = row && row.querySelector("[data-row-flash]");
    var box = document.getElementById("messages");
    if (said && box) {
      var p = document.createElement("p");
      p.className = "flash";
      p.textContent = said.textContent;
      box.replaceChildren(p);
    }
  });

  // Setup: the organization's URL slug follows its name until the user types one.
  var orgName = document.getElementById("org_name");
  var orgSlug = document.getElementById("org_slug");
  if (orgName && orgSlug) {
    var typed = orgSlug.value !== "";
    orgSlug.addEventListener("input", function () { typed = orgSlug.value !== ""; });
    orgName.addEventListener("input", function () {
      if (typed) return;
      orgSlug.value = orgName.value.normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
        .toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40);
    });
  }

  // Help links built from a typed field (the token form): the server URL or the Bitbucket
  // workspace. The same rules as src/web/view/token_help.rs: https only, no credentials, query
  // or fragment; a workspace ID of letters, digits, - and _.
  function linkBase(li, value) {
    var v = value.trim();
    if (li.getAttribute("data-link-from") === "workspace") {
      return /^[A-Za-z0-9_-]+$/.test(v) ? "https://bitbucket.org/" + v : null;
    }
    var u;
    try { u = new URL(v); } catch (e) { return null; }
    if (u.protocol !== "https:" || !u.hostname || u.username || u.password || u.search || u.hash
        || v.indexOf("?") >= 0 || v.indexOf("#") >= 0) return null;
    if (li.hasAttribute("data-link-origin-only")) return u.origin;
    return u.origin + u.pathname.replace(/\/+$/, "");
  }
  document.addEventListener("input", function (ev) {
    var field = ev.target;
    if (!(field instanceof HTMLInputElement) || (field.id !== "url" && field.id !== "workspace")) return;
    document.querySelectorAll("[data-link-from='" + field.id + "']").forEach(function (li) {
      var a = li.querySelector("a");
      var missing = li.querySelector("[data-link-missing]");
      var base = linkBase(li, field.value);
      if (!a || !missing) return;
      if (base) a.setAttribute("href", base + li.getAttribute("data-link-path"));
      a.hidden = !base;
      missing.hidden = !!base;
    });
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
