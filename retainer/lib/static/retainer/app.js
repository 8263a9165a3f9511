// Focus management on every page (base.html loads this file with defer; no inline script,
// the CSP forbids it). See docs/accessibility.md.
//
// - A refused form: the error summary (#error-summary) takes focus, so its errors are read
//   out first; its links move focus to the field they name.
// - After an action (post/redirect/get): the message saying what happened (#messages) takes
//   focus instead of the top of the page.
// - An element marked data-focus-on-load takes focus otherwise (a page may name one).
(function () {
  "use strict";

  function focusFirst() {
    var target =
      document.getElementById("error-summary") ||
      document.getElementById("messages") ||
      document.querySelector("[data-focus-on-load]");
    if (!target) return;
    // A page opened at a fragment (#reply) keeps its place; the message is still read out
    // when the user tabs past it.
    if (window.location.hash && target.id === "messages") return;
    target.focus();
  }

  function followSummaryLink(event) {
    var link = event.target.closest && event.target.closest(".error-summary a[href^='#']");
    if (!link) return;
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) return;
    event.preventDefault();
    // The label above the field stays in view, so the user sees what the field is for.
    var label = field.id ? document.querySelector("label[for='" + CSS.escape(field.id) + "']") : null;
    (label || field).scrollIntoView({ block: "center" });
    field.focus({ preventScroll: true });
  }

  document.addEventListener("click", followSummaryLink);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusFirst);
  } else {
    focusFirst();
  }
})();
