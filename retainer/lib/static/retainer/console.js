// The agent console's keyboard shortcuts, SLA countdowns and running timer. No inline
// script anywhere (CSP): this file is loaded with defer and reads data-* attributes.
(function () {
  "use strict";

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  function click(selector) {
    var el = document.querySelector(selector);
    if (el) { el.click(); return true; }
    return false;
  }

  function focusReply(internal) {
    var body = document.querySelector("#reply textarea");
    var box = document.querySelector("#reply input[type=checkbox]");
    if (!body) return;
    if (box) box.checked = internal;
    body.focus();
    body.scrollIntoView({ block: "center" });
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var dialog = document.getElementById("shortcuts");
    switch (event.key) {
      case "?":
        if (dialog && !dialog.open) dialog.showModal();
        break;
      case "j":
        click("[data-shortcut=j]") || (window.location.href = "/console/cases/next/");
        break;
      case "r":
        focusReply(false);
        break;
      case "n":
        focusReply(true);
        break;
      case "a":
        click("#assign-me");
        break;
      case "t":
        click("#timer-toggle");
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  function human(ms) {
    var negative = ms < 0;
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var text = minutes >= 60 ? Math.floor(minutes / 60) + " h " + (minutes % 60) + " min" : minutes + " min";
    return negative ? "overdue by " + text : "in " + text;
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      var countdown = el.querySelector(".countdown");
      if (countdown) countdown.textContent = "(" + human(due - now) + ")";
      if (due <= now) el.classList.add("sla-breached");
    });
    document.querySelectorAll("[data-since]").forEach(function (el) {
      var since = Date.parse(el.getAttribute("data-since"));
      var out = el.parentElement.querySelector(".elapsed");
      var minutes = Math.max(0, Math.floor((now - since) / 60000));
      if (out) out.textContent = "· " + Math.floor(minutes / 60) + ":" + String(minutes % 60).padStart(2, "0") + " elapsed";
    });
  }

  tick();
  window.setInterval(tick, 30000);
})();
