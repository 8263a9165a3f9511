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

  // Each user's shortcuts (WCAG 2.1.4): off, or remapped, on their preferences page. The
  // server renders them in <meta name="retainer-shortcuts" content='{"enabled": …, "keys":
  // {action: key}}'>; without it (or unreadable) the defaults apply.
  var DEFAULT_KEYS = { next: "j", reply: "r", note: "n", assign: "a", timer: "t", help: "?" };

  function shortcutSettings() {
    var meta = document.querySelector('meta[name="retainer-shortcuts"]');
    var settings = { enabled: true, keys: DEFAULT_KEYS };
    if (!meta) return settings;
    try {
      var parsed = JSON.parse(meta.getAttribute("content"));
      settings.enabled = parsed.enabled !== false;
      settings.keys = Object.assign({}, DEFAULT_KEYS, parsed.keys || {});
    } catch (e) { /* keep the defaults */ }
    return settings;
  }

  var ACTIONS = {
    help: function () {
      var dialog = document.getElementById("shortcuts");
      if (dialog && !dialog.open) dialog.showModal();
    },
    next: function () {
      click("[data-shortcut=next]") || (window.location.href = "/console/cases/next/");
    },
    reply: function () { focusReply(false); },
    note: function () { focusReply(true); },
    assign: function () { click("#assign-me"); },
    timer: function () { click("#timer-toggle"); }
  };

  var shortcuts = shortcutSettings();
  var actionFor = {};
  Object.keys(shortcuts.keys).forEach(function (action) {
    actionFor[shortcuts.keys[action]] = action;
  });

  // Shown keys follow the user's choice: <kbd data-shortcut-key="next">j</kbd> prints the
  // user's key for "next"; with shortcuts off no key does anything, so no hint is shown.
  document.querySelectorAll("[data-shortcut-key]").forEach(function (el) {
    var key = shortcuts.keys[el.getAttribute("data-shortcut-key")];
    if (!shortcuts.enabled || !key) {
      el.hidden = true;
      return;
    }
    el.textContent = key;
  });

  if (shortcuts.enabled) {
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
      var action = actionFor[event.key];
      if (!action || !ACTIONS[action]) return;
      ACTIONS[action]();
      event.preventDefault();
    });
  }

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
